import FactoryModel
import Foundation
import JSONSchema
import NATSKit
import FactoryEngine
import FactoryState
import HightouchDriver
import Testing

/// No Docker engine runs here, so docker-compose.yml is checked two ways: against the Compose
/// specification's JSON schema (draft-07, with the pinned Python jsonschema), and against the
/// code: every variable, port, host name and command in it must be one the executables accept.
@Suite("docker-compose.yml and the Dockerfile agree with the Compose specification and the code")
struct ComposeFileTests {
    static let resources = CLIProcess.packageRoot.appendingPathComponent("Tests/FactoryCTLTests/Resources")
    static let python = CLIProcess.packageRoot.appendingPathComponent(".venv/bin/python")

    /// Runs the schema checker on `instance` (a JSON value); its exit status and output.
    static func checkSchema(_ instance: Data) async throws -> CLIProcess.Outcome {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("compose-\(UUID().uuidString).json")
        try instance.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await CLIProcess.run(
            [resources.appendingPathComponent("check_compose.py").path, resources.appendingPathComponent("compose-spec/compose-spec.json").path, file.path],
            binary: python, timeout: .seconds(60))
    }

    @Test("valid against the Compose specification's schema; the checker does reject a broken file")
    func schema() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python.path), "run scripts/bootstrap: it installs .venv with the pinned jsonschema")
        let compose = try ComposeFile.load()
        let valid = try await Self.checkSchema(Data(compose.json.serialized().utf8))
        #expect(valid.status == 0, "\(valid)")
        #expect(valid.output == "valid\n", "\(valid)")

        var broken = try #require(try JSONSerialization.jsonObject(with: Data(compose.json.serialized().utf8)) as? [String: Any])
        var services = try #require(broken["services"] as? [String: Any])
        var operatorService = try #require(services["operator-1"] as? [String: Any])
        operatorService["ports"] = 30001
        operatorService["restart_policy"] = "always"
        services["operator-1"] = operatorService
        broken["services"] = services
        let invalid = try await Self.checkSchema(try JSONSerialization.data(withJSONObject: broken))
        #expect(invalid.status == 1, "\(invalid)")
        #expect(invalid.output.contains("/services/operator-1/ports: 30001 is not of type 'array'"), "\(invalid)")
        #expect(invalid.output.contains("/services/operator-1: 'restart_policy' does not match any of the regexes"), "\(invalid)")
    }

    @Test("a 3-node JetStream cluster: JetStream on each node, one cluster name, routes to all three, server names = service names")
    func natsCluster() throws {
        let compose = try ComposeFile.load()
        let nats = compose.services.filter { $0.image?.hasPrefix("nats:") == true }
        #expect(nats.map(\.name).sorted() == ["nats-1", "nats-2", "nats-3"])
        let routes = Set(nats.map { "nats://\($0.name):6222" })
        for node in nats {
            #expect(node.hasFlag("jetstream"), "\(node.name)")
            #expect(node.flag("cluster_name") == "factory-nats", "\(node.name)")
            #expect(node.flag("cluster") == "nats://0.0.0.0:6222", "\(node.name)")
            #expect(Set((node.flag("routes") ?? "").split(separator: ",").map(String.init)) == routes, "\(node.name)")
            #expect(node.flag("server_name") == node.name)
            #expect(node.flag("store_dir") == "/data")
            #expect(node.ports.contains { $0.container == 4222 }, "\(node.name) publishes its client port")
            #expect(node.healthcheck.contains { $0.contains("127.0.0.1:\(node.flag("http_port") ?? "?")/healthz") }, "\(node.name)")
        }
    }

    @Test("operator services: every variable is one OperatorConfiguration reads and the docs list; ports, hosts, secrets line up")
    func operatorEnvironment() async throws {
        let compose = try ComposeFile.load()
        let operators = compose.services.filter { $0.command.first?.hasSuffix("/hightouch-operator") == true }
        #expect(operators.count >= 2, "two or more replicas")
        let simulator = try compose.service("hightouch-simulator")
        let natsNodes = compose.services.filter { $0.image?.hasPrefix("nats:") == true }.map(\.name)
        let help = try await CLIProcess.run(["operator", "sync", "--help"], binary: CLIProcess.binary("hightouch-operator"))
        let readme = try String(contentsOf: CLIProcess.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var hostPorts: [Int] = []

        for service in operators {
            let environment = service.environment
            let configuration = try OperatorConfiguration(environment: environment, defaults: .hightouchOperator)
            let hightouch = try HightouchDriver.Configuration(environment: environment)
            #expect(configuration.nats.servers == natsNodes.sorted().map { "nats://\($0):4222" }, "\(service.name): NATS_URL lists the three servers")
            #expect(configuration.jetStreamReplicas == 3, "\(service.name): streams and KV with 3 replicas")
            #expect(configuration.electionClusterSize == operators.count, "\(service.name): ELECTION_CLUSTER_SIZE is the replica count")

            // METRIC_PORT is the published container port and the healthcheck's.
            let metric = try #require(service.ports.first { $0.container == configuration.metricPort }, "\(service.name) publishes METRIC_PORT \(configuration.metricPort)")
            hostPorts.append(metric.host)
            #expect(service.healthcheck.contains("http://127.0.0.1:\(configuration.metricPort)/readyz"), "\(service.name)")

            // The vendor URL names the simulator service, its port and its token.
            let url = try #require(URL(string: hightouch.serviceURL))
            #expect(url.host == simulator.name)
            #expect(url.port.map(String.init) == simulator.flag("port"))
            #expect(hightouch.basePath == "/api/v1")
            #expect(hightouch.secret == simulator.flag("token"))
            #expect(service.dependsOn.sorted() == (natsNodes + [simulator.name]).sorted())

            for (variable, value) in environment.sorted(by: { $0.key < $1.key }) {
                #expect(Self.isRead(variable, value: value, baseline: environment), "\(service.name): \(variable) is not a variable the operator reads")
                #expect(help.output.contains(variable), "\(variable) is missing from hightouch-operator operator sync --help")
                #expect(readme.contains("| \(variable) |") || readme.contains("| `\(variable)` |"), "\(variable) is missing from README.md's configuration table")
            }
        }
        #expect(Set(hostPorts).count == hostPorts.count, "each replica publishes its metrics on its own host port")
        let allHostPorts = compose.services.flatMap { $0.ports.map(\.host) }
        #expect(Set(allHostPorts).count == allHostPorts.count, "no host port is published twice")
    }

    /// Whether `hightouch-operator` reads `variable` (the process's settings, its deployment's
    /// names, the Hightouch driver's): an invalid value is refused naming it, or (for free text
    /// such as the secret) the value shows in the configuration.
    static func isRead(_ variable: String, value: String, baseline: [String: String]) -> Bool {
        var probe = baseline
        probe[variable] = "not a valid value"
        do {
            _ = try OperatorConfiguration(environment: probe, defaults: .hightouchOperator)
            _ = try DeploymentNames.read(from: probe, defaults: HightouchDriver.descriptor.names)
            let hightouch = try HightouchDriver.Configuration(environment: probe)
            switch variable {
            case "HIGHTOUCH_SERVICE_SECRET": return hightouch.secret == "not a valid value"
            default: return false
            }
        } catch {
            return error.variable == variable
        }
    }

    @Test("commands run the executables' real subcommands and options, at the paths the Dockerfile installs them")
    func commands() async throws {
        let compose = try ComposeFile.load()
        let dockerfile = try String(contentsOf: CLIProcess.packageRoot.appendingPathComponent("Dockerfile"), encoding: .utf8)
        let ours = compose.services.filter { $0.image == "factoryoperator:local" }
        #expect(ours.map(\.name).sorted() == ["hightouch-simulator", "operator-1", "operator-2"])
        for service in ours {
            #expect(service.builtHere, "\(service.name) builds the image from the Dockerfile")
            let command = service.command
            let executable = try #require(command.first)
            let name = (executable as NSString).lastPathComponent
            // Where the image puts it: an absolute path is copied there, a bare name is on PATH.
            if executable.hasPrefix("/") {
                #expect(dockerfile.contains("COPY --from=build /out/\(name) \(executable)\n"), "\(service.name): the Dockerfile installs \(executable)")
            } else {
                #expect(dockerfile.contains("COPY --from=build /out/\(name) /usr/local/bin/\(name)\n"), "\(service.name): the Dockerfile puts \(name) on PATH")
            }
            let words = command.dropFirst()
            let subcommands = Array(words.prefix { !$0.hasPrefix("-") })
            let help = try await CLIProcess.run(subcommands + ["--help"], binary: CLIProcess.binary(name))
            #expect(help.status == 0, "\(service.name): \(name) \(subcommands.joined(separator: " ")) is not a real subcommand: \(help)")
            for option in words.filter({ $0.hasPrefix("--") }) {
                let bare = option.split(separator: "=").first.map(String.init) ?? option
                #expect(help.output.contains(bare + " "), "\(service.name): \(name) \(subcommands.joined(separator: " ")) has no option \(bare)")
            }
            if let stateFile = service.flag("electionStateFile") {
                let directory = (stateFile as NSString).deletingLastPathComponent
                #expect(dockerfile.contains("--home-dir \(directory) --create-home factory"), "\(service.name): \(directory) exists and the image's user may write it")
            }
        }
        #expect(dockerfile.contains("FROM swift:6.3-bookworm AS build"))
        #expect(dockerfile.contains("libnats-dev"))
        #expect(dockerfile.contains("FROM debian:bookworm-slim"))
        #expect(dockerfile.contains("libnats3.4"))
        #expect(dockerfile.contains("curl"), "the healthchecks run curl")
        let dockerignore = try String(contentsOf: CLIProcess.packageRoot.appendingPathComponent(".dockerignore"), encoding: .utf8)
        #expect(dockerignore.contains(".build/") && dockerignore.contains(".venv/"))
    }

    @Test("the simulator serves on the port and token the operators use, and every depends_on names a service")
    func simulatorAndDependencies() throws {
        let compose = try ComposeFile.load()
        let simulator = try compose.service("hightouch-simulator")
        #expect(simulator.command.prefix(3) == ["factoryctl", "sim", "hightouch"])
        #expect(simulator.flag("host") == "0.0.0.0", "reachable from the other containers")
        let port = try #require(simulator.flag("port").flatMap(Int.init))
        #expect(simulator.ports.contains { $0.container == port })
        #expect(simulator.healthcheck.contains("http://127.0.0.1:\(port)/_admin/health"))
        for service in compose.services {
            for dependency in service.dependsOn {
                #expect(compose.serviceNames.contains(dependency), "\(service.name) depends on unknown \(dependency)")
            }
        }
    }
}
