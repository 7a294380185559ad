import Foundation
@testable import NATSTestKit
import Testing

@Suite("The test server process", .timeLimit(.minutes(1)))
struct ServerProcessTests {
    @Test("a picked port another listener took first is replaced by a free one; the server starts")
    func takenPickedPortIsReplaced() async throws {
        let listener = try LoopbackListener()
        let server = try await NATSServerProcess.start(NATSServerProcess.Configuration(), firstPickedPort: listener.port)
        #expect(server.port != listener.port)
        #expect(server.isRunning)
        await server.stop()
    }

    @Test("a configured port that is taken is not replaced: start fails naming the bind error")
    func takenConfiguredPortFails() async throws {
        let listener = try LoopbackListener()
        await #expect {
            _ = try await NATSServerProcess.start(NATSServerProcess.Configuration(port: listener.port))
        } throws: { error in
            String(describing: error).contains("address already in use")
        }
    }

    @Test("a port is handed out once per process: one a stopped server will restart on is never picked again meanwhile")
    func portsAreNotReused() throws {
        // 1,000 picks among ~22,000 ports: random picks alone would repeat one almost surely.
        var seen: Set<Int> = []
        for _ in 0..<1_000 { seen.insert(try FreePort.pick()) }
        let run = try FreePort.pickRun(of: 3)
        #expect(seen.count == 1_000)
        #expect(seen.isDisjoint(with: run...(run + 2)))
    }
}
