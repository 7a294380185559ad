import FactoryEngine
import FactoryModel
import FactoryState
import Fivetran
import Foundation
import JSONSchema
import VendorHTTP

/// Fivetran's connector as run observations: the phase from the sync end times and the sync
/// state, a summary of one line, and the connector's own fields as the run's `details` (the
/// names below are what `runRows` reads back).
enum FivetranObservations {
    // MARK: - Sync runs (START, FORCE_RESYNC)

    /// A sync run as the connector shows it now: ended once `succeeded_at` or `failed_at` has
    /// moved past the reference (the later of the two decides when both have), else running while
    /// `syncing`, else queued (`scheduled`, `rescheduled`, `paused`: said in the summary).
    /// `justTriggered`: the connector was read before the sync call, so an idle state means "asked".
    static func sync(_ connector: FivetranConnector, _ run: FivetranDriver.RunReference, justTriggered: Bool = false) -> RunObservation {
        let succeeded = FivetranTimestamp.isNewer(connector.succeededAt, than: run.succeededAt)
        let failed = FivetranTimestamp.isNewer(connector.failedAt, than: run.failedAt)
        let details = syncDetails(connector, run)
        let state = connector.status.syncState
        if succeeded || failed {
            let success: Bool
            if succeeded, failed, let at = connector.succeededAt, let failure = connector.failedAt {
                success = at >= failure
            } else {
                success = succeeded
            }
            let at = success ? connector.succeededAt : connector.failedAt
            return RunObservation(
                phase: success ? .succeeded : .failed, vendorStatus: success ? "succeeded" : "failed",
                finishedAt: at?.date, progress: success ? 1 : nil,
                summary: "\(state.rawValue), \(success ? "succeeded" : "failed") \(at?.text ?? "")",
                error: success ? nil : failureMessage(connector), details: details
            )
        }
        switch state {
        case .syncing:
            let what = connector.status.isHistoricalSync == true ? "syncing (historical re-sync)" : "syncing"
            return RunObservation(phase: .running, vendorStatus: state.rawValue, summary: what, details: details)
        case .rescheduled:
            let until = connector.status.rescheduledFor.map { " until \($0.text)" } ?? ""
            return RunObservation(phase: .queued, vendorStatus: state.rawValue, summary: "rescheduled\(until)", details: details)
        case .paused:
            return RunObservation(
                phase: .queued, vendorStatus: state.rawValue, summary: "paused: the sync waits until the connector is unpaused", details: details
            )
        case .scheduled:
            return RunObservation(phase: .queued, vendorStatus: state.rawValue, summary: justTriggered ? "sync requested" : "scheduled", details: details)
        case .unknown(let word):
            // A state Fivetran adds later: keep following it (the timeout still applies).
            return RunObservation(phase: .running, vendorStatus: word, summary: word, details: details)
        }
    }

    /// Why a sync failed, as far as the connector says: its tasks and warnings.
    static func failureMessage(_ connector: FivetranConnector) -> String {
        let said = (connector.status.tasks + connector.status.warnings).compactMap { alert -> String? in
            guard let message = alert.message, !message.isEmpty else { return alert.code }
            return alert.code.map { "\($0): \(message)" } ?? message
        }
        if !said.isEmpty { return said.joined(separator: "; ") }
        return "Fivetran reports the sync failed at \(connector.failedAt?.text ?? "?"); the connector lists no task or warning, see its logs in Fivetran"
    }

    private static func syncDetails(_ connector: FivetranConnector, _ run: FivetranDriver.RunReference) -> JSONValue {
        var object = connectorDetails(connector)
        object["action"] = .string(run.action.rawValue)
        if let schema = run.schema, let table = run.table { object["table"] = .string("\(schema).\(table)") }
        return .object(object)
    }

    // MARK: - STATUS

    /// STATUS: the connector as it is, a finished, successful look.
    static func status(_ connector: FivetranConnector) -> RunObservation {
        var details = connectorDetails(connector)
        details["action"] = .string(FivetranDriver.Action.status.rawValue)
        let last = connector.lastCompletion.map { ", last \($0.succeeded ? "success" : "failure") \($0.at.text)" } ?? ", never synced"
        return RunObservation(
            phase: .succeeded, vendorStatus: connector.status.syncState.rawValue, finishedAt: Date(), progress: 1,
            summary: "\(connector.status.syncState.rawValue)\(connector.paused ? " (paused)" : "")\(last)", details: .object(details)
        )
    }

    // MARK: - TEST

    /// TEST: failed if any test `FAILED` (or the connector is still not connected), `warning` if
    /// any warned, else succeeded; each test's title, status and message in the details.
    static func tests(_ result: FivetranSetupTestResult) -> RunObservation {
        let tests = result.tests
        let failed = tests.filter { $0.status == .failed }
        let warned = tests.filter { $0.status == .warning }
        let setupState = result.connector.status.setupState
        let phase: RunPhase
        if !failed.isEmpty || setupState != .connected {
            phase = .failed
        } else if !warned.isEmpty {
            phase = .warning
        } else {
            phase = .succeeded
        }
        var counts = ["\(tests.filter { $0.status == .passed }.count) passed"]
        if !failed.isEmpty { counts.append("\(failed.count) failed") }
        if !warned.isEmpty { counts.append("\(warned.count) warned") }
        var error: String?
        if phase == .failed {
            let reasons = failed.map { "\"\($0.title)\" FAILED\($0.message.map { ": \($0)" } ?? "")" }
            error = reasons.isEmpty ? "the setup tests passed but the connector's setup_state is \(setupState)" : reasons.joined(separator: "; ")
        }
        var details = connectorDetails(result.connector)
        details["action"] = .string(FivetranDriver.Action.test.rawValue)
        details["setupTests"] = .array(tests.map { test in
            ["title": .string(test.title), "status": .string(test.status.rawValue), "message": .string(test.message ?? "")]
        })
        return RunObservation(
            phase: phase, vendorStatus: setupState.rawValue, finishedAt: Date(), progress: 1,
            summary: "\(tests.count) setup tests: \(counts.joined(separator: ", "))", error: error, details: .object(details)
        )
    }

    /// A late look at a TEST run: the connector's setup state is all there is.
    static func setupState(_ connector: FivetranConnector) -> RunObservation {
        var details = connectorDetails(connector)
        details["action"] = .string(FivetranDriver.Action.test.rawValue)
        let connected = connector.status.setupState == .connected
        return RunObservation(
            phase: connected ? .succeeded : .failed, vendorStatus: connector.status.setupState.rawValue, finishedAt: Date(), progress: 1,
            summary: "setup state \(connector.status.setupState.rawValue)",
            error: connected ? nil : "the connector's setup_state is \(connector.status.setupState.rawValue)", details: .object(details)
        )
    }

    // MARK: - Details

    /// The connector's status fields, as a run's details.
    static func connectorDetails(_ connector: FivetranConnector) -> JSONObject {
        var object = JSONObject()
        object["syncState"] = .string(connector.status.syncState.rawValue)
        object["setupState"] = .string(connector.status.setupState.rawValue)
        if let update = connector.status.updateState { object["updateState"] = .string(update) }
        object["succeededAt"] = connector.succeededAt.map { .string($0.text) } ?? .null
        object["failedAt"] = connector.failedAt.map { .string($0.text) } ?? .null
        object["paused"] = .bool(connector.paused)
        if let scheduleType = connector.scheduleType { object["scheduleType"] = .string(scheduleType.rawValue) }
        if let frequency = connector.syncFrequency { object["syncFrequency"] = .number(JSONNumber(frequency)) }
        if let historical = connector.status.isHistoricalSync { object["isHistoricalSync"] = .bool(historical) }
        if let due = connector.status.rescheduledFor { object["rescheduledFor"] = .string(due.text) }
        let alerts = { (alerts: [FivetranAlert]) -> JSONValue in
            .array(alerts.map { .string([$0.code, $0.message].compactMap { $0 }.joined(separator: ": ")) })
        }
        if !connector.status.tasks.isEmpty { object["tasks"] = alerts(connector.status.tasks) }
        if !connector.status.warnings.isEmpty { object["warnings"] = alerts(connector.status.warnings) }
        return object
    }

    /// `get -d`'s rows of a run: the action, the sync state and end times, the setup tests.
    static func rows(_ run: RunRecord) -> [DetailRow] {
        guard let details = run.details else { return [] }
        var rows: [DetailRow] = []
        if let action = details["action"]?.stringValue {
            rows.append(DetailRow("Action", action + (details["table"]?.stringValue.map { " \($0)" } ?? "")))
        }
        if let state = details["syncState"]?.stringValue {
            let due = details["rescheduledFor"]?.stringValue.map { " until \($0)" } ?? ""
            rows.append(DetailRow("Sync state", state + (state == "rescheduled" ? due : "")))
        }
        rows.append(DetailRow("Succeeded at", details["succeededAt"]?.stringValue ?? "-"))
        rows.append(DetailRow("Failed at", details["failedAt"]?.stringValue ?? "-"))
        if let setup = details["setupState"]?.stringValue { rows.append(DetailRow("Setup state", setup)) }
        for test in details["setupTests"]?.arrayValue ?? [] {
            let status = test["status"]?.stringValue ?? "?"
            let message = test["message"]?.stringValue ?? ""
            rows.append(DetailRow("Setup test \(test["title"]?.stringValue ?? "?")", message.isEmpty ? status : "\(status): \(message)"))
        }
        for (label, key) in [("Task", "tasks"), ("Warning", "warnings")] {
            for alert in details[key]?.arrayValue ?? [] {
                if let text = alert.stringValue { rows.append(DetailRow(label, text)) }
            }
        }
        return rows
    }
}
