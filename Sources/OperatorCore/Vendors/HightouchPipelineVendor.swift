import Foundation
import Hightouch
import JSONSchema
import VendorHTTP

/// Hightouch behind `PipelineVendor`: the spec's `model` becomes a Hightouch model, `sync` a sync
/// on it, and `trigger` the flags of each run.
///
/// Hightouch's API has no DELETE for models or syncs (see docs/hightouch.md), so `retire`
/// disables the sync and clears its schedule: it stops running, and nothing it wrote is touched.
public struct HightouchPipelineVendor: PipelineVendor {
    public let client: HightouchClient

    public init(client: HightouchClient) {
        self.client = client
    }

    // MARK: - Ensure

    public func ensure(spec: JSONValue, known: VendorObjects) async throws(VendorFailure) -> VendorObjects {
        let model = try HightouchSpec.model(in: spec)
        let sync = try HightouchSpec.sync(in: spec)
        let modelID = try await ensureModel(model, knownID: known.modelID.map { HightouchID($0) })
        let syncID = try await ensureSync(sync, modelID: modelID, knownID: known.syncID.map { HightouchID($0) })
        return VendorObjects(modelID: modelID.rawValue, modelSlug: model.slug, syncID: syncID.rawValue, syncSlug: sync.slug)
    }

    private func ensureModel(_ model: HightouchModelCreate, knownID: HightouchID?) async throws(VendorFailure) -> HightouchID {
        let update = HightouchModelUpdate(
            name: model.name, isSchema: model.isSchema, primaryKey: model.primaryKey, raw: model.raw, table: model.table,
            visual: model.visual, custom: model.custom, dbt: model.dbt, folderID: model.folderID
        )
        if let knownID {
            do {
                let updated = try await client.updateModel(id: knownID, update)
                try Self.checkImmutable(updated, against: model)
                return updated.id
            } catch let error as VendorError where error.code == .notFound {
                // Deleted behind our back: create it again below.
            } catch let failure as VendorFailure {
                throw failure
            } catch {
                throw Self.classify(error, doing: "update model \(model.slug)")
            }
        }
        // Not known: create first (one call for a new resource), and look it up by slug only if
        // it exists already (409: applied before, created by another replica, or by a request
        // whose answer was lost).
        do {
            do {
                return try await client.createModel(model).id
            } catch let error as VendorError where error.code == .conflict {
                guard let existing = try await client.model(slug: model.slug) else { throw error }
                try Self.checkImmutable(existing, against: model)
                return try await client.updateModel(id: existing.id, update).id
            }
        } catch let failure as VendorFailure {
            throw failure
        } catch {
            throw Self.classify(error, doing: "ensure model \(model.slug)")
        }
    }

    private func ensureSync(_ sync: HightouchSyncCreate, modelID: HightouchID, knownID: HightouchID?) async throws(VendorFailure) -> HightouchID {
        var desired = sync
        desired.modelID = modelID
        let update = HightouchSyncUpdate(
            configuration: desired.configuration,
            schedule: desired.schedule.map { .set($0) } ?? .manual,
            disabled: desired.disabled
        )
        if let knownID {
            do {
                let updated = try await client.updateSync(id: knownID, update)
                try Self.checkImmutable(updated, against: desired)
                return updated.id
            } catch let error as VendorError where error.code == .notFound {
                // Deleted behind our back: create it again below.
            } catch let failure as VendorFailure {
                throw failure
            } catch {
                throw Self.classify(error, doing: "update sync \(sync.slug)")
            }
        }
        do {
            do {
                return try await client.createSync(desired).id
            } catch let error as VendorError where error.code == .conflict {
                guard let existing = try await client.sync(slug: desired.slug) else { throw error }
                try Self.checkImmutable(existing, against: desired)
                return try await client.updateSync(id: existing.id, update).id
            }
        } catch let failure as VendorFailure {
            throw failure
        } catch {
            throw Self.classify(error, doing: "ensure sync \(sync.slug)")
        }
    }

    /// Hightouch cannot change a model's source or query type, nor a sync's model or
    /// destination: refuse clearly instead of pretending the update worked.
    private static func checkImmutable(_ existing: HightouchModel, against desired: HightouchModelCreate) throws(VendorFailure) {
        if let source = existing.sourceID, source != desired.sourceID {
            throw VendorFailure(
                kind: .rejected, reason: "vendorConflict",
                message: "model \(desired.slug) exists on source \(source), the spec says \(desired.sourceID); Hightouch cannot move a model to another source: use a new slug"
            )
        }
        if existing.queryType != desired.queryType {
            throw VendorFailure(
                kind: .rejected, reason: "vendorConflict",
                message: "model \(desired.slug) exists with query type \(existing.queryType), the spec says \(desired.queryType); Hightouch cannot change it: use a new slug"
            )
        }
    }

    private static func checkImmutable(_ existing: HightouchSync, against desired: HightouchSyncCreate) throws(VendorFailure) {
        if let destination = existing.destinationID, destination != desired.destinationID {
            throw VendorFailure(
                kind: .rejected, reason: "vendorConflict",
                message: "sync \(desired.slug) exists for destination \(destination), the spec says \(desired.destinationID); Hightouch cannot move a sync: use a new slug"
            )
        }
        if let model = existing.modelID, model != desired.modelID {
            throw VendorFailure(
                kind: .rejected, reason: "vendorConflict",
                message: "sync \(desired.slug) belongs to model \(model), not to the spec's model \(desired.modelID); use a new sync slug"
            )
        }
    }

    // MARK: - Runs

    public func trigger(spec: JSONValue, objects: VendorObjects) async throws(VendorFailure) -> String {
        let trigger = HightouchSpec.trigger(in: spec)
        do {
            let syncID = try await triggerSyncID(spec: spec, objects: objects)
            return try await client.triggerRun(syncID: syncID, options: trigger).rawValue
        } catch let failure as VendorFailure {
            throw failure
        } catch {
            throw Self.classify(error, doing: "trigger a run")
        }
    }

    public func runs(spec: JSONValue, objects: VendorObjects, createdAtOrAfter instant: Date) async throws(VendorFailure) -> [RunRecord] {
        do {
            let syncID = try await triggerSyncID(spec: spec, objects: objects)
            return try await client.runs(syncID: syncID, createdAtOrAfter: instant).map { Self.record($0) }
        } catch let failure as VendorFailure {
            throw failure
        } catch {
            throw Self.classify(error, doing: "list runs")
        }
    }

    public func run(syncID: String, runID: String) async throws(VendorFailure) -> RunRecord? {
        do {
            return try await client.run(syncID: HightouchID(syncID), runID: HightouchID(runID)).map { Self.record($0) }
        } catch {
            throw Self.classify(error, doing: "look at run \(runID)")
        }
    }

    public func retire(objects: VendorObjects) async throws(VendorFailure) {
        guard let syncID = objects.syncID else { return }
        do {
            _ = try await client.updateSync(id: HightouchID(syncID), HightouchSyncUpdate(schedule: .manual, disabled: true))
        } catch let error as VendorError where error.code == .notFound {
            return  // already gone
        } catch {
            throw Self.classify(error, doing: "disable sync \(syncID)")
        }
    }

    /// The sync a run is triggered on: the spec's `trigger.syncId` or `trigger.syncSlug` when
    /// given (the seed schema allows naming another sync), else the sync the spec declares.
    private func triggerSyncID(spec: JSONValue, objects: VendorObjects) async throws -> HightouchID {
        let trigger = spec["trigger"]
        if let id = trigger?["syncId"]?.stringValue, !id.isEmpty { return HightouchID(id) }
        if let slug = trigger?["syncSlug"]?.stringValue, !slug.isEmpty, slug != objects.syncSlug {
            guard let sync = try await client.sync(slug: slug) else {
                throw VendorFailure(kind: .rejected, reason: "vendorNotFound", message: "trigger.syncSlug \(slug) names no Hightouch sync")
            }
            return sync.id
        }
        guard let id = objects.syncID else {
            throw VendorFailure(kind: .rejected, reason: "vendorNotFound", message: "no sync is recorded for this resource yet; apply it first")
        }
        return HightouchID(id)
    }

    static func record(_ run: HightouchSyncRun) -> RunRecord {
        func rows(_ counts: HightouchRowCounts?) -> RowCounts? {
            counts.map { RowCounts(added: $0.addedCount, changed: $0.changedCount, removed: $0.removedCount) }
        }
        return RunRecord(
            id: run.id.rawValue, status: run.status.description, createdAt: run.createdAt, startedAt: run.startedAt,
            finishedAt: run.finishedAt, completionRatio: run.completionRatio, querySize: run.querySize,
            plannedRows: rows(run.plannedRows), successfulRows: rows(run.successfulRows), failedRows: rows(run.failedRows),
            error: run.error, checkedAt: Date()
        )
    }

    // MARK: - Errors

    static func classify(_ error: any Error, doing what: String) -> VendorFailure {
        if let failure = error as? VendorFailure { return failure }
        guard let error = error as? VendorError else {
            return VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "\(what): \(error)")
        }
        let detail = "\(what): \(error)"
        switch error.code {
        case .unauthorized:
            return VendorFailure(kind: .unauthorized, reason: "vendorUnauthorized", message: detail + "; check HIGHTOUCH_SERVICE_SECRET")
        case .validation, .invalidArgument:
            return VendorFailure(kind: .rejected, reason: "vendorRejected", message: detail)
        case .conflict:
            return VendorFailure(kind: .rejected, reason: "vendorConflict", message: detail)
        case .notFound:
            return VendorFailure(kind: .rejected, reason: "vendorNotFound", message: detail)
        case .unexpectedStatus where (error.status ?? 500) < 500 && error.status != 429:
            return VendorFailure(kind: .rejected, reason: "vendorRejected", message: detail)
        default:
            return VendorFailure(kind: .transient, reason: "vendorUnavailable", message: detail)
        }
    }
}
