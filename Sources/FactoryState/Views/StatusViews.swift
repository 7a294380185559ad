import FactoryModel
import Foundation
import JSONSchema

/// How a resource type shows its own fields in a resource's detail: the vendor objects and a
/// run's details, as labelled rows. Drivers supply it; a reader without the driver (a KV watch
/// in factoryctl) shows the JSON as it is.
public protocol StatusDetailRows: Sendable {
    func objectRows(_ objects: JSONValue) -> [DetailRow]
    func runRows(_ run: RunRecord) -> [DetailRow]
    /// Whether the vendor lets a run be cancelled.
    var canCancel: Bool { get }
}

/// Records → the wire view of DESIGN.md's table and detail. Status queries answer with it, and
/// `factoryctl watch`, which reads the records from a KV watch, shows exactly the same.
public enum StatusViews {
    public static func view(
        entity: EntityRecord?, status: StatusRecord?, workspace: String, name: String, includeSpec: Bool, rows: (any StatusDetailRows)? = nil
    ) -> ResourceStatusView {
        let phase: ResourcePhase
        if let status {
            phase = status.phase
        } else {
            phase = entity?.deleted == true ? .deleted : .pending
        }
        var view = ResourceStatusView(
            name: name,
            version: entity?.manifest["version"]?.stringValue ?? "v1beta",
            workspace: workspace,
            status: phase.rawValue,
            runtime: (status?.runtime ?? .pending).rawValue,
            owner: entity?.owner,
            resourceType: entity?.type ?? status?.type ?? "-",
            generation: entity?.generation ?? 0,
            observedGeneration: status?.observedGeneration ?? 0
        )
        if let objects = status?.objects {
            view.vendor = objects
            view.vendorRows = rows?.objectRows(objects)
        }
        view.canCancel = rows?.canCancel
        view.currentRun = status?.currentRun.map { run($0, rows: rows) }
        view.lastRun = status?.lastRun.map { run($0, rows: rows) }
        if let error = status?.lastError {
            view.lastError = .init(reason: error.reason, message: error.message, commandId: error.commandID, at: Timestamp.format(error.at))
        }
        if let drift = status?.lastDrift {
            view.lastDrift = .init(found: drift.found, repair: drift.repair, kind: drift.kind, commandId: drift.commandID, at: Timestamp.format(drift.at))
        }
        if let last = entity?.lastCommand {
            view.lastCommand = .init(id: last.id, sequence: last.sequence, operation: last.operation, receivedAt: Timestamp.format(last.receivedAt))
        }
        if let active = entity?.activeCommand {
            view.activeCommand = .init(
                id: active.command.id, sequence: active.command.sequence, operation: active.command.operation,
                receivedAt: Timestamp.format(active.command.receivedAt), stage: active.stage.rawValue, owner: active.owner
            )
        }
        view.createdAt = (entity?.createdAt ?? status?.createdAt).map(Timestamp.format)
        view.updatedAt = [entity?.updatedAt, status?.updatedAt].compactMap { $0 }.max().map(Timestamp.format)
        view.deletedAt = status?.deletedAt.map(Timestamp.format)
        if includeSpec { view.spec = entity?.spec }
        return view
    }

    public static func run(_ run: RunRecord, rows: (any StatusDetailRows)? = nil) -> ResourceStatusView.Run {
        var view = ResourceStatusView.Run(id: run.displayID, status: run.vendorStatus, runtime: run.runtime.rawValue)
        view.key = run.key
        view.phase = run.phase.rawValue
        view.createdAt = run.createdAt.map(Timestamp.format)
        view.startedAt = run.startedAt.map(Timestamp.format)
        view.finishedAt = run.finishedAt.map(Timestamp.format)
        view.progress = run.progress.flatMap { $0.isFinite ? $0 : nil }
        view.summary = run.summary
        view.error = run.error
        view.details = run.details
        view.rows = rows.map { $0.runRows(run) }
        view.recordedAt = Timestamp.format(run.recordedAt)
        view.deadline = run.deadline.map(Timestamp.format)
        view.checkedAt = Timestamp.format(run.checkedAt)
        return view
    }
}
