import FactoryEngine
import JSONSchema
import Logging
import Synchronization

/// Lineage events kept in memory, for assertions; can be made to fail. Every publish is kept,
/// duplicates included (``attempts``); ``events`` are the ones a JetStream stream would store,
/// one per identity, as its duplicate window does.
public final class RecordingLineage: LineagePublisher, Sendable {
    public struct Published: Sendable, Hashable {
        public var identity: String
        public var bytes: [UInt8]

        /// The event as JSON (events are JSON by construction).
        public var json: JSONValue { (try? JSONValue(parsing: bytes)) ?? .null }
        public var eventType: String { json["eventType"]?.stringValue ?? "" }
    }

    private let state = Mutex<(attempts: [Published], failures: Int)>(([], 0))

    public init() {}

    /// Every publish that succeeded, in order, duplicates included.
    public var attempts: [Published] { state.withLock { $0.attempts } }

    /// What the stream would keep: the first publish of each identity.
    public var events: [Published] {
        var seen = Set<String>()
        return attempts.filter { seen.insert($0.identity).inserted }
    }

    /// The event types stored, in order (`["START", "COMPLETE"]`).
    public var eventTypes: [String] { events.map(\.eventType) }

    /// The next `count` publishes throw.
    public func failNext(_ count: Int = 1) { state.withLock { $0.failures += count } }

    public func publish(_ event: [UInt8], identity: String, timeout: Duration) async throws {
        try state.withLock { state in
            if state.failures > 0 {
                state.failures -= 1
                throw RecordingFailure(what: "lineage event")
            }
            state.attempts.append(Published(identity: identity, bytes: event))
        }
    }
}

extension InMemoryEngine {
    /// A replica's lineage emitter publishing to `lineage`, naming the parent each run records (as the operator's composition does).
    public func lineageEmitter(
        _ lineage: RecordingLineage, settings: LineageSettings = LineageSettings(), logger: Logger = InMemoryEngine.quietLogger
    ) -> LineageEmitter {
        LineageEmitter(publisher: lineage, store: store, driver: driver, settings: settings, parent: LineageEmitter.recordedParent, logger: logger)
    }
}
