import FactoryModel

// MARK: - ProgressBar

/// A run's progress as text: `[#########---------------]  38%  rows 950/2500`.
enum ProgressBar {
    static let width = 24

    /// The bar alone, for a completion ratio in 0...1 (nil: nothing known yet, an empty bar).
    static func bar(_ ratio: Double?) -> String {
        let clamped = min(1, max(0, ratio ?? 0))
        let filled = Int((clamped * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
    }

    /// `38%`, right-aligned in four characters; `  ?%` when unknown.
    static func percent(_ ratio: Double?) -> String {
        guard let ratio else { return "  ?%" }
        let text = "\(Int((min(1, max(0, ratio)) * 100).rounded(.down)))%"
        return String(repeating: " ", count: max(0, 4 - text.count)) + text
    }

    /// Bar, percentage and rows processed so far: `[####----…]  38%  rows 950/2500, 3 failed`.
    static func line(_ run: ResourceStatusView.Run) -> String {
        var text = bar(run.completionRatio) + " " + percent(run.completionRatio)
        if let rows = RunRows.progress(run) { text += "  " + rows }
        return text
    }
}

// MARK: - RunRows

/// Row counts of a run, as the vendor reported them.
enum RunRows {
    static func total(_ rows: ResourceStatusView.Rows?) -> Int? {
        rows.map { $0.added + $0.changed + $0.removed }
    }

    /// `added 2500, changed 0, removed 0`.
    static func breakdown(_ rows: ResourceStatusView.Rows?) -> String {
        guard let rows else { return "-" }
        return "added \(rows.added), changed \(rows.changed), removed \(rows.removed)"
    }

    /// `rows 950/2500` (successful and failed so far of planned), `, 3 failed` when some failed;
    /// nil when the vendor reported no rows yet.
    static func progress(_ run: ResourceStatusView.Run) -> String? {
        let planned = total(run.plannedRows)
        let successful = total(run.successfulRows)
        let failed = total(run.failedRows) ?? 0
        // While the vendor is still querying it reports zeros: nothing to show yet.
        guard (planned ?? 0) > 0 || (successful ?? 0) > 0 || failed > 0 else { return nil }
        var text = "rows \((successful ?? 0) + failed)/\(planned.map(String.init) ?? "?")"
        if failed > 0 { text += ", \(failed) failed" }
        return text
    }
}
