import Foundation
import NATSKit
import Synchronization

/// Every replica's live copy of the state bucket's current documents (the read side of CQRS):
/// fed by a KV watch on a dedicated thread, read by the status responder without a round trip.
///
/// It lags the bucket by the watch's delivery time (milliseconds); a query answered right after
/// a write may not see it yet. Documents are kept as stored bytes and decoded when asked for, so
/// an update costs a dictionary write.
public final class StatusReadModel: Sendable {
    private struct State {
        var documents: [String: [UInt8]] = [:]
        var ready = false
        var failure: NATSError?
    }

    private let state = Mutex(State())
    private let loop = Mutex<KeyValueWatchLoop?>(nil)

    public init() {}

    /// Starts following `bucket`; returns once the watch is registered (not yet loaded: see
    /// `isReady`).
    public func start(following bucket: KeyValueBucket) async throws {
        let watch = try await bucket.watch(">") { [weak self] event in
            self?.apply(event)
        }
        loop.withLock { $0 = watch }
    }

    public func stop() {
        loop.withLock { $0?.stop() }
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
            case .success(.initialValuesDone):
                state.ready = true
            case .failure(let error):
                state.failure = error
            }
        }
    }

    /// One resource's entity and status.
    func resource(workspace: String, name: String) -> (EntityRecord?, StatusRecord?) {
        let (entity, status) = state.withLock { state in
            (state.documents[StateStore.entityKey(workspace: workspace, name: name)], state.documents[StateStore.statusKey(workspace: workspace, name: name)])
        }
        return (
            entity.flatMap { try? StateStore.decode(EntityRecord.self, $0, key: "entity") },
            status.flatMap { try? StateStore.decode(StatusRecord.self, $0, key: "status") }
        )
    }

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
            return (
                resource.workspace, resource.name,
                resource.entity.flatMap { try? StateStore.decode(EntityRecord.self, $0, key: "entity") },
                resource.status.flatMap { try? StateStore.decode(StatusRecord.self, $0, key: "status") }
            )
        }
        return (page, ids.count)
    }
}
