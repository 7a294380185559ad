import FactoryEngine
import FactoryModel
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals

/// What an operator executable is: its name, its defaults, the drivers it can host and how it
/// picks them. `hightouch-operator` and `factory-operator` are both this, with different values;
/// their mains are a few lines each.
public struct OperatorProgram: Sendable {
    public enum Hosting: Sendable {
        /// One type, on the names the seed manifest's variables give (unprefixed): the drop-in.
        case single(DriverFactory)
        /// The types in `OPERATOR_DRIVERS` (default: every driver whose secret is set), each on
        /// the names its `<TYPE>_`-prefixed variables give.
        case selected([DriverFactory])
    }

    public var name: String
    public var defaults: OperatorConfiguration.Defaults
    public var hosting: Hosting

    public init(name: String, defaults: OperatorConfiguration.Defaults, hosting: Hosting) {
        self.name = name
        self.defaults = defaults
        self.hosting = hosting
    }

    /// Every driver the program can host.
    public var factories: [DriverFactory] {
        switch hosting {
        case .single(let factory): return [factory]
        case .selected(let factories): return factories
        }
    }

    /// Runs one replica until SIGTERM or SIGINT. Configuration errors exit 2 with one line.
    public func sync(electionStateFile: String?, manifestPath: String?) async throws {
        var environment = ProcessInfo.processInfo.environment
        var manifest: OperatorManifest?
        if let manifestPath {
            do {
                let loaded = try OperatorManifest.load(fromFile: manifestPath)
                manifest = loaded
                environment = manifestDefaults(loaded).merging(environment) { _, real in real }
            } catch {
                fail("--manifest \(manifestPath): \(error)", exitCode: 2)
            }
        }
        let configuration: OperatorConfiguration
        let selected: [(factory: DriverFactory, names: DeploymentNames)]
        do {
            configuration = try OperatorConfiguration(environment: environment, defaults: defaults)
            selected = try select(environment: environment)
        } catch {
            fail("\(error)", exitCode: 2)
        }

        let level = configuration.logLevel
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .json:
                return JSONLogHandler(label: label, level: level)
            case .text:
                var handler = StreamLogHandler.standardOutput(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
        let logger = Logger(label: name)

        var drivers: [HostedDriver] = []
        do {
            for (factory, names) in selected {
                let driver = try factory.make(environment, logger)
                let definition = manifest?.operator.resources.first { $0.name == factory.descriptor.type }
                drivers.append(HostedDriver(driver: driver, names: names, definition: definition))
            }
        } catch {
            fail("\(error)", exitCode: 2)
        }
        let runtime: OperatorRuntime
        do {
            runtime = try await OperatorRuntime.start(
                configuration: configuration, drivers: drivers,
                enabledWorkspaces: manifest?.operator.enabledWorkspaces ?? ResourceTypeRegistry.seedDefault.enabledWorkspaces,
                electionStateFile: electionStateFile, logger: logger
            )
        } catch let error as ConfigurationError {
            fail("\(error)", exitCode: 2)
        } catch {
            fail("cannot start: \(error)", exitCode: 1)
        }
        let metrics = MetricsServer.make(port: configuration.metricPort, registry: prometheus, runtime: runtime, serverName: name, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: runtime, successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: metrics),
        ]
        if let webhookPort = configuration.webhookPort {
            let dispatcher = runtime.webhookDispatcher(environment: environment)
            logger.notice("Webhooks taken", metadata: ["port": "\(webhookPort)", "paths": "\(dispatcher.paths.map { "/webhooks/\($0)" }.joined(separator: ", "))"])
            services.append(.init(service: WebhookServer.make(port: webhookPort, dispatcher: dispatcher, serverName: name, logger: logger)))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }

    /// The hosted types and their deployments' names.
    func select(environment: [String: String]) throws(ConfigurationError) -> [(factory: DriverFactory, names: DeploymentNames)] {
        switch hosting {
        case .single(let factory):
            return [(factory, try DeploymentNames.read(from: environment, defaults: factory.descriptor.names))]
        case .selected(let factories):
            let known = factories.map(\.descriptor.type)
            var chosen: [DriverFactory] = []
            if let list = environment["OPERATOR_DRIVERS"], !list.trimmingCharacters().isEmpty {
                for item in list.split(separator: ",") {
                    let type = String(item).trimmingCharacters()
                    guard let factory = factories.first(where: { $0.descriptor.type == type }) else {
                        throw ConfigurationError(variable: "OPERATOR_DRIVERS", value: list, expected: "a comma-separated list of resource types from: \(known.joined(separator: ", "))")
                    }
                    if !chosen.contains(where: { $0.descriptor.type == type }) { chosen.append(factory) }
                }
            } else {
                chosen = factories.filter { factory in
                    guard let secret = factory.descriptor.secretVariable else { return false }
                    return !(environment[secret] ?? "").isEmpty
                }
                guard !chosen.isEmpty else {
                    let secrets = factories.compactMap(\.descriptor.secretVariable)
                    throw ConfigurationError(
                        variable: "OPERATOR_DRIVERS", value: nil,
                        expected: "the resource types to host (\(known.joined(separator: ", "))), or a driver's secret set (\(secrets.joined(separator: ", ")))"
                    )
                }
            }
            return try chosen.map { factory throws(ConfigurationError) in
                let prefix = DeploymentNames.variablePrefix(type: factory.descriptor.type)
                return (factory, try DeploymentNames.read(from: environment, prefix: prefix, defaults: factory.descriptor.names))
            }
        }
    }

    /// An operator manifest's worker component's environment, plus its resource types' NATS
    /// subjects (for `hightouch-operator`, the first type's, unprefixed, as the seed operator
    /// reads them).
    func manifestDefaults(_ manifest: OperatorManifest) -> [String: String] {
        var defaults: [String: String] = [:]
        let single: Bool
        if case .single = hosting { single = true } else { single = false }
        for resource in single ? Array(manifest.operator.resources.prefix(1)) : manifest.operator.resources {
            let prefix = single ? "" : DeploymentNames.variablePrefix(type: resource.name)
            defaults[prefix + "ENTITY_OF_INTEREST_MESSAGE_STREAM"] = defaults[prefix + "ENTITY_OF_INTEREST_MESSAGE_STREAM"] ?? resource.natsAPI.command.stream
            defaults[prefix + "ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT"] = defaults[prefix + "ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT"] ?? resource.natsAPI.command.subject
            defaults[prefix + "ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT"] = defaults[prefix + "ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT"] ?? resource.natsAPI.query.subject
            defaults[prefix + "ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT"] = defaults[prefix + "ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT"] ?? resource.natsAPI.query.replySubject
        }
        let component = manifest.operator.components.first { $0.type == "worker" } ?? manifest.operator.components.first
        for (name, value) in component?.environmentVars ?? [:] {
            defaults[name] = value
        }
        return defaults
    }

    /// Prints one line to standard error and exits.
    func fail(_ message: String, exitCode: Int32) -> Never {
        FileHandle.standardError.write(Data("\(name): \(message)\n".utf8))
        exit(exitCode)
    }
}
