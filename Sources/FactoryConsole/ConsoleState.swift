import FactoryModel
import FactoryState
import Foundation
import Logging
import NATSKit
import Pipelines
import Synchronization

// MARK: - ConsoleState

/// The state the console shows, kept from one KV watch per bucket shared by every page and
/// every event stream (not one per client): the resources' entity and status documents, the
/// pipeline run documents, and the keys whose documents cannot be read. Changes are fanned out
/// to the subscribers (the Server-Sent Event streams) as ``ConsoleEvent``s.
public final class ConsoleState: Sendable {
    public struct ResourceID: Hashable, Sendable, Comparable {
        public var type: String
        public var workspace: String
        public var name: String

        public static func < (lhs: ResourceID, rhs: ResourceID) -> Bool {
            (lhs.workspace, lhs.name, lhs.type) < (rhs.workspace, rhs.name, rhs.type)
        }
    }

    /// A document the console cannot read (malformed, or of a newer version): shown by its key.
    public struct Unreadable: Codable, Sendable, Hashable {
        public var bucket: String
        public var key: String
        public var message: String
    }

    struct Documents {
        var entity: EntityRecord?
        var status: StatusRecord?
        var isEmpty: Bool { entity == nil && status == nil }
    }

    struct Store {
        var resources: [ResourceID: Documents] = [:]
        /// Pipeline runs by KV key.
        var runs: [String: PipelineRunDocument] = [:]
        /// By "bucket key".
        var unreadable: [String: Unreadable] = [:]
        /// The ended runs seen on each resource's status since the console started (a status keeps
        /// only its current and last run), newest last.
        var history: [ResourceID: [ResourceStatusView.Run]] = [:]
        var connected = true
        /// Buckets whose initial values have all arrived.
        var loaded: Set<String> = []
        /// During a (re)started watch: the keys seen so far, to drop what went away meanwhile.
        var seen: [String: Set<String>] = [:]
        var subscribers: [Int: AsyncStream<ConsoleEvent>.Continuation] = [:]
        var nextSubscriber = 0
        var tasks: [Task<Void, Never>] = []
        var restarts: [String: AsyncStream<Void>.Continuation] = [:]
    }

    static let historyLimit = 20

    private let store = Mutex(Store())
    let buckets: [ConsoleConfiguration.Bucket]
    private let logger: Logger

    public init(buckets: [ConsoleConfiguration.Bucket], logger: Logger) {
        self.buckets = buckets
        self.logger = logger
    }

    // MARK: - Watching

    /// Starts one watch per bucket on `connection`, each restarted after a failure or a
    /// reconnection, and follows the connection's state (the page's banner).
    public func start(connection: NATSConnection, timeout: Duration) {
        var tasks: [Task<Void, Never>] = []
        for bucket in buckets {
            tasks.append(Task { [self] in await self.watchForever(bucket, connection: connection, timeout: timeout) })
        }
        tasks.append(Task { [self] in
            setConnected(connection.isConnected)
            for await event in connection.events() {
                switch event {
                case .disconnected, .closed: setConnected(false)
                case .connected, .reconnected:
                    setConnected(true)
                    // A watch's consumer may not survive a server restart: start each again.
                    let restarts = store.withLock { Array($0.restarts.values) }
                    for restart in restarts { restart.yield() }
                default: continue
                }
            }
        })
        store.withLock { $0.tasks += tasks }
    }

    public func stop() {
        let (tasks, subscribers) = store.withLock { store in
            defer {
                store.tasks = []
                store.subscribers = [:]
            }
            return (store.tasks, Array(store.subscribers.values))
        }
        for task in tasks { task.cancel() }
        for subscriber in subscribers { subscriber.finish() }
    }

    private func watchForever(_ bucket: ConsoleConfiguration.Bucket, connection: NATSConnection, timeout: Duration) async {
        var reported = false
        while !Task.isCancelled {
            let (ended, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            store.withLock { $0.restarts[bucket.name] = signal }
            do throws(NATSError) {
                let jetStream = try await connection.jetStream(options: JetStreamOptions(timeout: timeout))
                let kv = try await jetStream.keyValue(bucket.name)
                store.withLock { $0.seen[bucket.name] = [] }
                let loop = try await kv.watch(">") { [self] result in
                    switch result {
                    case .success(.entry(let entry)): self.take(entry, bucket: bucket)
                    case .success(.initialValuesDone): self.initialValuesDone(bucket.name)
                    case .failure: signal.yield()
                    }
                }
                reported = false
                let cancelled = await withTaskCancellationHandler {
                    for await _ in ended { return false }
                    return true
                } onCancel: {
                    signal.finish()
                }
                loop.stop()
                if cancelled || Task.isCancelled { return }
            } catch {
                // A bucket no operator has created yet (a type not served here) is not an error.
                if !reported, error.code != .notFound {
                    logger.warning("console: cannot watch \(bucket.name): \(error); retrying")
                    reported = true
                }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    // MARK: - Taking in documents (on the watch's own thread)

    private func take(_ entry: KeyValueEntry, bucket: ConsoleConfiguration.Bucket) {
        let unreadableKey = "\(bucket.name) \(entry.key)"
        var event: ConsoleEvent?
        store.withLock { store in
            store.seen[bucket.name]?.insert(entry.key)
            if let parsed = StateKeys.parse(entry.key) {
                let id = ResourceID(type: bucket.type, workspace: parsed.workspace, name: parsed.name)
                var documents = store.resources[id] ?? Documents()
                store.unreadable[unreadableKey] = nil
                if entry.operation != .put {
                    if parsed.kind == .entity { documents.entity = nil } else { documents.status = nil }
                } else {
                    do {
                        if parsed.kind == .entity {
                            documents.entity = try StateCodec.decode(EntityRecord.self, entry.value, key: entry.key)
                        } else {
                            let status = try StateCodec.decode(StatusRecord.self, entry.value, key: entry.key)
                            documents.status = status
                            Self.remember(status, of: id, in: &store)
                        }
                    } catch {
                        if parsed.kind == .entity { documents.entity = nil } else { documents.status = nil }
                        store.unreadable[unreadableKey] = Unreadable(bucket: bucket.name, key: entry.key, message: "\(error)")
                    }
                }
                store.resources[id] = documents.isEmpty ? nil : documents
                event = ConsoleEvent(kind: "resource", bucket: bucket.name, key: entry.key, type: bucket.type, workspace: parsed.workspace, name: parsed.name)
            } else if let parsed = PipelineNames.parseRunKey(entry.key) {
                store.unreadable[unreadableKey] = nil
                if entry.operation != .put {
                    store.runs[entry.key] = nil
                } else {
                    do throws(PipelineDocumentError) {
                        store.runs[entry.key] = try PipelineRunDocument.decode(entry.value, key: entry.key)
                    } catch {
                        store.runs[entry.key] = nil
                        store.unreadable[unreadableKey] = Unreadable(bucket: bucket.name, key: entry.key, message: error.message)
                    }
                }
                event = ConsoleEvent(
                    kind: "run", bucket: bucket.name, key: entry.key, type: PipelineNames.type, workspace: parsed.workspace, name: parsed.pipeline, run: parsed.run)
            }
        }
        if let event { publish(event) }
    }

    private static func remember(_ status: StatusRecord, of id: ResourceID, in store: inout Store) {
        guard let run = status.lastRun else { return }
        let view = StatusViews.view(entity: nil, status: StatusRecord?.some(status), workspace: id.workspace, name: id.name, includeSpec: false).lastRun
        guard let view else { return }
        var runs = store.history[id] ?? []
        if let index = runs.firstIndex(where: { $0.key == run.key }) {
            runs[index] = view
        } else {
            runs.append(view)
        }
        store.history[id] = Array(runs.suffix(historyLimit))
    }

    private func initialValuesDone(_ bucket: String) {
        store.withLock { store in
            store.loaded.insert(bucket)
            guard let seen = store.seen.removeValue(forKey: bucket) else { return }
            // What was deleted while the watch was down.
            let type = buckets.first { $0.name == bucket }?.type
            for id in store.resources.keys where id.type == type {
                if !seen.contains(StateKeys.entity(workspace: id.workspace, name: id.name)) { store.resources[id]?.entity = nil }
                if !seen.contains(StateKeys.status(workspace: id.workspace, name: id.name)) { store.resources[id]?.status = nil }
                if store.resources[id]?.isEmpty == true { store.resources[id] = nil }
            }
            for key in store.runs.keys where type == PipelineNames.type && !seen.contains(key) { store.runs[key] = nil }
            for (key, value) in store.unreadable where value.bucket == bucket && !seen.contains(value.key) { store.unreadable[key] = nil }
        }
        publish(ConsoleEvent(kind: "loaded", bucket: bucket, key: ""))
    }

    private func setConnected(_ connected: Bool) {
        let changed = store.withLock { store in
            defer { store.connected = connected }
            return store.connected != connected
        }
        if changed { publish(ConsoleEvent(kind: "nats", bucket: "", key: "", connected: connected)) }
    }

    // MARK: - Subscribers

    private func publish(_ event: ConsoleEvent) {
        let subscribers = store.withLock { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    /// Every change from now on, until the stream is dropped.
    public func subscribe() -> AsyncStream<ConsoleEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ConsoleEvent.self, bufferingPolicy: .bufferingNewest(2000))
        let id = store.withLock { store in
            defer { store.nextSubscriber += 1 }
            store.subscribers[store.nextSubscriber] = continuation
            return store.nextSubscriber
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.store.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    public var subscriberCount: Int { store.withLock { $0.subscribers.count } }

    // MARK: - Reading

    public var isConnected: Bool { store.withLock { $0.connected } }

    /// Whether every bucket that exists has delivered its initial values (buckets no operator
    /// created are not waited for).
    public var loadedBuckets: Set<String> { store.withLock { $0.loaded } }

    /// Every resource, as a status query would answer (the view `factoryctl watch` shows).
    public func views() -> [ResourceStatusView] {
        let resources = store.withLock { $0.resources }
        return resources.sorted { $0.key < $1.key }.map { id, documents in
            StatusViews.view(entity: documents.entity, status: documents.status, workspace: id.workspace, name: id.name, includeSpec: id.type == PipelineNames.type)
        }
    }

    public func view(_ id: ResourceID) -> ResourceStatusView? {
        guard let documents = store.withLock({ $0.resources[id] }) else { return nil }
        return StatusViews.view(entity: documents.entity, status: documents.status, workspace: id.workspace, name: id.name, includeSpec: id.type == PipelineNames.type)
    }

    public func history(_ id: ResourceID) -> [ResourceStatusView.Run] {
        store.withLock { $0.history[id] ?? [] }
    }

    public func unreadable() -> [Unreadable] {
        store.withLock { Array($0.unreadable.values) }.sorted { ($0.bucket, $0.key) < ($1.bucket, $1.key) }
    }

    /// Pipeline runs, newest first; of one pipeline when named.
    public func runs(workspace: String? = nil, pipeline: String? = nil) -> [PipelineRunDocument] {
        store.withLock { Array($0.runs.values) }
            .filter { (workspace == nil || $0.run.workspace == workspace) && (pipeline == nil || $0.run.pipeline == pipeline) }
            .sorted { ($0.run.createdAt, $0.run.id) > ($1.run.createdAt, $1.run.id) }
    }

    public func run(workspace: String, pipeline: String, id: String) -> PipelineRunDocument? {
        store.withLock { $0.runs[PipelineNames.runKey(workspace: workspace, pipeline: pipeline, run: id)] }
    }
}

// MARK: - ConsoleEvent

/// One change, as the event stream sends it to the pages: which key of which bucket changed, and
/// the resource or run it belongs to. The page fetches what it shows again.
public struct ConsoleEvent: Codable, Sendable, Hashable {
    public var kind: String
    public var bucket: String
    public var key: String
    public var type: String?
    public var workspace: String?
    public var name: String?
    public var run: String?
    public var connected: Bool?
}
