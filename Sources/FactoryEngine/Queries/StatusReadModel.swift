import FactoryState
import JSONSchema
import Foundation
import NATSKit
import Synchronization

/// Every replica's live copy of the state bucket's current documents (the read side of CQRS):
/// fed by a KV watch on a dedicated thread, read by the status responder without a round trip.
///
/// It lags the bucket by the watch's delivery time (milliseconds); a query answered right after
/// a write may not see it yet. Documents are kept as stored bytes and decoded when asked for, so
/// an update costs a dictionary write. The answer for one resource is kept once made, until one
/// of its documents changes: a resource polled for its status is decoded and encoded once per
/// change, not once per query.
public final class StatusReadModel: Sendable {
    private struct State {
        var documents: [String: [UInt8]] = [:]
        /// By status key: the answer, and the documents it was made from.
        var answers: [String: Answer] = [:]
        /// Watches that have not delivered every value there was when they started.
        var loading = 1
        var ready = false
        var failure: NATSError?
    }

    private struct Answer {
        var entity: [UInt8]?
        var status: [UInt8]?
        var bytes: [UInt8]
    }

    /// Kept answers at most; past it they are all dropped and made again as asked for.
    static let maximumAnswers = 20_000

    private let state = Mutex(State())
    private let loops = Mutex<[KeyValueWatchLoop]>([])

    public init() {}

    /// The keys a read model follows where its bucket holds documents of other kinds too (a
    /// driver companion's own, such as pipeline run documents): those are neither kept nor
    /// delivered to it, one watch per kind of resource document.
    public static let resourceKeys = [StateKeys.entityPrefix + ">", StateKeys.statusPrefix + ">"]

    /// Starts following `bucket`'s keys matching `patterns` (every key by default); returns once
    /// the watches are registered (not yet loaded: see `isReady`).
    public func start(following bucket: KeyValueBucket, keys patterns: [String] = [">"]) async throws {
        state.withLock { $0.loading = patterns.count }
        for pattern in patterns {
            let watch = try await bucket.watch(pattern) { [weak self] event in
                self?.apply(event)
            }
            loops.withLock { $0.append(watch) }
        }
    }

    public func stop() {
        loops.withLock { loops in
            for loop in loops { loop.stop() }
        }
    }

    /// True once every document that existed at start has been loaded.
    public var isReady: Bool { state.withLock { $0.ready && $0.failure == nil } }

    /// Why the watch ended, if it did.
    public var failure: NATSError? { state.withLock { $0.failure } }

    public var count: Int { state.withLock { $0.documents.count } }

    func apply(_ event: Result<KeyValueWatchEvent, NATSError>) {
        state.withLock { state in
            switch event {
            case .success(.entry(let entry)):
                if entry.operation == .put {
                    state.documents[entry.key] = entry.value
                } else {
                    state.documents.removeValue(forKey: entry.key)
                }
                if entry.key.hasPrefix("entity.") {
                    state.answers.removeValue(forKey: "status." + entry.key.dropFirst("entity.".count))
                } else {
                    state.answers.removeValue(forKey: entry.key)
                }
            case .success(.initialValuesDone):
                state.loading -= 1
                if state.loading <= 0 { state.ready = true }
            case .failure(let error):
                state.failure = error
            }
        }
    }

    /// The encoded answer for one resource: made by `render` from its documents, or the one made
    /// before from the same documents. Nil when the replica knows no such resource.
    func answer(workspace: String, name: String, render: (EntityRecord?, StatusRecord?) -> [UInt8]) -> [UInt8]? {
        let entityKey = StateStore.entityKey(workspace: workspace, name: name)
        let statusKey = StateStore.statusKey(workspace: workspace, name: name)
        let (entity, status, kept) = state.withLock { state in
            (state.documents[entityKey], state.documents[statusKey], state.answers[statusKey])
        }
        guard entity != nil || status != nil else { return nil }
        // Comparing arrays that share storage is a pointer comparison.
        if let kept, kept.entity == entity, kept.status == status { return kept.bytes }
        let (entityRecord, statusRecord) = Self.decode(entity: entity, status: status)
        let bytes = render(entityRecord, statusRecord)
        // Made from a snapshot: if a document changed meanwhile, the comparison above refuses it.
        state.withLock { state in
            if state.answers.count >= Self.maximumAnswers { state.answers.removeAll(keepingCapacity: true) }
            state.answers[statusKey] = Answer(entity: entity, status: status, bytes: bytes)
        }
        return bytes
    }

    /// How many answers are kept (for tests).
    var keptAnswers: Int { state.withLock { $0.answers.count } }

    /// One page of the resources of `workspace` (nil: every workspace), sorted by workspace and
    /// name, and how many there are in all. Only the page's documents are decoded.
    func resources(workspace: String?, offset: Int, limit: Int) -> (page: [(workspace: String, name: String, entity: EntityRecord?, status: StatusRecord?)], total: Int) {
        let snapshot = state.withLock { $0.documents }
        var byResource: [String: (workspace: String, name: String, entity: [UInt8]?, status: [UInt8]?)] = [:]
        for (key, value) in snapshot {
            let parts = key.split(separator: ".", maxSplits: 2)
            guard parts.count == 3 else { continue }
            let (kind, space, name) = (parts[0], String(parts[1]), String(parts[2]))
            if let workspace, space != workspace { continue }
            let id = space + "/" + name
            var current = byResource[id] ?? (space, name, nil, nil)
            if kind == "entity" { current.entity = value } else if kind == "status" { current.status = value } else { continue }
            byResource[id] = current
        }
        let ids = byResource.keys.sorted()
        let page = ids.dropFirst(offset).prefix(limit).compactMap { id -> (workspace: String, name: String, entity: EntityRecord?, status: StatusRecord?)? in
            guard let resource = byResource[id] else { return nil }
            let (entity, status) = Self.decode(entity: resource.entity, status: resource.status)
            return (resource.workspace, resource.name, entity, status)
        }
        return (page, ids.count)
    }

    /// Every resource with an entity that is not deleted, by workspace and name: the drift
    /// check's candidates (it reads each afresh before acting).
    func activeResources() -> [(workspace: String, name: String)] {
        let snapshot = state.withLock { $0.documents }
        var found: [(workspace: String, name: String)] = []
        for (key, value) in snapshot where key.hasPrefix("entity.") {
            guard let parsed = StateKeys.parse(key),
                let entity = try? StateCodec.decode(EntityRecord.self, value, key: key), !entity.deleted
            else { continue }
            found.append((parsed.workspace, parsed.name))
        }
        return found.sorted { ($0.workspace, $0.name) < ($1.workspace, $1.name) }
    }

    /// Every run being followed (a status's current run that has not ended), with its
    /// resource's vendor objects: what a vendor's webhook may be about.
    func runsInProgress() -> [(workspace: String, name: String, run: RunRecord, objects: JSONValue?)] {
        let snapshot = state.withLock { $0.documents }
        var found: [(workspace: String, name: String, run: RunRecord, objects: JSONValue?)] = []
        for (key, value) in snapshot where key.hasPrefix("status.") {
            guard let parsed = StateKeys.parse(key), let status = try? StateCodec.decode(StatusRecord.self, value, key: key),
                status.phase != .deleted, let run = status.currentRun, !run.isFinished
            else { continue }
            found.append((parsed.workspace, parsed.name, run, status.objects))
        }
        return found
    }

    /// A resource's stored documents, read; one that cannot be read is left out.
    private static func decode(entity: [UInt8]?, status: [UInt8]?) -> (EntityRecord?, StatusRecord?) {
        (
            entity.flatMap { try? StateCodec.decode(EntityRecord.self, $0, key: "entity") },
            status.flatMap { try? StateCodec.decode(StatusRecord.self, $0, key: "status") }
        )
    }
}
