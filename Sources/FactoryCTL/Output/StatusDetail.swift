import FactoryModel
import JSONSchema

// MARK: - StatusDetail

/// `get -d`: everything the operator knows about one resource, as labelled lines: the table's
/// columns, the vendor objects and the current and last run (status, progress, error, and the
/// rows the resource type's driver supplies, such as Hightouch's rows planned, successful and
/// failed), generations, timestamps, commands and the last error.
enum StatusDetail {
    static func render(_ view: ResourceStatusView) -> String {
        var lines = Lines()
        lines.add("Name", view.name)
        lines.add("Workspace", view.workspace)
        lines.add("Version", view.version)
        lines.add("Type", "\(view.type) (\(view.resourceType))")
        lines.add("Owner", view.owner ?? "-")
        lines.add("Status", view.status)
        lines.add("Runtime", view.runtime)
        lines.add("Generation", "\(view.generation) (observed \(view.observedGeneration))")
        lines.add("Created", view.createdAt ?? "-")
        lines.add("Updated", view.updatedAt ?? "-")
        if let deletedAt = view.deletedAt { lines.add("Deleted", deletedAt) }

        if let vendor = view.vendor {
            lines.section("Vendor")
            for row in view.vendorRows ?? rows(of: vendor) { lines.add(row.label, row.value, indent: 1) }
        } else {
            lines.add("Vendor", "-")
        }

        run("Current run", view.currentRun, into: &lines)
        run("Last run", view.lastRun, into: &lines)

        if let drift = view.lastDrift {
            lines.section("Last drift repair")
            lines.add("Found", drift.found, indent: 1)
            lines.add("Repair", drift.repair, indent: 1)
            let command = "command \(drift.commandId ?? "-")"
            switch drift.kind {
            case "scheduled": lines.add("By", "the scheduled drift check", indent: 1)
            // Objects someone else made, taken over because the apply asked.
            case "adopted": lines.add("By", command + " (apply --adopt)", indent: 1)
            default: lines.add("By", command, indent: 1)
            }
            if let at = drift.at { lines.add("At", at, indent: 1) }
        }
        lines.add("Last command", command(view.lastCommand))
        lines.add("Active command", command(view.activeCommand))
        if let error = view.lastError {
            lines.section("Last error")
            lines.add("Reason", error.reason, indent: 1)
            lines.add("Message", error.message, indent: 1)
            if let commandId = error.commandId { lines.add("Command", commandId, indent: 1) }
            if let at = error.at { lines.add("At", at, indent: 1) }
        } else {
            lines.add("Last error", "-")
        }
        return lines.text
    }

    private static func run(_ label: String, _ run: ResourceStatusView.Run?, into lines: inout Lines) {
        guard let run else {
            lines.add(label, "-")
            return
        }
        lines.section(label)
        lines.add("ID", run.id, indent: 1)
        lines.add("Status", "\(run.status) (\(run.runtime))", indent: 1)
        if let progress = run.progress {
            lines.add("Progress", ProgressBar.bar(progress) + " " + ProgressBar.percent(progress).trimmingLeadingSpaces, indent: 1)
        }
        if let summary = run.summary { lines.add("Summary", summary, indent: 1) }
        if let rows = run.rows {
            for row in rows { lines.add(row.label, row.value, indent: 1) }
        } else if let details = run.details {
            for row in self.rows(of: details) { lines.add(row.label, row.value, indent: 1) }
        }
        lines.add("Error", run.error ?? "-", indent: 1)
        lines.add("Created", run.createdAt ?? "-", indent: 1)
        lines.add("Started", run.startedAt ?? "-", indent: 1)
        lines.add("Finished", run.finishedAt ?? "-", indent: 1)
        lines.add("Checked", run.checkedAt ?? "-", indent: 1)
    }

    /// A driver's JSON shown as it is, one member a line, when the answer has no rows for it
    /// (a KV watch, or an operator that does not host the type's driver).
    private static func rows(of value: JSONValue) -> [DetailRow] {
        guard let object = value.objectValue else { return [DetailRow("Value", value.serialized())] }
        return object.map { member in
            DetailRow(member.key, member.value.stringValue ?? member.value.serialized())
        }
    }

    private static func command(_ command: ResourceStatusView.Command?) -> String {
        guard let command else { return "-" }
        var text = "\(command.operation) at sequence \(command.sequence), id \(command.id)"
        if let receivedAt = command.receivedAt { text += ", received \(receivedAt)" }
        if let stage = command.stage { text += ", stage \(stage)" }
        if let owner = command.owner { text += ", held by \(owner)" }
        return text
    }

    // MARK: - Lines

    /// Labelled lines with the values aligned in one column.
    private struct Lines {
        static let valueColumn = 20
        var text = ""

        mutating func add(_ label: String, _ value: String, indent: Int = 0) {
            let head = String(repeating: "  ", count: indent) + label + ":"
            text += head + String(repeating: " ", count: max(1, Self.valueColumn - head.count)) + value + "\n"
        }

        mutating func section(_ label: String) {
            text += label + ":\n"
        }
    }
}

extension String {
    var trimmingLeadingSpaces: String {
        String(drop { $0 == " " })
    }
}
