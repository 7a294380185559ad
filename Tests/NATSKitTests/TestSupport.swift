import Foundation
import NATSKit
import NATSTestKit
import Testing

/// Connects to `server` with settings suited to tests (fast reconnects).
func connect(to server: NATSServerProcess, sendAsap: Bool = false, name: String = "natskit-tests") async throws -> NATSConnection {
    try await NATSConnection.connect(
        NATSConfiguration(
            servers: [server.url],
            name: name,
            connectTimeout: .seconds(2),
            initialConnectTimeout: .seconds(5),
            reconnect: .init(wait: .milliseconds(100), jitter: .milliseconds(50)),
            sendAsap: sendAsap
        )
    )
}

/// Runs `body` with a fresh server and a connection to it.
func withConnection<T>(_ body: (NATSConnection, NATSServerProcess) async throws -> T) async throws -> T {
    try await withNATSServer { server in
        let connection = try await connect(to: server)
        do {
            let result = try await body(connection, server)
            await connection.close()
            return result
        } catch {
            await connection.close()
            throw error
        }
    }
}

extension Array where Element == UInt8 {
    static func text(_ string: String) -> [UInt8] { Array(string.utf8) }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A unique name for streams, consumers and buckets, so tests never share state.
func uniqueName(_ prefix: String) -> String {
    prefix + "-" + UUID().uuidString.prefix(8).lowercased()
}

/// Expects `body` to throw a NATSError and returns it.
func expectNATSError(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> NATSError? {
    do {
        try await body()
        Issue.record("expected a NATSError, but nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch let error as NATSError {
        return error
    } catch {
        Issue.record("expected a NATSError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
