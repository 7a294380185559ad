import ArgumentParser
import FactoryConsole
import FactoryModel
import Foundation
import JSONSchema
import Logging
import NATSKit
import Pipelines

// MARK: - ConsoleCommand

/// `factoryctl console [--port 8088] [--host 127.0.0.1] [--allow-actions --console-token T]`
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the web console: resources, pipeline runs as live DAGs, lineage; read-only unless --allow-actions.",
        discussion: """
            Reads state only through NATS: one KV watch per state bucket (every resource type's, and the pipeline \
            runs in the pipeline bucket), shared by every page and fed to the pages as Server-Sent Events; status \
            queries for a resource's detail (as get -d); the lineage stream for lineage. Serves plain HTML, CSS and \
            JavaScript from factoryctl's resources: nothing is fetched from the internet.

            Without --allow-actions every request that would change state is refused (403) and the pages show no \
            buttons. With it, the pages can run a resource or pipeline and cancel a run; each such request must carry \
            the token (--console-token, or $CONSOLE_TOKEN; the page asks for it) and come from the console's own address \
            (its Origin). Keep --host on a loopback address unless the network in between is trusted: the console \
            speaks plain HTTP.
            """)

    @Option(help: ArgumentHelp("The port to serve on (0: a free one).", valueName: "port"))
    var port = 8088

    @Option(help: ArgumentHelp("The address to serve on.", valueName: "host"))
    var host = "127.0.0.1"

    @Flag(name: .customLong("allow-actions"), help: "Let the pages run resources and pipelines and cancel runs (needs --console-token).")
    var allowActions = false

    // Not --token: that is the NATS token of the connection options.
    @Option(name: .customLong("console-token"), help: ArgumentHelp("The token action requests must carry (default: $CONSOLE_TOKEN).", valueName: "token"))
    var consoleToken: String?

    @Option(name: .customLong("lineage-stream"), help: ArgumentHelp("The lineage stream (default: $LINEAGE_STREAM, else factory-lineage).", valueName: "stream"))
    var stream: String?

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run {
            let environment = CommandRunner.environment
            let settings = try connection.settings(environment: environment)
            let token = consoleToken ?? (allowActions ? environment["CONSOLE_TOKEN"] : nil)
            let configuration: ConsoleConfiguration
            do throws(ConsoleError) {
                configuration = try ConsoleConfiguration(
                    host: host, port: port, buckets: Self.buckets(settings), allowActions: allowActions, token: token
                ).validated()
            } catch {
                throw CLIError.invalidInput(error.message)
            }
            do {
                try ConsoleServer.checkWebFiles()
            } catch {
                throw CLIError.failed("\(error)")
            }
            let logger = Logger(label: "factoryctl-console")
            let state = ConsoleState(buckets: configuration.buckets, logger: logger)
            let client = try await FactoryClient.connect(settings)
            let backend = ConsoleClientBackend(client: client, lineageStream: stream ?? environment["LINEAGE_STREAM"] ?? "factory-lineage")
            let server: ConsoleServer
            do {
                server = try ConsoleServer(configuration: configuration, state: state, backend: backend, logger: logger)
            } catch {
                await client.close()
                throw CLIError.failed("\(error)")
            }
            state.start(connection: client.connection, timeout: settings.timeout)
            do {
                try await server.run { address in
                    Console.line("console: \(address) (\(allowActions ? "actions allowed with the token" : "read-only")); Ctrl-C stops it")
                }
            } catch {
                state.stop()
                await client.close()
                throw CLIError(.unavailable, "the console cannot serve on \(host):\(port): \(error); choose another --port")
            }
            state.stop()
            await client.close()
        }
    }

    /// Every built-in type's state bucket (or the one --state-bucket names).
    static func buckets(_ settings: ConnectionSettings) -> [ConsoleConfiguration.Bucket] {
        if let bucket = settings.stateBucketOverride {
            return [ConsoleConfiguration.Bucket(type: ConnectionSettings.defaultType, name: bucket)]
        }
        return BuiltInResourceTypes.names.map { ConsoleConfiguration.Bucket(type: $0, name: settings.stateBucket(for: $0)) }
    }
}

// MARK: - ConsoleClientBackend

/// The console's reads and actions through factoryctl's own client: the status query of
/// `get -d`, the stream reading of `lineage`, and the commands of `run` and `cancel`.
struct ConsoleClientBackend: ConsoleBackend {
    let client: FactoryClient
    let lineageStream: String

    func detail(workspace: String, name: String, type: String) async throws -> ResourceStatusView {
        try await client.resource(try Names.resource(name), workspace: try Names.workspace(workspace), type: type)
    }

    func lineageEvents(workspace: String, name: String, type: String) async throws -> (events: [JSONValue], children: [String: [JSONValue]]) {
        let all = try await LineageCommand.events(in: lineageStream, client: client)
        let namespace = "factory://\(workspace)"
        let job = "\(type).\(name)"
        return (LineageView.jobs(all, namespace: namespace, resource: name, type: type)[job] ?? [], LineageView.children(all, namespace: namespace, parentJob: job))
    }

    func run(workspace: String, name: String, type: String) async throws -> String {
        let envelope = CommandEnvelope.run(ResourceReference(name: try Names.resource(name), type: type), workspace: try Names.workspace(workspace), input: nil, event: nil)
        let result = try await CommandPublication.publish(envelope, messageID: RunCommand.messageID(for: envelope), client: client)
        return result.line
    }

    func cancel(workspace: String, name: String, type: String, run: String?) async throws -> String {
        let resource = try Names.resource(name)
        let space = try Names.workspace(workspace)
        let label = "\(workspace)/\(name)"
        var envelope = CommandEnvelope.cancel(ResourceReference(name: resource, type: type), workspace: space, mode: nil, run: nil)
        if type == PipelineNames.type {
            let reader = try await PipelineRunReader.open(client)
            let found: PipelineRunReader.Run?
            if let run {
                found = try await reader.run(workspace: space, pipeline: resource, id: run)
            } else {
                found = try await reader.runs(workspace: space, pipeline: resource).filter { !$0.run.state.isFinished }.last
            }
            guard let found else { throw CLIError.failed("\(label): no run \(run ?? "in progress") to cancel") }
            guard !found.run.state.isFinished else { throw CLIError.failed("\(label): run \(found.run.id) already ended (\(found.run.state.rawValue)); nothing to cancel") }
            envelope.options.run = found.run.id
            envelope.options.mode = .stop
        } else {
            let view = try await client.resource(resource, workspace: space, type: type)
            guard let current = view.currentRun else { throw CLIError.failed("\(label): no run in progress to cancel") }
            guard view.canCancel != false else {
                throw CLIError.failed("\(label): \(view.resourceType) runs cannot be cancelled through the vendor's API; run \(current.id) goes on")
            }
        }
        let messageID = "cancel-\(workspace)-\(name)-\(UUID().uuidString.lowercased())"
        let result = try await CommandPublication.publish(envelope, messageID: messageID, client: client)
        return result.line + (envelope.options.run.map { " (run \($0), stop)" } ?? "")
    }
}

// MARK: - DevConsole

/// The console `factoryctl dev` serves beside its stack (read-only, on its own connection).
struct DevConsole {
    let server: ConsoleServer
    let client: FactoryClient
    let address: String

    static func start(natsURL: String, port: Int) async throws(CLIError) -> DevConsole {
        let settings = try ConnectionSettings(flags: ConnectionSettings.Flags(server: natsURL), environment: [:])
        let client = try await FactoryClient.connect(settings)
        let configuration = ConsoleConfiguration(host: "127.0.0.1", port: port, buckets: ConsoleCommand.buckets(settings), allowActions: false, token: nil)
        var logger = Logger(label: "factoryctl-dev-console")
        logger.logLevel = .warning  // the short log stays short
        let state = ConsoleState(buckets: configuration.buckets, logger: logger)
        state.start(connection: client.connection, timeout: settings.timeout)
        do {
            let server = try ConsoleServer(
                configuration: configuration, state: state, backend: ConsoleClientBackend(client: client, lineageStream: "factory-lineage"), logger: logger)
            let address = try await server.start()
            return DevConsole(server: server, client: client, address: address)
        } catch {
            state.stop()
            await client.close()
            throw CLIError(.unavailable, "the console cannot serve on 127.0.0.1:\(port): \(error); choose another --console-port, or 0 for none")
        }
    }

    func stop() async {
        await server.stop()
        await client.close()
    }
}
