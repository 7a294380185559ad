import Foundation
import NATSKit
import NATSTestKit

/// The NATS side of a chaos run: one nats-server, or a 3-node JetStream cluster, each a real
/// process on free loopback ports that can be killed with SIGKILL and restarted on the same port
/// and store.
public final class ChaosNATS: Sendable {
    public let nodes: [NATSServerProcess]
    public let clustered: Bool
    private let children: ChildProcesses

    private init(nodes: [NATSServerProcess], clustered: Bool, children: ChildProcesses) {
        self.nodes = nodes
        self.clustered = clustered
        self.children = children
    }

    /// Chaos servers live in their own directories: `scripts/test` (of any worktree) cleans up
    /// leftover `natskit-test-*` servers, and must not take a chaos run's servers with them.
    static let directoryPrefix = "chaos-nats-server-"

    /// Comma-separated client URLs of every node (NATS_URL).
    public var urlList: String { nodes.map(\.url).joined(separator: ",") }
    public var urls: [String] { nodes.map(\.url) }

    public static func single(executable: String?, children: ChildProcesses) async throws -> ChaosNATS {
        let server = try await NATSServerProcess.start(.init(executable: executable, directoryPrefix: directoryPrefix))
        if let pid = server.processIdentifier { children.add(pid) }
        return ChaosNATS(nodes: [server], clustered: false, children: children)
    }

    /// Three nodes `n1`…`n3` in cluster `chaos`, each routing to the others.
    public static func cluster(executable: String?, children: ChildProcesses) async throws -> ChaosNATS {
        let ports = try FreePort.pick(count: 6)
        let clusterPorts = Array(ports[0..<3])
        let clientPorts = Array(ports[3..<6])
        var nodes: [NATSServerProcess] = []
        do {
            for index in 0..<3 {
                let routes = clusterPorts.enumerated().filter { $0.offset != index }.map { "nats-route://127.0.0.1:\($0.element)" }
                let extra = """
                    cluster {
                      name: chaos
                      listen: 127.0.0.1:\(clusterPorts[index])
                      routes: [\(routes.joined(separator: ", "))]
                    }
                    """
                let node = try await NATSServerProcess.start(
                    .init(
                        executable: executable, port: clientPorts[index], serverName: "n\(index + 1)", extraConfiguration: extra,
                        directoryPrefix: directoryPrefix
                    )
                )
                if let pid = node.processIdentifier { children.add(pid) }
                nodes.append(node)
            }
        } catch {
            for node in nodes { await node.stop() }
            throw error
        }
        return ChaosNATS(nodes: nodes, clustered: true, children: children)
    }

    /// Waits until JetStream answers with `replicas` copies: a probe bucket can be created and
    /// deleted (in a cluster, this needs a meta leader and a quorum).
    public func waitForJetStream(replicas: Int, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var lastError = "no attempt"
        while ContinuousClock.now < deadline {
            do {
                let connection = try await NATSConnection.connect(NATSConfiguration(servers: urls, name: "chaos-probe", initialConnectTimeout: .seconds(5)))
                defer { Task { await connection.close() } }
                let jetStream = try await connection.jetStream()
                _ = try await jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: "chaos-probe", history: 1, replicas: replicas))
                try await jetStream.deleteKeyValue("chaos-probe")
                await connection.close()
                return
            } catch {
                lastError = "\(error)"
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        throw ChaosError("JetStream was not ready with \(replicas) replica(s) within \(timeout): \(lastError)")
    }

    /// SIGKILL one node (its store stays).
    public func kill(node index: Int) async {
        let node = nodes[index]
        let pid = node.processIdentifier
        await node.kill()
        if let pid { children.remove(pid) }
    }

    /// Starts a killed node again on the same port and store.
    public func restart(node index: Int) async throws {
        let node = nodes[index]
        try await node.restart()
        if let pid = node.processIdentifier { children.add(pid) }
    }

    /// The node index that leads `stream` (clusters), read from the stream info's cluster section.
    public func leader(of stream: String, using connection: NATSConnection) async -> Int? {
        guard clustered,
            let reply = try? await connection.request([], to: "$JS.API.STREAM.INFO.\(stream)", timeout: .seconds(3)),
            let object = try? JSONSerialization.jsonObject(with: Data(reply.payload)) as? [String: Any],
            let cluster = object["cluster"] as? [String: Any],
            let leader = cluster["leader"] as? String,
            let number = Int(leader.dropFirst())
        else { return nil }
        return (1...nodes.count).contains(number) ? number - 1 : nil
    }

    public func stop() async {
        for node in nodes {
            let pid = node.processIdentifier
            await node.stop()
            if let pid { children.remove(pid) }
        }
    }
}

public struct ChaosError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
