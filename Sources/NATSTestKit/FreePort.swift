import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Free TCP ports on the loopback interface for servers that tests, chaos runs and the dev stack
/// start.
///
/// The ports come from below the kernel's ephemeral range (`ip_local_port_range`, usually
/// 32768–60999), never from it: outgoing connections take their local ports from that range, so a
/// server stopped and restarted on its port (a NATS restart in a fault test) could find it taken
/// by some client's connection in between ("address already in use"). Below the range only
/// another listener can take a port, and they are chosen at random among some 20,000.
public enum FreePort {
    /// Every port this process has handed out. A server a test stops and restarts on its port
    /// leaves it free in between; another test of the same process must not pick it then (the
    /// restart would find it taken), so a port is handed out once per process.
    private static let handedOut = Mutex<Set<Int>>([])

    /// One free port.
    public static func pick() throws -> Int {
        try pick(count: 1)[0]
    }

    /// `count` distinct free ports (held open together while choosing, so they differ).
    public static func pick(count: Int) throws -> [Int] {
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        var ports: [Int] = []
        let range = listenerRange()
        while ports.count < count {
            var found: (descriptor: Int32, port: Int)?
            for _ in 0..<200 {
                let candidate = Int.random(in: range)
                if ports.contains(candidate) || handedOut.withLock({ $0.contains(candidate) }) { continue }
                if let descriptor = bind(port: candidate) {
                    found = (descriptor, candidate)
                    break
                }
            }
            guard let found else { throw POSIXError(.EADDRINUSE) }
            descriptors.append(found.descriptor)
            ports.append(found.port)
        }
        handedOut.withLock { $0.formUnion(ports) }
        return ports
    }

    /// A port `p` with `p + 1 … p + count - 1` free as well (the dev stack's metric ports).
    public static func pickRun(of count: Int) throws -> Int {
        for _ in 0..<50 {
            let base = try pick()
            let run = base...(base + count - 1)
            if run.upperBound <= 65_535, !handedOut.withLock({ taken in run.dropFirst().contains(where: taken.contains) }), run.allSatisfy(isFree) {
                handedOut.withLock { $0.formUnion(run) }
                return base
            }
        }
        throw POSIXError(.EADDRINUSE)
    }

    /// Whether `port` can be bound on every interface right now.
    public static func isFree(_ port: Int) -> Bool {
        guard let descriptor = bind(port: port, address: INADDR_ANY) else { return false }
        close(descriptor)
        return true
    }

    /// Ports from 10000 up to just below the ephemeral range; the range as the kernel reports it.
    static func listenerRange() -> ClosedRange<Int> {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let bounds = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        let ephemeralLow = bounds.first ?? 32_768
        // A machine whose ephemeral range starts low leaves no room below it: use the top instead.
        if ephemeralLow > 12_000 { return 10_000...(ephemeralLow - 1) }
        let ephemeralHigh = bounds.count > 1 ? bounds[1] : 60_999
        return ephemeralHigh < 64_000 ? (ephemeralHigh + 1)...65_000 : 10_000...65_000
    }

    /// A socket bound to `address`:`port` (127.0.0.1 by default), or nil if the port is taken.
    private static func bind(port: Int, address host: in_addr_t = inet_addr("127.0.0.1")) -> Int32? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr = in_addr(s_addr: host)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(descriptor)
            return nil
        }
        return descriptor
    }
}
