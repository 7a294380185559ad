import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Lineage
import Logging
import NATSKit

/// Where lineage events go.
public protocol LineagePublisher: Sendable {
    /// Publishes one event (its JSON) with `identity` as its message id, within `timeout`;
    /// throws when it was not stored.
    func publish(_ event: [UInt8], identity: String, timeout: Duration) async throws
}

/// Publishes lineage events to their JetStream subject, de-duplicated by identity
/// (`Nats-Msg-Id`) within the stream's duplicate window.
public struct JetStreamLineagePublisher: LineagePublisher {
    public let jetStream: JetStreamContext
    public let subject: String

    public init(jetStream: JetStreamContext, subject: String) {
        self.jetStream = jetStream
        self.subject = subject
    }

    public func publish(_ event: [UInt8], identity: String, timeout: Duration) async throws {
        try await jetStream.publish(event, to: subject, options: JetStreamPublishOptions(messageID: identity, timeout: timeout))
    }
}

/// How a replica emits lineage.
public struct LineageSettings: Sendable {
    /// The `producer` of every event.
    public var producer: LineageProducer
    /// Larger events are trimmed to fit (``LineageTrimming``): the stream's message limit.
    public var maxEventBytes: Int
    /// The longest a command or a look waits for one publish; a slower or failed publish is
    /// left to the next look at the run.
    public var publishTimeout: Duration

    public init(producer: LineageProducer = .factoryOperator, maxEventBytes: Int = 256 * 1024, publishTimeout: Duration = .seconds(2)) {
        self.producer = producer
        self.maxEventBytes = maxEventBytes
        self.publishTimeout = publishTimeout
    }
}

/// Emits each run's OpenLineage events exactly once per transition, through the run's outbox on
/// the status (`RunRecord.lineagePublished`):
///
/// 1. the status write that records a transition (a trigger, a look) comes first;
/// 2. then the events the run's recorded phase calls for and its outbox lacks are published, in
///    order, each with its identity as `Nats-Msg-Id` (a second publish within the duplicate
///    window is dropped by JetStream);
/// 3. then they are marked in the outbox by compare-and-set.
///
/// A crash between 1 and 3, or a publish that failed or timed out, leaves the events recorded
/// but not marked: whoever next looks at the run (the command's resume, a follower's look)
/// publishes them. Vendor-neutral: datasets come from the driver (``ResourceDriver/lineage(_:objects:run:)``).
public struct LineageEmitter: Sendable {
    /// Finds the run a run belongs to (a task of a pipeline run). Nil: no parent.
    public typealias ParentResolver = @Sendable (_ run: RunRecord, _ workspace: String) -> LineageParent?

    /// The parent the run records (`RunRecord.parent`, from its command's `parent`, set by a
    /// pipeline's advancer on each task attempt): what the operator's composition passes.
    public static let recordedParent: ParentResolver = { run, workspace in LineageParent.recorded(run, workspace: workspace) }

    let publisher: any LineagePublisher
    let store: StateStore
    let driver: AnyResourceDriver
    let settings: LineageSettings
    let parent: ParentResolver?
    let logger: Logger

    public init(
        publisher: any LineagePublisher, store: StateStore, driver: AnyResourceDriver, settings: LineageSettings = LineageSettings(),
        parent: ParentResolver? = nil, logger: Logger
    ) {
        self.publisher = publisher
        self.store = store
        self.driver = driver
        self.settings = settings
        self.parent = parent
        self.logger = logger
    }

    /// The events a run in `phase` has had, in order: START once it is seen at all, then the
    /// end event of its phase.
    public static func due(_ phase: RunPhase) -> [LineageEventType] {
        switch phase {
        case .queued, .running: return [.start]
        case .succeeded, .warning: return [.start, .complete]
        case .failed, .timedOut: return [.start, .fail]
        case .cancelled: return [.start, .abort]
        }
    }

    /// The events of `run` recorded (by its phase) but not yet marked published.
    public static func pending(_ run: RunRecord) -> [LineageEventType] {
        due(run.phase).filter { !run.lineagePublished.contains($0.rawValue) }
    }

    /// The spec of the resource, read only when an event is to be built.
    public typealias SpecSource = @Sendable () async -> JSONValue?

    /// Publishes the events of the run `runKey` that its recorded phase calls for and its outbox
    /// lacks, then marks them. Never throws: a failure is logged and left to the next look.
    /// Returns true when nothing is left to publish.
    @discardableResult
    public func flush(workspace: String, name: String, run: RunRecord, objects: JSONValue?, spec: SpecSource) async -> Bool {
        let pending = Self.pending(run)
        guard !pending.isEmpty else { return true }
        let label = "\(workspace)/\(name)"
        let specJSON = await spec()
        let datasets = specJSON.flatMap { driver.lineage(spec: $0, objects: objects, run: run) }
        for warning in datasets?.warnings ?? [] {
            logger.warning("Lineage without some of what the spec declares", metadata: [LoggingKeys.resource: "\(label)", LoggingKeys.run: "\(run.displayID)", "detail": "\(warning)"])
        }
        let context = LineageRunContext(
            workspace: workspace, resource: name, type: driver.type, integration: driver.lineageIntegration, jobType: driver.lineageJobType,
            commandID: run.key, parent: parent?(run, workspace), nominalStart: run.recordedAt)
        var published: [String] = []
        for eventType in pending {
            let event = LineageRunEvent(
                eventType, context: context, at: Self.eventTime(eventType, run), datasets: datasets, error: run.error, producer: settings.producer)
            let fitted = LineageTrimming.fit(event, maxBytes: settings.maxEventBytes)
            if !fitted.removed.isEmpty {
                logger.notice(
                    "Trimmed a lineage event to the stream's limit",
                    metadata: [
                        LoggingKeys.resource: "\(label)", "lineage.event": "\(event.identity)", "removed": "\(fitted.removed.map(\.rawValue).joined(separator: ","))",
                        "limit": "\(settings.maxEventBytes)",
                    ])
            }
            do {
                try await publisher.publish(fitted.bytes, identity: event.identity, timeout: settings.publishTimeout)
                published.append(eventType.rawValue)
                OperatorMetrics.lineagePublished(type: driver.type, event: eventType.rawValue)
            } catch {
                // Later events wait for this one: a consumer sees START before the end.
                OperatorMetrics.lineageFailed(type: driver.type)
                logger.warning(
                    "Could not publish a lineage event; the next look at the run publishes it",
                    metadata: [LoggingKeys.resource: "\(label)", "lineage.event": "\(event.identity)", "error": "\(error)"])
                break
            }
        }
        guard !published.isEmpty else { return false }
        let key = StateStore.statusKey(workspace: workspace, name: name)
        let runKey = run.key
        let marked = published
        do {
            _ = try await store.modify(StatusRecord.self, key: key) { current in
                guard var status = current, status.markLineagePublished(run: runKey, marked) else { return nil }
                status.updatedAt = Date()
                return status
            }
        } catch {
            logger.warning("Could not mark lineage events published; the next look publishes them again (dropped as duplicates)", metadata: [LoggingKeys.resource: "\(label)", "error": "\(error)"])
            return false
        }
        return published.count == pending.count
    }

    /// When the transition happened, as the vendor said where it did: START at the run's start
    /// (or creation, or when the engine first recorded it), the end at its finish (or the look
    /// that saw it). Rebuilt alike by any replica from the recorded run.
    static func eventTime(_ eventType: LineageEventType, _ run: RunRecord) -> Date {
        switch eventType {
        case .start, .running, .other: return run.startedAt ?? run.createdAt ?? run.recordedAt
        case .complete, .fail, .abort: return run.finishedAt ?? run.checkedAt
        }
    }
}
