import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import Hightouch
import JSONSchema
import VendorHTTP

/// The `hightouch` resource type: the spec's `model` becomes a Hightouch model, `sync` a sync on
/// it, and `trigger` the flags of each run.
///
/// Hightouch's API has no DELETE for models or syncs (see docs/hightouch.md), so `retire`
/// disables the sync and clears its schedule: it stops running, and nothing it wrote is touched.
/// Nor can a run be cancelled through the API. Runs have ids, so the resume check is "runs of the
/// sync created since the intent".
public struct HightouchDriver: ResourceDriver {
    public let client: HightouchClient

    public init(client: HightouchClient) {
        self.client = client
    }

    public var descriptor: DriverDescriptor { Self.descriptor }
    public var summary: String { client.description }

    // MARK: - Associated values

    /// The model and sync the operator created, by id and slug (the keys state version 1 used,
    /// so its documents read as they are).
    public struct Objects: DriverValue, Hashable {
        public var modelID: String?
        public var modelSlug: String?
        public var syncID: String?
        public var syncSlug: String?

        public init(modelID: String? = nil, modelSlug: String? = nil, syncID: String? = nil, syncSlug: String? = nil) {
            self.modelID = modelID
            self.modelSlug = modelSlug
            self.syncID = syncID
            self.syncSlug = syncSlug
        }

        // By hand rather than Codable: written with every status.
        public init(driverJSON json: JSONValue) throws {
            guard json.objectValue != nil else { throw HightouchValueError(message: "expected an object, found \(json.typeName)") }
            modelID = json["modelID"]?.stringValue
            modelSlug = json["modelSlug"]?.stringValue
            syncID = json["syncID"]?.stringValue
            syncSlug = json["syncSlug"]?.stringValue
        }

        public var driverJSON: JSONValue {
            var object = JSONObject()
            if let modelID { object["modelID"] = .string(modelID) }
            if let modelSlug { object["modelSlug"] = .string(modelSlug) }
            if let syncID { object["syncID"] = .string(syncID) }
            if let syncSlug { object["syncSlug"] = .string(syncSlug) }
            return .object(object)
        }
    }

    /// A run: its sync (the spec's `trigger` may name another sync than its own) and its id.
    public struct RunReference: DriverValue, Hashable {
        public var syncID: String
        public var runID: String

        public init(syncID: String, runID: String) {
            self.syncID = syncID
            self.runID = runID
        }

        public init(driverJSON json: JSONValue) throws {
            guard let syncID = json["syncID"]?.stringValue, let runID = json["runID"]?.stringValue else {
                throw HightouchValueError(message: "a run reference needs syncID and runID")
            }
            self.init(syncID: syncID, runID: runID)
        }

        public var driverJSON: JSONValue { ["syncID": .string(syncID), "runID": .string(runID)] }
    }

    /// The spec, read into Hightouch's request types.
    public struct Spec: Sendable {
        public var model: HightouchModelCreate
        public var sync: HightouchSyncCreate
        public var trigger: HightouchTriggerOptions
        /// `trigger.syncId` / `trigger.syncSlug`: the seed schema allows triggering another sync.
        public var triggerSyncID: String?
        public var triggerSyncSlug: String?
    }

    public func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec {
        Spec(
            model: try HightouchSpec.model(in: spec),
            sync: try HightouchSpec.sync(in: spec),
            trigger: HightouchSpec.trigger(in: spec),
            triggerSyncID: spec["trigger"]?["syncId"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 },
            triggerSyncSlug: spec["trigger"]?["syncSlug"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        )
    }

    // MARK: - Ensure

    public func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects {
        try await ensure(spec, known: known, context: .standard).objects
    }

    /// Known ids are updated in place: those objects are this resource's. An object found by slug
    /// instead (no id recorded, or the recorded one is gone) is taken as this resource's only if it
    /// already is what the spec would make it (a create whose answer was lost, a crash before the
    /// ids were recorded, an earlier apply): otherwise it is someone else's, and it is refused
    /// with `foreignObject`, unchanged, unless `context.adopt` asks to take it over.
    public func ensure(_ spec: Spec, known: Objects?, context: EnsureContext) async throws(VendorFailure) -> Ensured<Objects> {
        let model = try await ensureModel(spec.model, knownID: known?.modelID.map { HightouchID($0) }, adopt: context.adopt)
        let sync = try await ensureSync(spec.sync, modelID: model.id, knownID: known?.syncID.map { HightouchID($0) }, adopt: context.adopt)
        return Ensured(
            objects: Objects(modelID: model.id.rawValue, modelSlug: spec.model.slug, syncID: sync.id.rawValue, syncSlug: spec.sync.slug),
            adopted: [model.adopted, sync.adopted].compactMap { $0 }
        )
    }

    private func ensureModel(_ model: HightouchModelCreate, knownID: HightouchID?, adopt: Bool) async throws(VendorFailure) -> (id: HightouchID, adopted: Adoption?) {
        let update = HightouchModelUpdate(
            name: model.name, isSchema: model.isSchema, primaryKey: model.primaryKey, raw: model.raw, table: model.table,
            visual: model.visual, custom: model.custom, dbt: model.dbt, folderID: model.folderID
        )
        if let knownID {
            do {
                let updated = try await client.updateModel(id: knownID, update)
                try Self.checkImmutable(updated, against: model)
                return (updated.id, nil)
            } catch let error as VendorError where error.code == .notFound {
                // Deleted behind our back: create it again below.
            } catch let failure as VendorFailure {
                throw failure
            } catch {
                throw Self.classify(error, doing: "update model \(model.slug)")
            }
        }
        // Not known: create first (one call for a new resource), and look it up by slug only if
        // it exists already (409: applied before, created by another replica, by a request whose
        // answer was lost, or by someone else).
        do {
            do {
                return (try await client.createModel(model).id, nil)
            } catch let error as VendorError where error.code == .conflict {
                guard let existing = try await client.model(slug: model.slug) else { throw error }
                try Self.checkImmutable(existing, against: model)
                let differences = Self.differences(existing, update)
                // Already what the spec says: ours, or indistinguishable from ours; nothing to send.
                if differences.isEmpty { return (existing.id, nil) }
                guard adopt else {
                    throw Self.foreignObject("model", slug: model.slug, id: existing.id, recorded: knownID, differences: differences)
                }
                let updated = try await client.updateModel(id: existing.id, update)
                return (updated.id, Adoption(object: "model \(existing.id) (\(model.slug))", differences: differences))
            }
        } catch let failure as VendorFailure {
            throw failure
        } catch {
            throw Self.classify(error, doing: "ensure model \(model.slug)")
        }
    }

    private func ensureSync(_ sync: HightouchSyncCreate, modelID: HightouchID, knownID: HightouchID?, adopt: Bool) async throws(VendorFailure) -> (id: HightouchID, adopted: Adoption?) {
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
                return (updated.id, nil)
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
                return (try await client.createSync(desired).id, nil)
            } catch let error as VendorError where error.code == .conflict {
                guard let existing = try await client.sync(slug: desired.slug) else { throw error }
                try Self.checkImmutable(existing, against: desired)
                let differences = Self.differences(existing, desired)
                // Already what the spec says: ours, or indistinguishable from ours; nothing to send.
                if differences.isEmpty { return (existing.id, nil) }
                let retired = Self.isRetired(existing, differences: differences)
                guard retired || adopt else {
                    throw Self.foreignObject("sync", slug: desired.slug, id: existing.id, recorded: knownID, differences: differences)
                }
                let updated = try await client.updateSync(id: existing.id, update)
                return (updated.id, retired ? nil : Adoption(object: "sync \(existing.id) (\(desired.slug))", differences: differences))
            }
        } catch let failure as VendorFailure {
            throw failure
        } catch {
            throw Self.classify(error, doing: "ensure sync \(sync.slug)")
        }
    }

    /// What the update would change on a model found by slug: the fields it sends, as words.
    static func differences(_ existing: HightouchModel, _ update: HightouchModelUpdate) -> [String] {
        var differences: [String] = []
        if let name = update.name, existing.name != name { differences.append("name") }
        if let primaryKey = update.primaryKey, existing.primaryKey != primaryKey { differences.append("primary key") }
        if let isSchema = update.isSchema, existing.isSchema != isSchema { differences.append("isSchema") }
        let query =
            (update.raw.map { existing.raw != $0 } ?? false) || (update.table.map { existing.table != $0 } ?? false)
            || (update.visual.map { existing.visual != $0 } ?? false) || (update.custom.map { existing.custom != $0 } ?? false)
            || (update.dbt.map { existing.dbt != $0 } ?? false)
        if query { differences.append("query") }
        if let folder = update.folderID, existing.folderID != folder { differences.append("folder") }
        return differences
    }

    /// What the update would change on a sync found by slug (its model and destination cannot
    /// change: `checkImmutable` refuses those first).
    static func differences(_ existing: HightouchSync, _ desired: HightouchSyncCreate) -> [String] {
        var differences: [String] = []
        if existing.configuration != desired.configuration { differences.append("configuration") }
        if existing.schedule != desired.schedule { differences.append("schedule") }
        if existing.disabled != desired.disabled { differences.append("disabled") }
        return differences
    }

    /// A sync disabled with no schedule and otherwise as the spec says is what `retire` (a
    /// `delete` of this resource) leaves behind: re-applying the resource after its deleted state
    /// was purged finds it, and takes it back as its own (enabled and scheduled again).
    static func isRetired(_ existing: HightouchSync, differences: [String]) -> Bool {
        existing.disabled && existing.schedule == nil && !differences.contains("configuration")
    }

    /// An object under the spec's slug that this resource did not record and that differs from
    /// the spec: refused, nothing changed, the remedy named.
    static func foreignObject(_ kind: String, slug: String, id: HightouchID, recorded: HightouchID?, differences: [String]) -> VendorFailure {
        let recordedText = recorded.map { " (the \(kind) it recorded, \($0), is gone)" } ?? ""
        return .foreignObject(
            "\(kind) \(slug) at Hightouch is \(kind) \(id), which this resource did not create or record\(recordedText), and it differs from the spec in "
                + "\(differences.joined(separator: ", ")); nothing was changed. Apply again with factoryctl apply --adopt to take it over, or use another slug"
        )
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

    public func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference> {
        do {
            let syncID = try await triggerSyncID(spec, objects: objects)
            let runID: HightouchID
            do {
                runID = try await client.triggerRun(syncID: syncID, options: spec.trigger)
            } catch let error as VendorError where error.code == .notFound && spec.triggerSyncID == nil && syncID.rawValue == objects.syncID {
                // The sync this resource created is gone (deleted in Hightouch's UI, or a
                // simulator that restarted empty): the engine ensures it again.
                throw VendorFailure(kind: .gone, reason: "vendorNotFound", message: "sync \(syncID) (\(objects.syncSlug ?? "?")) no longer exists at Hightouch")
            }
            return TriggeredRun(
                reference: RunReference(syncID: syncID.rawValue, runID: runID.rawValue),
                observation: RunObservation(phase: .queued, vendorStatus: "queued", vendorRunID: runID.rawValue)
            )
        } catch let failure as VendorFailure {
            throw failure
        } catch {
            throw Self.classify(error, doing: "trigger a run")
        }
    }

    public func runs(since point: ResumePoint<NoBaseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>] {
        do {
            let syncID = try await triggerSyncID(spec, objects: objects)
            return try await client.runs(syncID: syncID, createdAtOrAfter: point.since).map { run in
                TriggeredRun(reference: RunReference(syncID: syncID.rawValue, runID: run.id.rawValue), observation: Self.observation(run))
            }
        } catch let failure as VendorFailure {
            throw failure
        } catch {
            throw Self.classify(error, doing: "list runs")
        }
    }

    public func observe(_ run: RunReference, objects: Objects) async throws(VendorFailure) -> RunObservation? {
        do {
            return try await client.run(syncID: HightouchID(run.syncID), runID: HightouchID(run.runID)).map(Self.observation)
        } catch {
            throw Self.classify(error, doing: "look at run \(run.runID)")
        }
    }

    public func retire(_ objects: Objects, spec: Spec?) async throws(VendorFailure) {
        guard let syncID = objects.syncID else { return }
        do {
            _ = try await client.updateSync(id: HightouchID(syncID), HightouchSyncUpdate(schedule: .manual, disabled: true))
        } catch let error as VendorError where error.code == .notFound {
            return  // already gone
        } catch {
            throw Self.classify(error, doing: "disable sync \(syncID)")
        }
    }

    /// The model and the sync as Hightouch has them against the spec: deleted, the sync disabled
    /// or rescheduled, its configuration or the model's query edited in Hightouch's UI.
    public func drift(_ spec: Spec, objects: Objects) async throws(VendorFailure) -> [DriftFinding] {
        var findings: [DriftFinding] = []
        do {
            if let id = objects.modelID {
                do {
                    let model = try await client.model(id: HightouchID(id))
                    if model.raw?.sql != spec.model.raw?.sql || model.table?.name != spec.model.table?.name {
                        findings.append(DriftFinding(kind: "query", message: "model \(id) (\(spec.model.slug)): its query differs from the spec"))
                    }
                    if model.primaryKey != spec.model.primaryKey || model.name != spec.model.name {
                        findings.append(DriftFinding(kind: "configuration", message: "model \(id) (\(spec.model.slug)): its name or primary key differs from the spec"))
                    }
                } catch let error as VendorError where error.code == .notFound {
                    findings.append(DriftFinding(kind: "vanished", message: "model \(id) (\(spec.model.slug)) no longer exists at Hightouch"))
                }
            }
            if let id = objects.syncID {
                do {
                    let sync = try await client.sync(id: HightouchID(id))
                    if sync.disabled != spec.sync.disabled {
                        findings.append(DriftFinding(kind: "disabled", message: "sync \(id) (\(spec.sync.slug)) is \(sync.disabled ? "disabled" : "enabled"), the spec says \(spec.sync.disabled ? "disabled" : "enabled")"))
                    }
                    if sync.configuration != spec.sync.configuration {
                        findings.append(DriftFinding(kind: "configuration", message: "sync \(id) (\(spec.sync.slug)): its configuration differs from the spec"))
                    }
                    if sync.schedule != spec.sync.schedule {
                        findings.append(DriftFinding(kind: "schedule", message: "sync \(id) (\(spec.sync.slug)): its schedule differs from the spec"))
                    }
                } catch let error as VendorError where error.code == .notFound {
                    findings.append(DriftFinding(kind: "vanished", message: "sync \(id) (\(spec.sync.slug)) no longer exists at Hightouch"))
                }
            }
        } catch {
            throw Self.classify(error, doing: "check \(spec.sync.slug) for drift")
        }
        return findings
    }

    /// State version 1 kept only the run id; the sync is the one runs are triggered on.
    public func legacyReference(runID: String, spec: Spec, objects: Objects) async throws(VendorFailure) -> RunReference? {
        do {
            return RunReference(syncID: try await triggerSyncID(spec, objects: objects).rawValue, runID: runID)
        } catch let failure as VendorFailure {
            throw failure
        } catch {
            throw Self.classify(error, doing: "find the sync of run \(runID)")
        }
    }

    /// The sync a run is triggered on: the spec's `trigger.syncId` or `trigger.syncSlug` when
    /// given (the seed schema allows naming another sync), else the sync the spec declares.
    private func triggerSyncID(_ spec: Spec, objects: Objects) async throws -> HightouchID {
        if let id = spec.triggerSyncID { return HightouchID(id) }
        if let slug = spec.triggerSyncSlug, slug != objects.syncSlug {
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

    // MARK: - Observations

    /// Hightouch's run statuses as phases. `pending` and `aborted` are words Hightouch's own
    /// Airflow provider knows besides the spec's nine; any other word keeps the run followed,
    /// as that provider does ("Unexpected status").
    static func phase(_ status: HightouchSyncRunStatus) -> RunPhase {
        switch status {
        case .queued: return .queued
        case .querying, .processing, .reporting: return .running
        case .success: return .succeeded
        case .warning: return .warning
        case .failed, .interrupted: return .failed
        case .cancelled: return .cancelled
        case .unknown(let word):
            switch word {
            case "pending": return .queued
            case "canceled", "aborted": return .cancelled
            default: return .running
            }
        }
    }

    static func observation(_ run: HightouchSyncRun) -> RunObservation {
        RunObservation(
            phase: phase(run.status), vendorStatus: run.status.description, vendorRunID: run.id.rawValue,
            createdAt: run.createdAt, startedAt: run.startedAt, finishedAt: run.finishedAt,
            progress: run.completionRatio.flatMap { $0.isFinite ? $0 : nil },
            summary: RunDetails.summary(planned: run.plannedRows, successful: run.successfulRows, failed: run.failedRows),
            error: run.error,
            details: RunDetails.json(run)
        )
    }

    // MARK: - Detail

    public func objectRows(_ objects: Objects) -> [DetailRow] {
        [
            DetailRow("Model", Self.identifier(objects.modelID, slug: objects.modelSlug)),
            DetailRow("Sync", Self.identifier(objects.syncID, slug: objects.syncSlug)),
        ]
    }

    public func runRows(_ run: RunRecord) -> [DetailRow] {
        RunDetails.rows(run.details)
    }

    private static func identifier(_ id: String?, slug: String?) -> String {
        switch (id, slug) {
        case (let id?, let slug?): return "\(id) (\(slug))"
        case (let id?, nil): return id
        case (nil, let slug?): return "(\(slug))"
        case (nil, nil): return "-"
        }
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

/// A stored Hightouch value the driver cannot read.
struct HightouchValueError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A run's own fields, kept as the run's `details`: `querySize`, `completionRatio` and the row
/// counts `plannedRows`, `successfulRows`, `failedRows` (`added`, `changed`, `removed`): the
/// names state version 1 used, so its runs read as they are.
enum RunDetails {
    static func json(_ run: HightouchSyncRun) -> JSONValue? {
        var object = JSONObject()
        if let querySize = run.querySize { object["querySize"] = .number(JSONNumber(querySize)) }
        if let ratio = run.completionRatio.flatMap(JSONNumber.init) { object["completionRatio"] = .number(ratio) }
        for (key, counts) in [("plannedRows", run.plannedRows), ("successfulRows", run.successfulRows), ("failedRows", run.failedRows)] {
            if let counts { object[key] = rows(counts) }
        }
        return object.isEmpty ? nil : .object(object)
    }

    private static func rows(_ counts: HightouchRowCounts) -> JSONValue {
        ["added": .number(JSONNumber(counts.addedCount)), "changed": .number(JSONNumber(counts.changedCount)), "removed": .number(JSONNumber(counts.removedCount))]
    }

    /// `rows 950/2500` (successful and failed so far of planned), `, 3 failed` when some failed;
    /// nil while the vendor reports no rows (it reports zeros while querying).
    static func summary(planned: HightouchRowCounts?, successful: HightouchRowCounts?, failed: HightouchRowCounts?) -> String? {
        func total(_ counts: HightouchRowCounts?) -> Int? { counts.map { $0.addedCount + $0.changedCount + $0.removedCount } }
        let plannedTotal = total(planned)
        let successfulTotal = total(successful)
        let failedTotal = total(failed) ?? 0
        guard (plannedTotal ?? 0) > 0 || (successfulTotal ?? 0) > 0 || failedTotal > 0 else { return nil }
        var text = "rows \((successfulTotal ?? 0) + failedTotal)/\(plannedTotal.map(String.init) ?? "?")"
        if failedTotal > 0 { text += ", \(failedTotal) failed" }
        return text
    }

    /// `Query size`, `Planned rows`, `Successful rows`, `Failed rows`.
    static func rows(_ details: JSONValue?) -> [DetailRow] {
        guard let details else { return [] }
        var rows: [DetailRow] = []
        if let size = details["querySize"]?.numberValue?.intValue { rows.append(DetailRow("Query size", "\(size) rows")) }
        for (label, key) in [("Planned rows", "plannedRows"), ("Successful rows", "successfulRows"), ("Failed rows", "failedRows")] {
            rows.append(DetailRow(label, breakdown(details[key])))
        }
        return rows
    }

    /// `added 2500, changed 0, removed 0`.
    private static func breakdown(_ counts: JSONValue?) -> String {
        guard let counts, counts.objectValue != nil else { return "-" }
        func number(_ key: String) -> String { counts[key]?.numberValue?.intValue.map(String.init) ?? "?" }
        return "added \(number("added")), changed \(number("changed")), removed \(number("removed"))"
    }
}
