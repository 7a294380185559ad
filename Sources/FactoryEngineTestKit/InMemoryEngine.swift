import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Logging
import Synchronization

/// The engine of one resource type with everything around it in memory: a state backend with
/// KV's compare-and-set, recorded dead letters and follow-ups, and a scripted vendor behind the
/// toy driver (or any driver). Tests hand deliveries to its processors, as JetStream would,
/// including redeliveries and deliveries to a second replica.
public final class InMemoryEngine: Sendable {
    public let backend: InMemoryStateBackend
    public let store: StateStore
    public let deadLetters: RecordingDeadLetters
    public let followUps: RecordingFollowUps
    public let driver: AnyResourceDriver
    public let registry: ResourceTypeRegistry
    private let sequence = Mutex<UInt64>(0)

    public init(driver: AnyResourceDriver, enabledWorkspaces: [String] = ["public", "sandbox"]) {
        backend = InMemoryStateBackend()
        store = StateStore(backend: backend)
        deadLetters = RecordingDeadLetters()
        followUps = RecordingFollowUps()
        self.driver = driver
        registry = ResourceTypeRegistry(
            types: [driver.descriptor.definition], enabledWorkspaces: enabledWorkspaces.compactMap { try? WorkspaceName($0) }
        )
    }

    /// The toy driver on `vendor`.
    public convenience init(vendor: ScriptedVendor, resumeCheck: ScriptedDriver.ResumeCheck = .createdSince) {
        self.init(driver: AnyResourceDriver(ScriptedDriver(vendor: vendor, resumeCheck: resumeCheck)))
    }

    /// A replica's processor.
    public func processor(
        instance: String = "replica-a", takeoverAfter: Duration = .seconds(15), maxAttempts: Int = 5, logger: Logger = InMemoryEngine.quietLogger,
        lineage: LineageEmitter? = nil
    ) -> CommandProcessor {
        CommandProcessor(
            store: store, driver: driver, validator: CommandValidator(registry: registry), deadLetters: deadLetters, followUps: followUps,
            settings: CommandProcessor.Settings(instanceID: instance, takeoverAfter: takeoverAfter, maxAttempts: maxAttempts, clockSkewMargin: .seconds(5)),
            logger: logger, lineage: lineage
        )
    }

    /// A replica's run follower.
    public func follower(reconcileInterval: Duration = .milliseconds(100), logger: Logger = InMemoryEngine.quietLogger, lineage: LineageEmitter? = nil) -> RunFollower {
        RunFollower(store: store, driver: driver, reconcileInterval: reconcileInterval, logger: logger, lineage: lineage)
    }

    /// A delivery of `envelope` as published (stream sequences grow with every new one; give
    /// `sequence` to deliver the same message again).
    public func delivery(_ envelope: CommandEnvelope, id: String? = nil, sequence: UInt64? = nil, deliveryCount: Int = 1) -> CommandDelivery {
        delivery(bytes: envelope.encoded(), id: id ?? envelope.deduplicationID, sequence: sequence, deliveryCount: deliveryCount)
    }

    public func delivery(bytes: [UInt8], id: String?, sequence: UInt64? = nil, deliveryCount: Int = 1) -> CommandDelivery {
        let number = sequence ?? self.sequence.withLock { value in
            value += 1
            return value
        }
        return CommandDelivery(payload: bytes, messageID: id, streamSequence: number, deliveryCount: deliveryCount, subject: "\(driver.type).pipeline.run")
    }

    /// The next stream sequence a new delivery would get.
    public var lastSequence: UInt64 { sequence.withLock { $0 } }

    /// Delivers every follow-up published so far to `follower`, again and again (as the nak's
    /// redelivery would), until each is acknowledged or terminated or `rounds` pass. Returns the
    /// dispositions of the last round by message id.
    @discardableResult
    public func follow(with follower: RunFollower, rounds: Int = 50, between: Duration = .milliseconds(5)) async -> [String: CommandDisposition] {
        var settled: [String: CommandDisposition] = [:]
        for _ in 0..<rounds {
            let open = followUps.published.filter { settled[$0.messageID] == nil }
            if open.isEmpty { break }
            for followUp in open {
                // Delivery 2+: the follower's "too fresh to look at" wait applies to the first only.
                let disposition = await follower.handle(payload: followUp.encoded, deliveryCount: 2, publishedAt: nil)
                switch disposition {
                case .ack, .term: settled[followUp.messageID] = disposition
                case .nak, .abandon: break
                }
            }
            try? await Task.sleep(for: between)
        }
        return settled
    }

    public func entity(_ name: String, workspace: String = "public") async throws -> EntityRecord? {
        try await store.read(EntityRecord.self, key: StateKeys.entity(workspace: workspace, name: name))?.document
    }

    public func status(_ name: String, workspace: String = "public") async throws -> StatusRecord? {
        try await store.read(StatusRecord.self, key: StateKeys.status(workspace: workspace, name: name))?.document
    }

    public static let quietLogger: Logger = {
        var logger = Logger(label: "engine-test")
        logger.logLevel = ProcessInfo.processInfo.environment["OPERATOR_TEST_LOG"] == "1" ? .debug : .critical
        return logger
    }()

    /// A manifest of the toy type.
    public static func toyManifest(name: String, job: String, extra: JSONObject = JSONObject(), type: String = "toy") throws -> ResourceManifest {
        var spec: JSONObject = ["job": .string(job)]
        for member in extra { spec[member.key] = member.value }
        return ResourceManifest(
            name: try ResourceName(name), version: "v1beta",
            resource: .init(operator: "factory", type: type, spec: .object(spec))
        )
    }
}
