import FactoryState
import Foundation
import Logging

/// What the leader does every maintenance interval: purge the state of finished work older than
/// the purge horizon, and the KV delete markers left behind.
///
/// - A deleted resource (entity marked deleted, no command active) whose last change is older
///   than the horizon: its entity and status are removed.
/// - A status with no entity (a refused command that named an unknown resource) older than the
///   horizon: removed.
/// - Delete markers older than the horizon: purged, with the history before them.
///
/// The current status of every live resource is kept, and the status keeps only the current and
/// last run, so the bucket stays bounded under steady traffic. Every removal is a delete at the
/// revision read, so a resource re-applied meanwhile is never removed.
public struct Maintenance: Sendable {
    public struct Report: Sendable, Hashable {
        public var purgedResources = 0
        public var purgedOrphanStatuses = 0
        public var markersPurged = false
    }

    let store: StateStore
    let horizon: Duration
    let logger: Logger

    public init(store: StateStore, horizon: Duration, logger: Logger) {
        self.store = store
        self.horizon = horizon
        self.logger = logger
    }

    /// One pass. Called by the leader only.
    @discardableResult
    public func runOnce(now: Date = Date()) async throws -> Report {
        var report = Report()
        let cutoff = now.addingTimeInterval(-horizon.seconds)
        let keys = try await store.backend.keys()
        let entityKeys = Set(keys.filter { $0.hasPrefix("entity.") })
        for key in entityKeys.sorted() {
            guard let entity = try? await store.read(EntityRecord.self, key: key) else { continue }
            let document = entity.document
            guard document.deleted, document.activeCommand == nil, document.updatedAt < cutoff else { continue }
            let statusKey = StateStore.statusKey(workspace: document.workspace, name: document.name)
            // Entity first: once it is gone the resource is gone, whatever happens to the status.
            guard try await store.delete(key: key, revision: entity.revision) else { continue }
            if let status = try? await store.read(StatusRecord.self, key: statusKey) {
                _ = try await store.delete(key: statusKey, revision: status.revision)
            }
            report.purgedResources += 1
        }
        for key in keys where key.hasPrefix("status.") {
            let entityKey = "entity." + key.dropFirst("status.".count)
            guard !entityKeys.contains(entityKey), let status = try? await store.read(StatusRecord.self, key: key) else { continue }
            guard status.document.updatedAt < cutoff else { continue }
            // Re-check: an apply may have created the entity since the key list was taken.
            if try await store.backend.get(entityKey) != nil { continue }
            if try await store.delete(key: key, revision: status.revision) {
                report.purgedOrphanStatuses += 1
            }
        }
        try await store.backend.purgeDeleteMarkers(olderThan: horizon)
        report.markersPurged = true
        if report.purgedResources + report.purgedOrphanStatuses > 0 {
            logger.info("Purged finished state", metadata: ["purged.resources": "\(report.purgedResources)", "purged.orphans": "\(report.purgedOrphanStatuses)"])
        }
        return report
    }

    /// One pass, logged instead of thrown.
    public func pass() async {
        do {
            try await runOnce()
        } catch {
            logger.warning("Maintenance pass failed", metadata: ["bucket": "\(store.backend.name)", "error": "\(error)"])
        }
    }
}
