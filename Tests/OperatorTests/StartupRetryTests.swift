import Logging
import NATSKit
@testable import FactoryEngine
import FactoryState
import Synchronization
import Testing

/// Found by `scripts/chaos nats-cluster`: a replica restarted while the cluster elected a new
/// leader for the command stream exited ("cannot start: create or update stream … Timeout").
/// Start-up steps against JetStream now ride out passing failures for a bounded time.
@Suite("Start-up retries")
struct StartupRetryTests {
    let logger = Logger(label: "test")

    @Test("a step that times out a few times succeeds once JetStream answers")
    func passingFailuresAreRetried() async throws {
        let calls = Mutex(0)
        let value = try await OperatorRuntime.retryingStartup("provision", logger: logger, patience: .seconds(10)) { () async throws -> Int in
            let call = calls.withLock { calls -> Int in
                calls += 1
                return calls
            }
            if call < 3 { throw NATSError(code: .timeout, operation: "create or update stream x", message: "Timeout") }
            if call == 3 { throw NATSError(code: .jetStream, operation: "create or update stream x", message: "unavailable", jetStreamErrorCode: 10008) }
            return 42
        }
        #expect(value == 42)
        #expect(calls.withLock { $0 } == 4)
    }

    @Test("a lasting or a permanent failure still stops start-up")
    func otherFailuresStop() async throws {
        let calls = Mutex(0)
        await #expect(throws: NATSError.self) {
            try await OperatorRuntime.retryingStartup("provision", logger: logger, patience: .seconds(10)) { () async throws -> Int in
                calls.withLock { $0 += 1 }
                throw NATSError(code: .permissionDenied, operation: "create or update stream x", message: "denied")
            }
        }
        #expect(calls.withLock { $0 } == 1, "a permanent error is not retried")
        let started = ContinuousClock.now
        await #expect(throws: NATSError.self) {
            try await OperatorRuntime.retryingStartup("provision", logger: logger, patience: .milliseconds(700)) { () async throws -> Int in
                throw NATSError(code: .timeout, operation: "create or update stream x", message: "Timeout")
            }
        }
        #expect(ContinuousClock.now - started < .seconds(5), "retries are bounded by the patience")
    }
}
