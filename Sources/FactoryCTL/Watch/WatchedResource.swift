import FactoryModel
import FactoryState
import Foundation

// MARK: - WatchedResource

/// One resource as a KV watch sees it: its entity (desired state, the active command) and its
/// status (vendor objects, runs, last error), and what follows from them.
struct WatchedResource: Sendable {
    let workspace: String
    let name: String
    var entity: EntityRecord?
    var status: StatusRecord?

    init(workspace: String, name: String) {
        self.workspace = workspace
        self.name = name
    }

    var label: String { "\(workspace)/\(name)" }
    var exists: Bool { entity != nil || status != nil }

    /// What a status query would answer for it.
    var view: ResourceStatusView {
        StatusViews.view(entity: entity, status: status, workspace: workspace, name: name, includeSpec: false)
    }

    /// A command is working on it, or a vendor run is going.
    var isBusy: Bool {
        entity?.activeCommand != nil || status?.currentRun != nil
    }

    /// Takes in one document.
    mutating func record(_ document: StateEntryDecoder.Document) {
        switch document {
        case .entity(let entity): self.entity = entity
        case .status(let status): self.status = status
        }
    }

    /// Forgets a document whose key was deleted or purged (maintenance removes deleted resources).
    mutating func forget(kind: String) {
        if kind == "entity" { entity = nil } else { status = nil }
    }

    // MARK: - Following one command

    enum CommandProgress: Equatable {
        /// The state does not mention it (not fetched yet, or it changed nothing).
        case notSeen
        /// It is the resource's active command.
        case working
        /// It took effect (or failed for good); its run, if any, may still go on.
        case done
        /// It took effect and its run (if it started one) has ended.
        case finished
    }

    func progress(of target: CommandTarget) -> CommandProgress {
        if entity?.activeCommand?.command.id == target.id { return .working }
        let tookEffect = entity?.lastCommand?.id == target.id || status?.lastError?.commandID == target.id
        guard tookEffect else { return .notSeen }
        if let run = status?.currentRun, run.key == target.id { return .done }
        return .finished
    }

    // MARK: - Outcome

    /// How `target` ended: its own failure if the operator refused or failed it, else how the
    /// resource stands.
    func outcome(of target: CommandTarget) -> WatchOutcome {
        if let error = view.lastError, error.commandId == target.id {
            return .error(label: label, error: error)
        }
        return outcome
    }

    /// How things stand once nothing is going on.
    var outcome: WatchOutcome {
        let view = self.view
        if view.status == ResourcePhase.error.rawValue, let error = view.lastError {
            return .error(label: label, error: error)
        }
        if view.status == ResourcePhase.deleted.rawValue {
            return .deleted(label: label)
        }
        if let run = view.lastRun {
            return .run(label: label, run: run)
        }
        return .noRun(label: label, status: view.status)
    }
}

// MARK: - WatchOutcome

/// The final line of a watch, and whether it counts as success (exit status 0).
enum WatchOutcome: Sendable {
    case run(label: String, run: ResourceStatusView.Run)
    case error(label: String, error: ResourceStatusView.LastError)
    case deleted(label: String)
    case noRun(label: String, status: String)
    /// The operator consumed the command and found nothing to change.
    case unchanged(label: String, operation: String)

    var isSuccess: Bool {
        switch self {
        case .run(_, let run): return run.runtime == Runtime.succeeded.rawValue
        case .error: return false
        case .deleted, .noRun, .unchanged: return true
        }
    }

    var text: String {
        switch self {
        case .run(let label, let run):
            var text = "\(label): run \(run.id) \(Self.verb(run))"
            if let seconds = Self.seconds(from: run.startedAt ?? run.createdAt, to: run.finishedAt) {
                text += " in \(Self.format(seconds: seconds))"
            }
            if let summary = run.summary {
                text += ", \(summary)"
            }
            if let error = run.error { text += ": \(error)" }
            return text
        case .error(let label, let error):
            return "\(label): error (\(error.reason)): \(error.message)"
        case .deleted(let label):
            return "\(label): deleted"
        case .noRun(let label, let status):
            return "\(label): \(status), no run yet"
        case .unchanged(let label, let operation):
            return "\(label): the operator took the \(operation) and found nothing to change"
        }
    }

    /// `succeeded`, `succeeded with warnings`, `failed`, `failed (interrupted)`, `cancelled`,
    /// `timed out`: the run's phase, with the vendor's word where it says more.
    private static func verb(_ run: ResourceStatusView.Run) -> String {
        let phase = run.phase ?? run.runtime
        switch phase {
        case RunPhase.succeeded.rawValue: return "succeeded"
        case RunPhase.warning.rawValue: return "succeeded with warnings"
        default:
            let word = phase == RunPhase.timedOut.rawValue ? "timed out" : phase
            let vendorWords: Set<String> = [phase, "success", "succeeded", "error", "cancelled", "canceled"]
            return vendorWords.contains(run.status.lowercased()) ? word : "\(word) (\(run.status))"
        }
    }

    private static func seconds(from start: String?, to end: String?) -> Double? {
        guard let start = start.flatMap(Timestamp.parse), let end = end.flatMap(Timestamp.parse) else { return nil }
        return max(0, end.timeIntervalSince(start))
    }

    private static func format(seconds: Double) -> String {
        seconds < 60 ? String(format: "%.1fs", seconds) : "\(Int(seconds) / 60)m\(Int(seconds) % 60)s"
    }
}
