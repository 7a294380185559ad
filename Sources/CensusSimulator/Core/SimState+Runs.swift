import SimulatorKit

// MARK: - Triggers

extension SimState {
    /// `POST /syncs/{id}/trigger`: creates a run and answers `{"sync_run_id": N}`.
    ///
    /// On an idle sync the run is `queued` for `queueDelay`, then works. On a sync whose earlier
    /// run is still going, it is `queued` for `skipAfter` (so a run just triggered is never
    /// `skipped`), and then `skipped` if that run is still going, as Census documents ("an
    /// earlier instance of the sync is still running").
    mutating func trigger(syncID: Int, forceFullSync: Bool?, via: String, now: Double) throws(SimFailure) -> SimJSON {
        guard self.syncs[syncID] != nil else { throw .notFound("Sync", String(syncID)) }
        let id = self.nextRunID
        self.nextRunID += 1
        let knobs = self.knobs
        let seed = knobs.seed
        let earlier = self.runsBySync[syncID] ?? []

        let busy = earlier.contains { $0.isActive(at: now) }
        var due = now + (busy ? max(knobs.queueDelay.seconds, knobs.skipAfter.seconds) : knobs.queueDelay.seconds)
        var outcome: CensusSimulator.RunOutcome
        var forcedError: String?
        if earlier.contains(where: { $0.isActive(at: due) }) {
            outcome = .skipped  // decided by the sync's state; a forced outcome waits for the next run
        } else {
            outcome = Self.drawOutcome(weights: knobs.outcomeWeights, seed: seed, runID: id)
            if var forced = self.forcedBySync[syncID] {
                outcome = forced.outcome
                forcedError = forced.error
                forced.remaining -= 1
                self.forcedBySync[syncID] = forced.remaining > 0 ? forced : nil
            } else if var forced = self.forcedQueue.first {
                outcome = forced.outcome
                forcedError = forced.error
                forced.remaining -= 1
                if forced.remaining > 0 { self.forcedQueue[0] = forced } else { self.forcedQueue.removeFirst() }
            }
            if outcome == .skipped {
                due = max(due, now + knobs.skipAfter.seconds)
            }
        }

        let fullSync = forceFullSync ?? false
        let sourceCount = SimRandom.integer(seed: seed, .recordCount, UInt64(id), in: 100...10_000)
        let processed = fullSync ? sourceCount : max(1, sourceCount * 3 / 10)
        let invalid = Int((Double(processed) * min(max(knobs.invalidRecordRate, 0), 1)).rounded(.down))
        let rejected = Int((Double(processed - invalid) * min(max(knobs.failedRecordRate, 0), 1)).rounded(.down))
        let failed = outcome == .failed
        let message = forcedError ?? knobs.failureMessage
        let run = SimRun(
            id: id, syncID: syncID, createdAt: now, due: due, duration: max(0, knobs.runDuration.seconds), outcome: outcome,
            fullSync: fullSync, sourceRecordCount: sourceCount, processed: processed, deletes: fullSync ? 0 : sourceCount / 50,
            invalid: invalid, rejected: rejected,
            errorCode: failed ? "DESTINATION_ERROR" : nil,
            errorMessage: failed ? message : nil,
            errorDetail: failed ? "Census stopped the sync after the destination refused a batch: \(message)" : nil
        )
        self.runsBySync[syncID, default: []].append(run)
        self.runLocation[id] = (syncID, self.runsBySync[syncID, default: []].count - 1)

        self.counters.triggersBySyncID[syncID, default: 0] += 1
        if self.triggerLog.count >= Self.maxTriggerLog { self.triggerLog.removeFirst(self.triggerLog.count / 2) }
        self.triggerLog.append(SimTriggerRecord(runID: id, syncID: syncID, forceFullSync: forceFullSync, via: via, skipped: outcome == .skipped, at: now))
        return Self.success(.object(["sync_run_id": .int(id)]))
    }

    /// A run that happened `ago` seconds before `now` on its own (a schedule, someone in the UI),
    /// ended as `outcome`: history for a sync, not counted as a trigger.
    mutating func addPastRun(syncID: Int, ago: Double, outcome: CensusSimulator.RunOutcome, now: Double) throws(SimFailure) -> Int {
        guard self.syncs[syncID] != nil else { throw .notFound("Sync", String(syncID)) }
        let id = self.nextRunID
        self.nextRunID += 1
        let createdAt = now - max(0, ago)
        let count = SimRandom.integer(seed: self.knobs.seed, .recordCount, UInt64(id), in: 100...10_000)
        let duration = min(max(0, self.knobs.runDuration.seconds), max(0, ago) / 2)
        let run = SimRun(
            id: id, syncID: syncID, createdAt: createdAt, due: createdAt, duration: duration, outcome: outcome, fullSync: false,
            sourceRecordCount: count, processed: max(1, count * 3 / 10), deletes: count / 50, invalid: 0, rejected: 0,
            errorCode: outcome == .failed ? "DESTINATION_ERROR" : nil, errorMessage: outcome == .failed ? self.knobs.failureMessage : nil,
            errorDetail: nil
        )
        // Kept in creation order, as the API lists runs.
        var runs = self.runsBySync[syncID] ?? []
        let position = runs.firstIndex { $0.createdAt > createdAt } ?? runs.count
        runs.insert(run, at: position)
        self.runsBySync[syncID] = runs
        for (index, run) in runs.enumerated() { self.runLocation[run.id] = (syncID, index) }
        return id
    }

    private static func drawOutcome(weights: [CensusSimulator.RunOutcome: Double], seed: UInt64, runID: Int) -> CensusSimulator.RunOutcome {
        let positive = CensusSimulator.RunOutcome.allCases.map { ($0, max(0, weights[$0] ?? 0)) }
        let total = positive.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return .completed }
        var point = SimRandom.unit(seed: seed, .outcome, UInt64(runID)) * total
        for (outcome, weight) in positive where weight > 0 {
            if point < weight { return outcome }
            point -= weight
        }
        return positive.last { $0.1 > 0 }?.0 ?? .completed
    }
}
