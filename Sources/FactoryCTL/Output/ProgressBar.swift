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

    /// Bar, percentage and the driver's summary: `[####----…]  38%  rows 950/2500, 3 failed`.
    static func line(_ run: ResourceStatusView.Run) -> String {
        var text = bar(run.progress) + " " + percent(run.progress)
        if let summary = run.summary { text += "  " + summary }
        return text
    }
}
