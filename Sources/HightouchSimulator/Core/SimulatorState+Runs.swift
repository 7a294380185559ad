import SimulatorKit

// MARK: - Triggers and runs

extension SimulatorState {
    /// `POST /syncs/{syncId}/trigger` (path id as text: it is typed as a string).
    mutating func trigger(syncIDText: String, body: SimBody?, now: Double) throws(SimFailure) -> SimJSON {
        guard let syncID = Int(syncIDText), self.syncs[syncID] != nil else {
            throw .trigger(404, "Sync \(syncIDText) not found")
        }
        var validator = SimValidator(body: body, allowed: ["fullResync", "resetCDC", "clearAndFill"])
        let flags = SimTriggerFlags(
            fullResync: validator.bool("fullResync", required: false),
            resetCDC: validator.bool("resetCDC", required: false),
            clearAndFill: validator.bool("clearAndFill", required: false)
        )
        try validator.check()
        return try self.startRun(syncID: syncID, flags: flags, route: "POST /syncs/{syncId}/trigger", now: now)
    }

    /// `POST /syncs/trigger` by `syncId` (a string of digits) or `syncSlug`.
    mutating func triggerCustom(body: SimBody?, now: Double) throws(SimFailure) -> SimJSON {
        var validator = SimValidator(body: body, allowed: ["syncId", "syncSlug", "fullResync", "resetCDC", "clearAndFill"])
        var syncIDText: String?
        if case .number(let number)? = validator.value("syncId"), number >= 0, number.rounded() == number, number < 1e15 {
            // Typed as a string matching ^[0-9]+$; a JSON number is accepted as orchestrators send one.
            syncIDText = String(Int64(number))
        } else if validator.has("syncId") {
            if let text = validator.string("syncId", required: false) {
                if text.isEmpty || !text.allSatisfy(\.isASCIIDigit) {
                    validator.fail("syncId", "Not match in '^[0-9]+$'", value: .string(text))
                } else {
                    syncIDText = text
                }
            }
        }
        let slug = validator.string("syncSlug", required: false)
        let flags = SimTriggerFlags(
            fullResync: validator.bool("fullResync", required: false),
            resetCDC: validator.bool("resetCDC", required: false),
            clearAndFill: validator.bool("clearAndFill", required: false)
        )
        if validator.isValid, syncIDText == nil, slug == nil {
            validator.fail("syncId", "Either 'syncId' or 'syncSlug' is required")
        }
        try validator.check()

        let syncID: Int
        let route: String
        if let syncIDText {
            guard let id = Int(syncIDText), self.syncs[id] != nil else { throw .trigger(404, "Sync \(syncIDText) not found") }
            if let slug, self.syncs[id]?.slug != slug {
                throw .validation([
                    "requestBody.syncSlug": .object([
                        "message": .string("syncSlug \"\(slug)\" does not name sync \(syncIDText)"),
                        "value": .string(slug),
                    ])
                ])
            }
            syncID = id
            route = "POST /syncs/trigger (syncId)"
        } else if let slug {
            guard let id = self.syncIDBySlug[slug] else { throw .trigger(404, "Sync with slug \"\(slug)\" not found") }
            syncID = id
            route = "POST /syncs/trigger (syncSlug)"
        } else {
            throw .validation(validator.details)
        }
        return try self.startRun(syncID: syncID, flags: flags, route: route, now: now)
    }

    /// Creates a run. On a busy sync it is queued to start when the previous run ends, as the
    /// API documents ("queues a sync run that will get executed immediately after the current run
    /// completes"); every trigger creates its own run, so duplicate triggers are visible.
    private mutating func startRun(syncID: Int, flags: SimTriggerFlags, route: String, now: Double) throws(SimFailure) -> SimJSON {
        guard let sync = self.syncs[syncID] else { throw .trigger(404, "Sync \(syncID) not found") }
        guard !sync.disabled else {
            throw .trigger(400, "Sync \(syncID) is disabled; enable it (PATCH disabled=false) before triggering a run")
        }
        let id = self.nextRunID
        self.nextRunID += 1
        let knobs = self.knobs
        let seed = knobs.seed

        var outcome = Self.drawOutcome(weights: knobs.outcomeWeights, seed: seed, runID: id)
        var error: String?
        if var forced = self.forcedBySlug[sync.slug] {
            outcome = forced.outcome
            error = forced.error
            forced.remaining -= 1
            self.forcedBySlug[sync.slug] = forced.remaining > 0 ? forced : nil
        } else if var forced = self.forcedQueue.first {
            outcome = forced.outcome
            error = forced.error
            forced.remaining -= 1
            if forced.remaining > 0 { self.forcedQueue[0] = forced } else { self.forcedQueue.removeFirst() }
        }
        switch outcome {
        case .failed: error = error ?? knobs.failureMessage
        case .interrupted: error = error ?? "Run interrupted: the worker executing it stopped unexpectedly"
        case .cancelled: error = error ?? "Run cancelled"
        case .success, .warning: error = nil
        }

        let querySize = SimRandom.integer(seed: seed, .querySize, UInt64(id), in: 100...10_000)
        let planned: SimRowCounts
        if flags.resetCDC == true {
            planned = .zero  // rows are marked synced without sending changes
        } else if flags.fullResync == true || flags.clearAndFill == true {
            planned = SimRowCounts(added: querySize, changed: 0, removed: 0)
        } else {
            planned = SimRowCounts(added: querySize / 2, changed: querySize * 3 / 10, removed: querySize / 20)
        }

        let queueDelay = knobs.queueDelay.seconds
        let duration = max(0, knobs.runDuration.seconds)
        let start = max(now + queueDelay, self.busyUntil[syncID] ?? -Double.infinity)
        let run = SimRun(
            id: id,
            syncID: syncID,
            createdAt: now,
            start: start,
            queueDelay: queueDelay,
            duration: duration,
            outcome: outcome,
            end: start + duration * SimRun.endFraction(of: outcome),
            querySize: querySize,
            planned: planned,
            flags: flags,
            error: error
        )
        self.runsBySync[syncID, default: []].append(run)
        self.busyUntil[syncID] = max(self.busyUntil[syncID] ?? run.end, run.end)
        self.runLocation[id] = (syncID, self.runsBySync[syncID, default: []].count - 1)

        self.counters.triggersBySyncID[syncID, default: 0] += 1
        self.counters.triggersBySyncSlug[sync.slug, default: 0] += 1
        if self.triggerLog.count >= Self.maxTriggerLog { self.triggerLog.removeFirst(self.triggerLog.count / 2) }
        self.triggerLog.append(SimTriggerRecord(runID: id, syncID: syncID, syncSlug: sync.slug, route: route, flags: flags, at: now))
        return .object(["id": .string(String(id))])
    }

    private static func drawOutcome(
        weights: [HightouchSimulator.RunOutcome: Double],
        seed: UInt64,
        runID: Int
    ) -> HightouchSimulator.RunOutcome {
        let positive = HightouchSimulator.RunOutcome.allCases.map { ($0, max(0, weights[$0] ?? 0)) }
        let total = positive.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return .success }
        var point = SimRandom.unit(seed: seed, .outcome, UInt64(runID)) * total
        for (outcome, weight) in positive where weight > 0 {
            if point < weight { return outcome }
            point -= weight
        }
        return positive.last { $0.1 > 0 }?.0 ?? .success
    }

    // MARK: - Listing runs

    /// Filters of `GET /syncs/{syncId}/runs`; `after`, `before` and `within` apply to when runs
    /// started, as documented ("select sync runs that are started after given ISO timestamp").
    struct RunFilter: Sendable {
        var runID: Int?
        var after: Double?
        var before: Double?
        var withinMinutes: Double?
    }

    func listRuns(syncID: Int, filter: RunFilter, paging: SimPaging, now: Double) throws(SimFailure) -> SimJSON {
        guard self.syncs[syncID] != nil else { throw .notFound("Sync", String(syncID)) }
        let runs = self.runsBySync[syncID] ?? []
        let byStartTime = filter.after != nil || filter.before != nil || filter.withinMinutes != nil
        var matching: [SimRun]
        if !byStartTime, let runID = filter.runID {
            // The poller's look-up of one run: O(1).
            if let location = self.runLocation[runID], location.syncID == syncID {
                matching = [runs[location.position]]
            } else {
                matching = []
            }
        } else if !byStartTime {
            matching = runs
        } else {
            matching = runs.filter { run in
                guard run.hasStarted(at: now) else { return false }
                if let runID = filter.runID, run.id != runID { return false }
                if let after = filter.after, run.start <= after { return false }
                if let before = filter.before, run.start >= before { return false }
                if let within = filter.withinMinutes, run.start < now - within * 60 { return false }
                return true
            }
        }
        switch paging.orderBy {
        case "startedAt":
            matching.sort { ($0.hasStarted(at: now) ? $0.start : .infinity, $0.id) < ($1.hasStarted(at: now) ? $1.start : .infinity, $1.id) }
        case "finishedAt":
            matching.sort { (now >= $0.end ? $0.end : .infinity, $0.id) < (now >= $1.end ? $1.end : .infinity, $1.id) }
        default:
            break  // id and createdAt: creation order
        }
        let start = min(paging.offset, matching.count)
        let end = min(start + paging.limit, matching.count)
        return .object([
            "hasMore": .bool(end < matching.count),
            "data": .array(matching[start..<end].map { $0.json(at: now) }),
        ])
    }

    // MARK: - Admin: cancel a run

    /// Ends a queued or running run as `cancelled` now; later queued runs of the sync move up.
    mutating func cancelRun(id: Int, now: Double) throws(SimFailure) -> SimJSON {
        guard let location = self.runLocation[id], var runs = self.runsBySync[location.syncID] else {
            throw .notFound("Run", String(id))
        }
        var run = runs[location.position]
        guard run.isActive(at: now) else {
            throw SimFailure(status: 409, body: .object(["error": .string("Run \(id) already ended as \(run.outcome.rawValue)")]))
        }
        if !run.hasStarted(at: now) { run.start = now }
        run.end = now
        run.outcome = .cancelled
        run.error = "Run cancelled"
        runs[location.position] = run
        // Queued successors start when every earlier run has ended.
        var earlierEnd = runs[..<location.position].reduce(run.end) { max($0, $1.end) }
        for position in (location.position + 1)..<runs.count {
            var next = runs[position]
            if !next.hasStarted(at: now) {
                let start = max(next.createdAt + next.queueDelay, earlierEnd, now)
                next.end = start + next.duration * SimRun.endFraction(of: next.outcome)
                next.start = start
                runs[position] = next
            }
            earlierEnd = max(earlierEnd, next.end)
        }
        self.runsBySync[location.syncID] = runs
        self.busyUntil[location.syncID] = runs.reduce(-Double.infinity) { max($0, $1.end) }
        return run.json(at: now)
    }
}

// MARK: - Bulk creation

extension SimulatorState {
    /// Creates `count` syncs through the same validation as `POST /syncs`, optionally triggering
    /// each once. For load tests and benchmarks (10,000 syncs in milliseconds).
    mutating func bulkCreateSyncs(
        count: Int,
        slugPrefix: String,
        modelID: Int,
        destinationID: Int,
        trigger: Bool,
        now: Double
    ) throws(SimFailure) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(max(0, count))
        for index in 0..<max(0, count) {
            let body: SimBody = .json(.object([
                "slug": .string("\(slugPrefix)-\(index)"),
                "configuration": .object([:]),
                "destinationId": .int(destinationID),
                "modelId": .int(modelID),
                "schedule": .null,
                "disabled": .bool(false),
            ]))
            _ = try self.createSync(body: body, now: now)
            let id = self.nextSyncID - 1
            ids.append(id)
            if trigger {
                _ = try self.trigger(syncIDText: String(id), body: .json(.object(["fullResync": .bool(false), "resetCDC": .bool(false)])), now: now)
            }
        }
        return ids
    }
}

extension Character {
    var isASCIIDigit: Bool { self >= "0" && self <= "9" }
}
