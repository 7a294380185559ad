import SimulatorKit

// MARK: - SimRun

/// One sync run. Its whole timeline is fixed when it is triggered (when it is due, how it ends,
/// its record counts), so its state at any instant is computed on read: no timer per run.
///
/// Timeline: `queued` from the trigger until it is due (`queueDelay` later, or `skipAfter` on a
/// busy sync), then `working` for the run duration D: `Prepare Sync` for 0.2 D (no counts yet),
/// `Running Sync` for 0.7 D (records sent growing 0 → all), `Finalize Sync` for 0.1 D; then
/// `completed`. A failing run fails at 0.6 D with the counts it had reached; a skipped run ends
/// `skipped` the moment it is due.
struct SimRun: Sendable {
    let id: Int
    let syncID: Int
    let createdAt: Double
    /// When it starts working, or is skipped.
    let due: Double
    let duration: Double
    let outcome: CensusSimulator.RunOutcome
    let fullSync: Bool
    /// Records in the source when it read it.
    let sourceRecordCount: Int
    /// New or updated records found in the source: the run's work (`records_processed`).
    let processed: Int
    let deletes: Int
    /// Of `processed`, at the end: skipped as invalid, rejected by the destination.
    let invalid: Int
    let rejected: Int
    let errorCode: String?
    let errorMessage: String?
    let errorDetail: String?

    /// When it ends.
    var end: Double {
        switch self.outcome {
        case .completed: self.due + self.duration
        case .failed: self.due + 0.6 * self.duration
        case .skipped: self.due
        }
    }

    func status(at time: Double) -> String {
        if time < self.due { return "queued" }
        if time >= self.end { return self.outcome.rawValue }
        return "working"
    }

    func isActive(at time: Double) -> Bool { time < self.end }

    /// How far through the run's work it is at `time`: the share of records sent (0 while
    /// preparing, 1 once finalizing).
    private func sentShare(at time: Double) -> Double {
        guard self.duration > 0 else { return 1 }
        let fraction = (min(time, self.end) - self.due) / self.duration
        return min(max((fraction - 0.2) / 0.7, 0), 1)
    }

    private func step(at time: Double) -> String? {
        guard time >= self.due, time < self.end else { return nil }
        let fraction = self.duration > 0 ? (time - self.due) / self.duration : 1
        if fraction < 0.2 { return "Prepare Sync" }
        if fraction < 0.9 { return "Running Sync" }
        return "Finalize Sync"
    }

    /// The run as `GET /sync_runs/{id}` shows it at `time`.
    func json(at time: Double) -> SimJSON {
        let status = self.status(at: time)
        // Counts exist once the source has been read (after preparing), and never for a run that
        // did not run.
        let counted = self.outcome != .skipped && time >= self.due && (self.duration <= 0 || time >= self.due + 0.2 * self.duration)
        let share = self.sentShare(at: time)
        let invalid = Int((Double(self.invalid) * share).rounded(.down))
        let rejected = Int((Double(self.rejected) * share).rounded(.down))
        let attempted = Int((Double(self.processed) * share).rounded(.down))
        let updated = max(0, attempted - invalid - rejected)
        let ended = time >= self.end
        let updatedAt = time < self.due ? self.createdAt : min(time, self.end)

        var object = SimObject()
        object["id"] = .int(self.id)
        object["sync_id"] = .int(self.syncID)
        object["source_record_count"] = counted ? .int(self.sourceRecordCount) : .null
        object["source_record_updates"] = counted ? .int(self.processed) : .null
        object["source_record_deletes"] = counted ? .int(self.deletes) : .null
        object["source_record_invalids"] = counted ? .int(self.invalid) : .null
        object["records_processed"] = counted ? .int(self.processed) : .null
        object["records_updated"] = counted ? .int(updated) : .null
        object["records_failed"] = counted ? .int(rejected) : .null
        object["records_invalid"] = counted ? .int(invalid) : .null
        object["created_at"] = .string(SimTimestamp.format(self.createdAt))
        object["updated_at"] = .string(SimTimestamp.format(updatedAt))
        // As in Census's own examples, only a completed run has `completed_at`.
        object["completed_at"] = ended && self.outcome == .completed ? .string(SimTimestamp.format(self.end)) : .null
        object["scheduled_execution_time"] = .null
        object["error_code"] = ended ? .optionalString(self.errorCode) : .null
        object["error_message"] = ended ? .optionalString(self.errorMessage) : .null
        object["error_detail"] = ended ? .optionalString(self.errorDetail) : .null
        object["status"] = .string(status)
        object["canceled"] = false
        object["full_sync"] = .bool(self.fullSync)
        object["current_step"] = .optionalString(self.step(at: time))
        object["sync_trigger_reason"] = .object(["ui_tag": "API", "ui_detail": "Triggered through the API"])
        return .object(object)
    }
}
