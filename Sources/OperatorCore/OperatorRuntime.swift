import AsyncHTTPClient
import FactoryModel
import Foundation
import Hightouch
import Logging
import NATSKit
import ServiceLifecycle
import Synchronization
import VendorHTTP

/// One operator replica, assembled: the NATS connection, the provisioned topology, the state
/// store, the command workers, the run followers, the status responder, leader election and
/// maintenance. `run()` runs them until a graceful shutdown (or cancellation).
public final class OperatorRuntime: Service, Sendable {
    public let configuration: OperatorConfiguration
    public let connection: NATSConnection
    public let jetStream: JetStreamContext
    public let store: StateStore
    public let election: LeaderElection
    public let processor: CommandProcessor
    let commands: MessageWorkerPool
    let followers: MessageWorkerPool
    let responder: StatusResponder
    let readModel: StatusReadModel
    let querySubscription: NATSCallbackSubscription
    let maintenance: Maintenance
    let logger: Logger
    private let stopSignal: AsyncStream<Void>
    private let stop: AsyncStream<Void>.Continuation
    private let phase = Mutex(Phase.starting)

    public enum Phase: String, Sendable {
        case starting, running, stopping, stopped
    }

    /// Connects, provisions and binds everything; throws (with a clear message) if any of it
    /// fails. `vendor` replaces the Hightouch client built from the configuration (tests).
    public static func start(
        configuration: OperatorConfiguration,
        registry: ResourceTypeRegistry = .seedDefault,
        vendor: (any PipelineVendor)? = nil,
        electionStateFile: String? = nil,
        logger: Logger
    ) async throws -> OperatorRuntime {
        var logger = logger
        logger[metadataKey: LoggingKeys.instance] = "\(configuration.instanceID)"
        let vendor = try vendor ?? makeHightouchVendor(configuration, logger: logger)

        var natsConfiguration = configuration.nats
        natsConfiguration.name = natsConfiguration.name ?? "hightouch-operator"
        let connection = try await NATSConnection.connect(natsConfiguration, logger: logger)
        do {
            let jetStream = try await connection.jetStream()
            let buckets = try await retryingStartup("provision streams and buckets", logger: logger) {
                try await jetStream.provision(OperatorTopology.make(configuration))
            }
            guard let stateBucket = buckets[configuration.stateBucket], let electionBucket = buckets[configuration.electionBucket] else {
                throw ConfigurationError(variable: "OPERATOR_STATE_BUCKET", value: configuration.stateBucket, expected: "a bucket the operator can create")
            }
            let store = StateStore(bucket: stateBucket)
            let processor = CommandProcessor(
                store: store,
                vendor: vendor,
                validator: CommandValidator(registry: registry, limits: CommandDecodingLimits(maxBytes: configuration.maxCommandBytes)),
                deadLetters: DeadLetters(jetStream: jetStream, subject: configuration.deadLetterSubject, stream: configuration.deadLetterStream),
                followUps: FollowUps(jetStream: jetStream, subject: configuration.followUpSubject),
                settings: CommandProcessor.Settings(
                    instanceID: configuration.instanceID,
                    takeoverAfter: configuration.ackWait / 2,
                    maxAttempts: configuration.maxAttempts
                ),
                logger: logger
            )
            let commandConsumer = try await retryingStartup("bind the command consumer", logger: logger) {
                try await jetStream.pullConsumer(stream: configuration.streamName, consumer: configuration.consumerName)
            }
            let followUpConsumer = try await retryingStartup("bind the follow-up consumer", logger: logger) {
                try await jetStream.pullConsumer(stream: configuration.followUpStream, consumer: configuration.followUpConsumer)
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
            let follower = RunFollower(store: store, vendor: vendor, reconcileInterval: configuration.reconcileInterval, logger: logger)
            let followers = MessageWorkerPool(
                name: "followers", consumer: followUpConsumer, workers: max(4, configuration.maxWorkers), ackWait: configuration.ackWait,
                synchronousAcks: configuration.messageDurability, logger: logger
            ) { message in
                await follower.handle(message)
            }
            let readModel = StatusReadModel()
            try await readModel.start(following: stateBucket)
            let responder = StatusResponder(
                connection: connection, readModel: readModel, querySubject: configuration.querySubject, replySubject: configuration.queryReplySubject, logger: logger
            )
            let subscription = try await responder.start()
            let election = LeaderElection(
                bucket: electionBucket, group: configuration.electionClusterName, instanceID: configuration.instanceID,
                ttl: OperatorTopology.electionTTL, stateFile: electionStateFile, logger: logger
            )
            logger.notice("Operator ready", metadata: ["configuration": "\(configuration)"])
            return OperatorRuntime(
                configuration: configuration, connection: connection, jetStream: jetStream, store: store, election: election,
                processor: processor, commands: commands, followers: followers, responder: responder, readModel: readModel, querySubscription: subscription,
                maintenance: Maintenance(store: store, horizon: configuration.purgeStateStoreBefore, logger: logger), logger: logger
            )
        } catch {
            await connection.close()
            throw error
        }
    }

    private init(
        configuration: OperatorConfiguration, connection: NATSConnection, jetStream: JetStreamContext, store: StateStore, election: LeaderElection,
        processor: CommandProcessor, commands: MessageWorkerPool, followers: MessageWorkerPool, responder: StatusResponder,
        readModel: StatusReadModel, querySubscription: NATSCallbackSubscription, maintenance: Maintenance, logger: Logger
    ) {
        self.configuration = configuration
        self.connection = connection
        self.jetStream = jetStream
        self.store = store
        self.election = election
        self.processor = processor
        self.commands = commands
        self.followers = followers
        self.responder = responder
        self.readModel = readModel
        self.querySubscription = querySubscription
        self.maintenance = maintenance
        self.logger = logger
        (stopSignal, stop) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public var currentPhase: Phase { phase.withLock { $0 } }

    /// Runs until `shutdown()`, a graceful shutdown of the service group, or cancellation.
    public func run() async throws {
        phase.withLock { $0 = .running }
        await withGracefulShutdownHandler {
            await self.runUntilStopped()
        } onGracefulShutdown: {
            self.shutdown()
        }
    }

    /// Begins a graceful shutdown: stop fetching, let running commands finish (or nak them),
    /// resign leadership, drain the connection.
    public func shutdown() {
        phase.withLock { if $0 == .running || $0 == .starting { $0 = .stopping } }
        stop.yield()
    }

    private func runUntilStopped() async {
        await withTaskGroup(of: Void.self) { group in
            let workers = [commands, followers]
            for pool in workers {
                group.addTask { await pool.run() }
            }
            let background = Task {
                await withTaskGroup(of: Void.self) { background in
                    background.addTask { await self.election.run() }
                    background.addTask { await self.refreshGauges() }
                    background.addTask {
                        let election = self.election
                        await self.maintenance.run(every: self.configuration.maintenanceInterval) { election.isLeader }
                    }
                }
            }
            // Wait for the stop signal (or cancellation of this task).
            var signals = stopSignal.makeAsyncIterator()
            await withTaskCancellationHandler {
                _ = await signals.next()
            } onCancel: {
                self.stop.yield()
            }
            logger.notice("Shutting down")
            for pool in workers { pool.stop() }
            try? await querySubscription.drain(timeout: .seconds(2))
            // Workers finish (or give their messages back) before the leader resigns.
            await group.waitForAll()
            background.cancel()
            await background.value
            readModel.stop()
        }
        try? await connection.drain(timeout: .seconds(5))
        phase.withLock { $0 = .stopped }
        logger.notice("Stopped")
    }

    /// Gauges that come from JetStream rather than from events: runs being followed are the
    /// follow-up messages waiting in their work-queue stream.
    private func refreshGauges() async {
        while !Task.isCancelled {
            if let info = try? await jetStream.streamInfo(configuration.followUpStream) {
                OperatorMetrics.runsInFlight(Int(info.state.messages))
            }
            try? await Task.sleep(for: .seconds(5))
        }
    }

    /// Whether this replica can do its work: connected, consumers bound, the store answering,
    /// and the election group at its expected size.
    public func readiness() async -> (ready: Bool, checks: [String: Bool]) {
        var checks: [String: Bool] = [:]
        checks["nats.connected"] = connection.isConnected
        checks["running"] = currentPhase == .running
        checks["store.reachable"] = (try? await store.bucket.status()) != nil
        checks["state.loaded"] = readModel.isReady
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

    static func makeHightouchVendor(_ configuration: OperatorConfiguration, logger: Logger) throws -> any PipelineVendor {
        guard let secret = configuration.hightouch.secret else {
            throw ConfigurationError(variable: "HIGHTOUCH_SERVICE_SECRET", value: nil, expected: "the Hightouch workspace API key (a bearer token)")
        }
        let client = HightouchClient(
            configuration: HightouchClient.Configuration(
                token: VendorSecret(secret),
                baseURL: configuration.hightouch.serviceURL,
                basePath: configuration.hightouch.basePath,
                rateLimit: RateLimiter.Configuration(permits: configuration.hightouchRateLimit, window: configuration.hightouchRateLimitWindow)
            ),
            logger: logger
        )
        return HightouchPipelineVendor(client: client)
    }
}
