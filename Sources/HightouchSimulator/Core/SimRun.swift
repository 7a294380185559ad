import SimulatorKit

// MARK: - SimRowCounts

/// Added, changed and removed rows.
struct SimRowCounts: Sendable, Hashable {
    var added = 0
    var changed = 0
    var removed = 0

    static let zero = SimRowCounts()

    func scaled(by factor: Double) -> SimRowCounts {
        SimRowCounts(
            added: Int((Double(self.added) * factor).rounded(.down)),
            changed: Int((Double(self.changed) * factor).rounded(.down)),
            removed: Int((Double(self.removed) * factor).rounded(.down))
        )
    }

    static func - (lhs: SimRowCounts, rhs: SimRowCounts) -> SimRowCounts {
        SimRowCounts(added: lhs.added - rhs.added, changed: lhs.changed - rhs.changed, removed: lhs.removed - rhs.removed)
    }

    var json: SimJSON {
        .object(["addedCount": .int(self.added), "changedCount": .int(self.changed), "removedCount": .int(self.removed)])
    }
}

// MARK: - SimTriggerFlags

/// The flags a trigger carried; `nil` when the caller left a flag to the server's default.
struct SimTriggerFlags: Sendable, Hashable {
    var fullResync: Bool?
    var resetCDC: Bool?
    var clearAndFill: Bool?
}

// MARK: - SimRun

/// One sync run. Its whole timeline is fixed when it is created (start, phase boundaries, end,
/// outcome, row counts), so its status at any instant is computed on read: no timer per run, and
/// ten thousand running syncs cost nothing while nobody looks at them.
///
/// Timeline with duration D from `start`: querying for 0.2 D, processing for 0.6 D (completion
/// ratio rising 0 → 1), reporting for 0.2 D, then the outcome. Cancelled and interrupted runs stop
/// halfway through processing (0.5 D), leaving `completionRatio` at 0.5.
struct SimRun: Sendable {
    let id: Int
    let syncID: Int
    let createdAt: Double
    /// When it starts: after `queueDelay` on an idle sync, or when the previous run ends.
    var start: Double
    let queueDelay: Double
    let duration: Double
    var outcome: HightouchSimulator.RunOutcome
    /// When it ends.
    var end: Double
    let querySize: Int
    let planned: SimRowCounts
    let flags: SimTriggerFlags
    var error: String?

    /// Fraction of the duration after which a run with this outcome ends.
    static func endFraction(of outcome: HightouchSimulator.RunOutcome) -> Double {
        switch outcome {
        case .success, .warning, .failed: 1.0
        case .cancelled, .interrupted: 0.5
        }
    }

    /// Share of attempted rows the destination accepts.
    static func successShare(of outcome: HightouchSimulator.RunOutcome) -> Double {
        switch outcome {
        case .success, .cancelled, .interrupted: 1.0
        case .warning: 0.95
        case .failed: 0.0
        }
    }

    var queryEnd: Double { self.start + 0.2 * self.duration }
    var processingEnd: Double { self.start + 0.8 * self.duration }

    /// Progress through processing at `time`.
    func completionRatio(at time: Double) -> Double {
        guard self.duration > 0 else { return 1 }
        return min(max((time - self.queryEnd) / (0.6 * self.duration), 0), 1)
    }

    func status(at time: Double) -> String {
        if time >= self.end { return self.outcome.rawValue }
        if time < self.start { return "queued" }
        if time < self.queryEnd { return "querying" }
        if time < self.processingEnd { return "processing" }
        return "reporting"
    }

    func isActive(at time: Double) -> Bool { time < self.end }
    func hasStarted(at time: Double) -> Bool { time >= self.start }

    /// The run as `GET /syncs/{syncId}/runs` shows it at `time`.
    func json(at time: Double) -> SimJSON {
        let effective = min(time, self.end)
        let started = time >= self.start
        let finished = time >= self.end
        let queried = started && effective >= self.queryEnd
        let ratio = started ? self.completionRatio(at: effective) : 0
        let planned = queried ? self.planned : .zero
        let attempted = planned.scaled(by: ratio)
        let successful = attempted.scaled(by: Self.successShare(of: self.outcome))
        let failed = attempted - successful

        var object = SimObject()
        object["id"] = .int(self.id)
        object["createdAt"] = .string(SimTimestamp.format(self.createdAt))
        object["startedAt"] = started ? .string(SimTimestamp.format(self.start)) : .null
        object["finishedAt"] = finished ? .string(SimTimestamp.format(self.end)) : .null
        object["querySize"] = .int(queried ? self.querySize : 0)
        object["status"] = .string(self.status(at: time))
        object["completionRatio"] = .number((ratio * 1_000).rounded() / 1_000)
        object["plannedRows"] = planned.json
        object["successfulRows"] = successful.json
        object["failedRows"] = failed.json
        object["error"] = finished ? .optionalString(self.error) : .null
        return .object(object)
    }
}
