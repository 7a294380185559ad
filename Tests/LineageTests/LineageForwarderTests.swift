import FactoryEngine
import Foundation
import Lineage
import Logging
import SimulatorKit
import Synchronization
import Testing

/// The forwarder's decisions, against a real local HTTP endpoint: JetStream's redelivery is
/// played by calling it again with the next delivery count until it acknowledges.
@Suite("Lineage forwarder", .serialized)
struct LineageForwarderTests {
    final class RecordingDeadLetters: LineageDeadLetters {
        let recorded = Mutex<[(identity: String?, status: Int)]>([])
        func record(_ event: [UInt8], identity: String?, status: Int, reason: String) async throws {
            recorded.withLock { $0.append((identity, status)) }
        }
    }

    static func event(_ index: Int, job: String = "hightouch.p") -> (bytes: [UInt8], identity: String) {
        let context = LineageRunContext(workspace: "public", resource: "p", type: "hightouch", integration: "HIGHTOUCH", jobType: "SYNC", commandID: "command-\(index)")
        var event = LineageRunEvent(index.isMultiple(of: 2) ? .start : .complete, context: context, at: Date(timeIntervalSince1970: 1_700_000_000), datasets: nil)
        event.jobName = job
        return (event.encoded, event.identity)
    }

    static func forwarder(_ url: String, token: String? = nil, deadLetters: RecordingDeadLetters = RecordingDeadLetters()) throws -> LineageForwarder {
        LineageForwarder(
            endpoint: HTTPLineageEndpoint(url: try #require(URL(string: url)), token: token), deadLetters: deadLetters, requestTimeout: .seconds(2),
            baseBackoff: .milliseconds(10), maxBackoff: .milliseconds(80), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    @Test("an endpoint failing every third request: every event arrives exactly once, acknowledged only after a 2xx, with the bearer token")
    func flakyEndpoint() async throws {
        let receiver = LineageReceiver(failEvery: 3, token: "lineage-secret")
        let url = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let forwarder = try Self.forwarder(url, token: "lineage-secret")
        for index in 0..<30 {
            let (bytes, identity) = Self.event(index)
            var delivery = 1
            while true {
                let disposition = await forwarder.handle(payload: bytes, identity: identity, deliveryCount: delivery)
                if disposition == .ack { break }
                guard case .nak(let delay) = disposition else { throw Failure("\(disposition)") }
                #expect(delay >= .milliseconds(10) && delay <= .milliseconds(100))
                delivery += 1
                #expect(delivery < 10)
            }
        }
        let state = receiver.snapshot
        #expect(state.acceptedByIdentity.count == 30 && state.acceptedByIdentity.values.allSatisfy { $0 == 1 })
        #expect(state.failed >= 10, "a third of the requests failed: \(state.failed) of \(state.requests)")
        #expect(state.authorizations == ["Bearer lineage-secret"])
    }

    @Test("a refusal for good (400, 401) is dead-lettered and acknowledged; 408, 429 and 5xx are retried")
    func refusals() async throws {
        let receiver = LineageReceiver(refuseJob: "hightouch.refused", token: "right")
        let url = try await receiver.start()
        defer { Task { await receiver.stop() } }
        let deadLetters = RecordingDeadLetters()
        let refused = Self.event(1, job: "hightouch.refused")
        #expect(await (try Self.forwarder(url, token: "right", deadLetters: deadLetters)).handle(payload: refused.bytes, identity: refused.identity, deliveryCount: 1) == .ack)
        let unauthorized = Self.event(2)
        #expect(await (try Self.forwarder(url, token: "wrong", deadLetters: deadLetters)).handle(payload: unauthorized.bytes, identity: unauthorized.identity, deliveryCount: 1) == .ack)
        #expect(deadLetters.recorded.withLock { $0.map(\.status) } == [400, 401])
        #expect(deadLetters.recorded.withLock { $0.map(\.identity) } == [refused.identity, unauthorized.identity])
        #expect(receiver.snapshot.accepted.isEmpty)
    }

    @Test("an unreachable endpoint: a quick nak with a backoff that doubles per delivery up to the maximum, nothing dead-lettered")
    func unreachable() async throws {
        let receiver = LineageReceiver()
        let url = try await receiver.start()
        await receiver.stop()  // the port is closed now
        let deadLetters = RecordingDeadLetters()
        let forwarder = try Self.forwarder(url, deadLetters: deadLetters)
        let event = Self.event(1)
        let started = ContinuousClock.now
        let disposition = await forwarder.handle(payload: event.bytes, identity: event.identity, deliveryCount: 1)
        guard case .nak = disposition else { throw Failure("\(disposition)") }
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(deadLetters.recorded.withLock { $0.isEmpty })
        #expect(forwarder.backoff(1) >= .milliseconds(10) && forwarder.backoff(1) < .milliseconds(13))
        #expect(forwarder.backoff(3) >= .milliseconds(40) && forwarder.backoff(3) < .milliseconds(50))
        #expect(forwarder.backoff(30) >= .milliseconds(80) && forwarder.backoff(30) <= .milliseconds(100))
    }

    @Test("the endpoint's description never shows user info; the configuration's neither, nor the token")
    func noSecrets() throws {
        let endpoint = HTTPLineageEndpoint(url: try #require(URL(string: "https://user:pw@marquez.example:5000/api/v1/lineage")), token: "tok-123")
        #expect("\(endpoint)" == "https://marquez.example:5000/api/v1/lineage")
        let configuration = try LineageConfiguration(environment: ["LINEAGE_HTTP_URL": "https://user:pw@marquez.example/api/v1/lineage", "LINEAGE_HTTP_TOKEN": "tok-123"])
        #expect(!"\(configuration)".contains("tok-123") && !"\(configuration)".contains("pw@"))
        #expect(throws: (any Error).self) { try LineageConfiguration(environment: ["LINEAGE_HTTP_TOKEN": "tok-123"]) }
        #expect(throws: (any Error).self) { try LineageConfiguration(environment: ["LINEAGE_HTTP_URL": "ftp://x/y"]) }
    }
}
