import FactoryModel
import FactoryState
import Foundation
import Lineage
import Logging
import NATSKit
import ServiceLifecycle
import Synchronization

/// One resource type as a runtime hosts it: its driver, the names of its deployment, and its
/// type definition (the driver's, or an operator manifest's for the same type).
public struct HostedDriver: Sendable {
    public var driver: AnyResourceDriver
    public var names: DeploymentNames
    public var definition: ResourceTypeDefinition

    public init(driver: AnyResourceDriver, names: DeploymentNames? = nil, definition: ResourceTypeDefinition? = nil) {
        self.driver = driver
        self.names = names ?? driver.descriptor.names
        self.definition = definition ?? driver.descriptor.definition
    }

    public var type: String { driver.type }
}

/// One hosted deployment inside a replica: the state of its type, the processor and the
/// followers of its commands and runs, its read model and query responder.
public final class Deployment: Sendable {
    public let hosted: HostedDriver
    public let store: StateStore
    public let bucket: KeyValueBucket
    public let processor: CommandProcessor
    let commands: MessageWorkerPool
    let followers: MessageWorkerPool
    let readModel: StatusReadModel
    let responder: StatusResponder
    let querySubscription: NATSCallbackSubscription
    let maintenance: Maintenance

    init(
        hosted: HostedDriver, store: StateStore, bucket: KeyValueBucket, processor: CommandProcessor, commands: MessageWorkerPool,
        followers: MessageWorkerPool, readModel: StatusReadModel, responder: StatusResponder, querySubscription: NATSCallbackSubscription,
        maintenance: Maintenance
    ) {
        self.hosted = hosted
        self.store = store
        self.bucket = bucket
        self.processor = processor
        self.commands = commands
        self.followers = followers
        self.readModel = readModel
        self.responder = responder
        self.querySubscription = querySubscription
        self.maintenance = maintenance
    }

    public var names: DeploymentNames { hosted.names }
}

/// One operator replica, assembled: the NATS connection, the provisioned topology, and for each
/// hosted resource type its deployment (state store, command workers, run followers, status
/// responder); leader election and maintenance shared by them. `run()` runs them as an ordered
/// service group until a graceful shutdown (or cancellation): started in order, shut down in
/// reverse, so command workers finish (or hand back what they hold) before the leader resigns and
/// the responders and read models stop.
public final class OperatorRuntime: Service, Sendable {
    public let configuration: OperatorConfiguration
    public let connection: NATSConnection
    public let jetStream: JetStreamContext
    public let election: LeaderElection
    public let deployments: [Deployment]
    let logger: Logger
    private let group: ServiceGroup
    private let phase = Mutex(Phase.starting)

    public enum Phase: String, Sendable {
        case starting, running, stopping, stopped
    }

    /// Connects, provisions and binds everything for `drivers`; throws (with a clear message) if
    /// any of it fails. Commands may target `enabledWorkspaces` only.
    public static func start(
        configuration: OperatorConfiguration,
        drivers: [HostedDriver],
        enabledWorkspaces: [WorkspaceName] = ResourceTypeRegistry.seedDefault.enabledWorkspaces,
        electionStateFile: String? = nil,
        logger: Logger
    ) async throws -> OperatorRuntime {
        var logger = logger
        logger[metadataKey: LoggingKeys.instance] = "\(configuration.instanceID)"
        guard !drivers.isEmpty else {
            throw ConfigurationError(variable: "OPERATOR_DRIVERS", value: nil, expected: "at least one resource type to host")
        }
        let types = drivers.map(\.type)
        if Set(types).count != types.count {
            throw ConfigurationError(variable: "OPERATOR_DRIVERS", value: types.joined(separator: ","), expected: "each resource type once")
        }
        let registry = ResourceTypeRegistry(types: drivers.map(\.definition), enabledWorkspaces: enabledWorkspaces)

        let connection = try await NATSConnection.connect(configuration.nats, logger: logger)
        do {
            let jetStream = try await connection.jetStream()
            let topology = OperatorTopology.make(configuration, deployments: drivers.map { ($0.names, $0.driver.descriptor.displayName) })
            let buckets = try await retryingStartup("provision streams and buckets", logger: logger) {
                try await jetStream.provision(topology)
            }
            let lineageTopology = configuration.lineage.topology(
                storage: configuration.messageDurability ? .file : .memory, replicas: configuration.jetStreamReplicas, ackWait: configuration.ackWait)
            if !lineageTopology.streams.isEmpty {
                _ = try await retryingStartup("provision the lineage stream", logger: logger) {
                    try await jetStream.provision(lineageTopology)
                }
            }
            guard let electionBucket = buckets[configuration.electionBucket] else {
                throw ConfigurationError(variable: "OPERATOR_ELECTION_BUCKET", value: configuration.electionBucket, expected: "a bucket the operator can create")
            }
            let commandSubjects = Dictionary(uniqueKeysWithValues: drivers.map { ($0.type, $0.names.commandSubject) })
            var deployments: [Deployment] = []
            for hosted in drivers {
                guard let bucket = buckets[hosted.names.stateBucket] else {
                    throw ConfigurationError(variable: "OPERATOR_STATE_BUCKET", value: hosted.names.stateBucket, expected: "a bucket the operator can create")
                }
                deployments.append(
                    try await makeDeployment(
                        hosted, bucket: bucket, registry: registry, otherSubjects: commandSubjects.filter { $0.key != hosted.type },
                        configuration: configuration, connection: connection, jetStream: jetStream, logger: logger
                    )
                )
            }
            let election = LeaderElection(
                bucket: electionBucket, group: configuration.electionClusterName, instanceID: configuration.instanceID,
                ttl: OperatorTopology.electionTTL, stateFile: electionStateFile, logger: logger
            )
            // Drivers' companions, started connected, before anything is fetched.
            var companions: [any Service] = []
            let hostedNames = Dictionary(uniqueKeysWithValues: drivers.map { ($0.type, $0.names) })
            for deployment in deployments {
                guard let companion = deployment.hosted.driver.companion else { continue }
                var companionLogger = logger
                companionLogger[metadataKey: "type"] = "\(deployment.hosted.type)"
                let context = DriverCompanionContext(
                    connection: connection, jetStream: jetStream, bucket: deployment.bucket, names: deployment.names, deployments: hostedNames,
                    election: election, configuration: configuration, logger: companionLogger
                )
                companions += try await companion.start(context)
                logger.info("Companion started", metadata: ["type": "\(deployment.hosted.type)", "companion": "\(companion.name)"])
            }
            logger.notice(
                "Operator ready",
                metadata: [
                    "configuration": "\(configuration)",
                    "drivers": "\(drivers.map { "\($0.type) on \($0.names.commandSubject): \($0.driver.summary)" }.joined(separator: "; "))",
                ]
            )
            let forwarder = try await makeLineageForwarder(configuration: configuration, jetStream: jetStream, logger: logger)
            return OperatorRuntime(
                configuration: configuration, connection: connection, jetStream: jetStream, election: election, deployments: deployments,
                companions: companions, lineageForwarder: forwarder, logger: logger
            )
        } catch {
            await connection.close()
            throw error
        }
    }

    /// The lineage forwarder's worker pool (docs/lineage.md), when `LINEAGE_HTTP_URL` is set: its
    /// own pool on the shared durable consumer, so the endpoint never holds a command worker.
    private static func makeLineageForwarder(configuration: OperatorConfiguration, jetStream: JetStreamContext, logger: Logger) async throws -> MessageWorkerPool? {
        let lineage = configuration.lineage
        guard lineage.enabled, let url = lineage.httpURL else { return nil }
        let consumer = try await retryingStartup("bind the lineage forwarder's consumer", logger: logger) {
            try await jetStream.pullConsumer(stream: lineage.stream, consumer: lineage.forwarderConsumer)
        }
        let endpoint = HTTPLineageEndpoint(url: url, token: lineage.httpToken)
        let forwarder = LineageForwarder(
            endpoint: endpoint, deadLetters: JetStreamLineageDeadLetters(jetStream: jetStream, subject: lineage.deadLetterSubject),
            requestTimeout: lineage.httpTimeout, baseBackoff: lineage.httpBackoff, maxBackoff: lineage.httpMaxBackoff, logger: logger)
        return MessageWorkerPool(
            name: "lineage-forwarder", consumer: consumer, workers: lineage.httpWorkers, ackWait: configuration.ackWait, synchronousAcks: false,
            shutdownGrace: .seconds(2), logger: logger
        ) { message in
            await forwarder.handle(message)
        }
    }

    private static func makeDeployment(
        _ hosted: HostedDriver, bucket: KeyValueBucket, registry: ResourceTypeRegistry, otherSubjects: [String: String],
        configuration: OperatorConfiguration, connection: NATSConnection, jetStream: JetStreamContext, logger: Logger
    ) async throws -> Deployment {
        var logger = logger
        if registry.types.count > 1 { logger[metadataKey: "type"] = "\(hosted.type)" }
        let names = hosted.names
        let store = StateStore(bucket: bucket)
        let lineage = configuration.lineage.enabled
            ? LineageEmitter(
                publisher: JetStreamLineagePublisher(jetStream: jetStream, subject: configuration.lineage.subject), store: store, driver: hosted.driver,
                settings: LineageSettings(
                    producer: configuration.lineage.producer, maxEventBytes: configuration.lineage.maxEventBytes, publishTimeout: configuration.lineage.publishTimeout),
                parent: LineageEmitter.recordedParent, logger: logger)
            : nil
        let processor = CommandProcessor(
            store: store,
            driver: hosted.driver,
            validator: CommandValidator(registry: registry, limits: CommandDecodingLimits(maxBytes: configuration.maxCommandBytes), defaultType: hosted.type),
            deadLetters: DeadLetters(jetStream: jetStream, subject: names.deadLetterSubject, stream: names.deadLetterStream),
            followUps: FollowUps(jetStream: jetStream, subject: names.followUpSubject),
            settings: CommandProcessor.Settings(
                instanceID: configuration.instanceID,
                takeoverAfter: configuration.ackWait / 2,
                maxAttempts: configuration.maxAttempts
            ),
            logger: logger,
            otherSubjects: otherSubjects,
            lineage: lineage
        )
        let commandConsumer = try await retryingStartup("bind the command consumer of \(hosted.type)", logger: logger) {
            try await jetStream.pullConsumer(stream: names.commandStream, consumer: names.commandConsumer)
        }
        let followUpConsumer = try await retryingStartup("bind the follow-up consumer of \(hosted.type)", logger: logger) {
            try await jetStream.pullConsumer(stream: names.followUpStream, consumer: names.followUpConsumer)
        }
        let commandLogger = logger
        let commands = MessageWorkerPool(
            name: "commands", consumer: commandConsumer, workers: configuration.maxWorkers, ackWait: configuration.ackWait,
            synchronousAcks: configuration.messageDurability, logger: logger
        ) { message in
            let delivery = CommandDelivery(
                payload: message.payload,
                messageID: message.headers["Nats-Msg-Id"],
                streamSequence: message.metadata?.streamSequence ?? 0,
                deliveryCount: message.metadata?.deliveryCount ?? 1,
                subject: message.subject
            )
            let op = CommandIdentity.identify(message.payload).operation?.rawValue ?? "unknown"
            OperatorMetrics.commandReceived(op: op, delivery: delivery.deliveryCount)
            let started = ContinuousClock.now
            let result = await processor.process(delivery)
            OperatorMetrics.commandHandled(op: op, result: result, elapsed: ContinuousClock.now - started)
            commandLogger.log(
                level: result.disposition == .term || result.outcome == "retrying" ? .warning : .info,
                "Command handled",
                metadata: [
                    LoggingKeys.command: "\(delivery.commandID)", LoggingKeys.sequence: "\(delivery.streamSequence)",
                    LoggingKeys.delivery: "\(delivery.deliveryCount)", LoggingKeys.outcome: "\(result.outcome)", "detail": "\(result.detail)",
                ]
            )
            return result.disposition
        }
        let follower = RunFollower(store: store, driver: hosted.driver, reconcileInterval: configuration.reconcileInterval, logger: logger, lineage: lineage)
        let followers = MessageWorkerPool(
            name: "followers", consumer: followUpConsumer, workers: max(4, configuration.maxWorkers), ackWait: configuration.ackWait,
            synchronousAcks: configuration.messageDurability, logger: logger
        ) { message in
            await follower.handle(message)
        }
        let readModel = StatusReadModel()
        try await readModel.start(following: bucket, keys: hosted.driver.companion?.keepsOwnDocuments == true ? StatusReadModel.resourceKeys : [">"])
        let responder = StatusResponder(
            connection: connection, readModel: readModel, querySubject: names.querySubject, replySubject: names.queryReplySubject,
            queueGroup: names.queryQueueGroup, rows: hosted.driver, logger: logger
        )
        let subscription = try await responder.start()
        return Deployment(
            hosted: hosted, store: store, bucket: bucket, processor: processor, commands: commands, followers: followers, readModel: readModel,
            responder: responder, querySubscription: subscription,
            maintenance: Maintenance(store: store, horizon: configuration.purgeStateStoreBefore, logger: logger)
        )
    }

    private init(
        configuration: OperatorConfiguration, connection: NATSConnection, jetStream: JetStreamContext, election: LeaderElection,
        deployments: [Deployment], companions: [any Service], lineageForwarder: MessageWorkerPool?, logger: Logger
    ) {
        self.configuration = configuration
        self.connection = connection
        self.jetStream = jetStream
        self.election = election
        self.deployments = deployments
        self.logger = logger
        // Started in this order, shut down in the reverse one.
        var services: [any Service] = []
        for deployment in deployments { services.append(ReadModelService(deployment: deployment)) }
        for deployment in deployments { services.append(ResponderService(deployment: deployment)) }
        services.append(ElectionService(election: election))
        services.append(MaintenanceService(deployments: deployments, election: election, interval: configuration.maintenanceInterval))
        if configuration.driftCheckInterval > .zero {
            services.append(DriftCheckService(checks: deployments.map { DriftCheck(deployment: $0, logger: logger) }, election: election, interval: configuration.driftCheckInterval))
        }
        services.append(GaugeService(jetStream: jetStream, streams: deployments.map(\.names.followUpStream)))
        // Before the command workers, so it stops after them: it holds no command.
        if let lineageForwarder { services.append(WorkerPoolService(pool: lineageForwarder)) }
        services += companions
        for deployment in deployments { services.append(WorkerPoolService(pool: deployment.followers)) }
        for deployment in deployments { services.append(WorkerPoolService(pool: deployment.commands)) }
        group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map {
                    .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                logger: logger
            )
        )
    }

    public var currentPhase: Phase { phase.withLock { $0 } }

    /// The deployment of `type`, if this replica hosts it.
    public func deployment(type: String) -> Deployment? {
        deployments.first { $0.hosted.type == type }
    }

    /// The state store of `type` (the first hosted type by default).
    public func store(type: String? = nil) -> StateStore? {
        guard let type else { return deployments.first?.store }
        return deployment(type: type)?.store
    }

    /// Runs until `shutdown()`, a graceful shutdown of the enclosing service group, or
    /// cancellation.
    public func run() async throws {
        phase.withLock { if $0 == .starting { $0 = .running } }
        do {
            try await withGracefulShutdownHandler {
                try await self.group.run()
            } onGracefulShutdown: {
                self.shutdown()
            }
        } catch {
            logger.error("Operator services failed", metadata: ["error": "\(error)"])
        }
        try? await connection.drain(timeout: .seconds(5))
        phase.withLock { $0 = .stopped }
        logger.notice("Stopped")
    }

    /// Begins a graceful shutdown: stop fetching, let running commands finish (or nak them),
    /// resign leadership, stop answering, drain the connection.
    public func shutdown() {
        let first = phase.withLock { phase -> Bool in
            guard phase == .running || phase == .starting else { return false }
            phase = .stopping
            return true
        }
        guard first else { return }
        logger.notice("Shutting down")
        let group = self.group
        Task { await group.triggerGracefulShutdown() }
    }

    /// Whether this replica can do its work: connected, consumers bound, every store answering
    /// and every read model loaded, and the election group at its expected size.
    public func readiness() async -> (ready: Bool, checks: [String: Bool]) {
        var checks: [String: Bool] = [:]
        checks["nats.connected"] = connection.isConnected
        checks["running"] = currentPhase == .running
        var reachable = true
        for deployment in deployments where !(await deployment.store.backend.isReachable()) { reachable = false }
        checks["store.reachable"] = reachable
        checks["state.loaded"] = deployments.allSatisfy { $0.readModel.isReady }
        checks["election.quorum"] = election.state.members >= configuration.electionClusterSize
        return (checks.values.allSatisfy { $0 }, checks)
    }

    /// A start-up step against JetStream, retried while it fails for a passing reason (a cluster
    /// electing a leader after a node died, a server restarting) for up to `patience`; a replica
    /// restarted in that moment would otherwise exit. Found by `scripts/chaos nats-cluster`.
    static func retryingStartup<T>(
        _ step: String, logger: Logger, patience: Duration = .seconds(60), _ body: () async throws -> T
    ) async throws -> T {
        let deadline = ContinuousClock.now.advanced(by: patience)
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch let error as NATSError {
                // A node that has just restarted says JetStream is not enabled until it is up.
                let passing = error.isRetriable || error.code == .jetStreamNotEnabled
                guard passing, ContinuousClock.now < deadline else { throw error }
                attempt += 1
                logger.warning("Start-up step failed; retrying", metadata: ["step": "\(step)", "attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(min(2_000, 250 * attempt)))
            }
        }
    }
}

// MARK: - The services of a replica

/// Keeps a deployment's read model following its bucket until shutdown.
private struct ReadModelService: Service {
    let deployment: Deployment

    func run() async throws {
        try? await gracefulShutdown()
        deployment.readModel.stop()
    }
}

/// Answers a deployment's status queries until shutdown, then drains the subscription.
private struct ResponderService: Service {
    let deployment: Deployment

    func run() async throws {
        try? await gracefulShutdown()
        try? await deployment.querySubscription.drain(timeout: .seconds(2))
    }
}

/// Campaigns and renews leadership until shutdown; then resigns (a successor takes over at once).
private struct ElectionService: Service {
    let election: LeaderElection

    func run() async throws {
        let election = self.election
        await cancelWhenGracefulShutdown { await election.run() }
    }
}

/// The leader's maintenance of every hosted bucket, every interval.
private struct MaintenanceService: Service {
    let deployments: [Deployment]
    let election: LeaderElection
    let interval: Duration

    func run() async throws {
        let deployments = self.deployments
        let election = self.election
        let interval = self.interval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, election.isLeader else { continue }
                for deployment in deployments { await deployment.maintenance.pass() }
            }
        }
    }
}

/// The leader's drift check of every hosted deployment, one pass per interval, each pass spread
/// over the interval.
private struct DriftCheckService: Service {
    let checks: [DriftCheck]
    let election: LeaderElection
    let interval: Duration

    func run() async throws {
        let checks = self.checks
        let election = self.election
        let interval = self.interval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let started = ContinuousClock.now
                if election.isLeader {
                    let count = max(1, checks.reduce(0) { $0 + $1.deployment.readModel.activeResources().count })
                    let spacing = max(.milliseconds(10), interval / (count + 1))
                    for check in checks {
                        await check.pass(spacing: spacing) { election.isLeader }
                    }
                }
                let spent = ContinuousClock.now - started
                try? await Task.sleep(for: max(.milliseconds(100), interval - spent))
            }
        }
    }
}

/// Gauges that come from JetStream rather than from events: runs being followed are the
/// follow-up messages waiting in their work-queue streams.
private struct GaugeService: Service {
    let jetStream: JetStreamContext
    let streams: [String]

    func run() async throws {
        let jetStream = self.jetStream
        let streams = self.streams
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var inFlight = 0
                for stream in streams {
                    if let info = try? await jetStream.streamInfo(stream) { inFlight += Int(info.state.messages) }
                }
                OperatorMetrics.runsInFlight(inFlight)
                try? await Task.sleep(for: .seconds(5))
            }
        }
    }
}

/// A worker pool: fetches and handles until shutdown, then finishes what it holds.
private struct WorkerPoolService: Service {
    let pool: MessageWorkerPool

    func run() async throws {
        let pool = self.pool
        await withTaskCancellationOrGracefulShutdownHandler {
            await pool.run()
        } onCancelOrGracefulShutdown: {
            pool.stop()
        }
    }
}
