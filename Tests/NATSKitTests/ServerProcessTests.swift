import Foundation
@testable import NATSTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("The test server process", .timeLimit(.minutes(1)))
struct ServerProcessTests {
    @Test("a picked port another listener took first is replaced by a free one; the server starts")
    func takenPickedPortIsReplaced() async throws {
        let (listener, takenPort) = try listenOnFreePort()
        defer { close(listener) }
        let server = try await NATSServerProcess.start(NATSServerProcess.Configuration(), firstPickedPort: takenPort)
        #expect(server.port != takenPort)
        #expect(server.isRunning)
        await server.stop()
    }

    @Test("a configured port that is taken is not replaced: start fails naming the bind error")
    func takenConfiguredPortFails() async throws {
        let (listener, takenPort) = try listenOnFreePort()
        defer { close(listener) }
        await #expect {
            _ = try await NATSServerProcess.start(NATSServerProcess.Configuration(port: takenPort))
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

    /// A listening socket on a free loopback port, held until closed.
    private func listenOnFreePort() throws -> (Int32, Int) {
        for _ in 0..<20 {
            let port = try FreePort.pick()
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port)).bigEndian
            address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound == 0, listen(descriptor, 1) == 0 { return (descriptor, port) }
            close(descriptor)
        }
        throw POSIXError(.EADDRINUSE)
    }
}
