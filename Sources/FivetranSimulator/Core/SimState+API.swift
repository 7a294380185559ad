import SimulatorKit

// MARK: - The API's operations

extension SimState {
    /// `GET /v1/connectors/{id}`.
    mutating func details(_ id: String, _ family: SimFamily, now: Double) throws(SimFailure) -> SimJSON {
        let connector = try self.existing(id, family, now: now)
        return .object(["code": "Success", "data": connector.json(now: now)])
    }

    /// Fields `PATCH /v1/connectors/{id}` accepts and the simulator ignores (they change nothing
    /// it simulates), so clients sending them are not refused.
    static let ignoredUpdateFields: Set<String> = [
        "data_delay_sensitivity", "data_delay_threshold", "proxy_agent_id", "networking_method", "private_link_id",
        "hybrid_deployment_agent_id", "local_processing_agent_id", "auth", "connect_card_config",
    ]

    /// `PATCH /v1/connectors/{id}`: `schedule_type`, `paused`, `sync_frequency`, `daily_sync_time`,
    /// `pause_after_trial`, `config` (merged), `run_setup_tests`, `trust_certificates`,
    /// `trust_fingerprints`. Pausing stops a running sync without moving either timestamp;
    /// unpausing starts what was asked for while paused.
    mutating func update(_ id: String, body: SimJSON?, _ family: SimFamily, now: Double) throws(SimFailure) -> SimJSON {
        var connector = try self.existing(id, family, now: now)
        let fields = try SimFields(body, allowed: [
            "schedule_type", "paused", "sync_frequency", "daily_sync_time", "pause_after_trial", "config", "run_setup_tests",
            "trust_certificates", "trust_fingerprints",
        ], ignored: Self.ignoredUpdateFields)
        let scheduleType = try fields.string("schedule_type")
        if let scheduleType, scheduleType != "auto", scheduleType != "manual" {
            throw .invalidInput("Invalid value '\(scheduleType)' for schedule_type: use 'auto' or 'manual'.")
        }
        let paused = try fields.bool("paused")
        let frequency = try fields.integer("sync_frequency")
        let allowedFrequencies = [5, 15, 30, 60, 120, 180, 360, 480, 720, 1_440]
        if let frequency, !allowedFrequencies.contains(frequency) {
            throw .invalidInput("Invalid value \(frequency) for sync_frequency: use one of \(allowedFrequencies.map(String.init).joined(separator: ", ")) (minutes).")
        }
        let dailySyncTime = try fields.string("daily_sync_time")
        if let dailySyncTime, !Self.isHourOfDay(dailySyncTime) {
            throw .invalidInput("Invalid value '\(dailySyncTime)' for daily_sync_time: use HH:00, e.g. 03:00.")
        }
        let pauseAfterTrial = try fields.bool("pause_after_trial")
        let config = try fields.object("config")
        let runSetupTests = try fields.bool("run_setup_tests")
        _ = try fields.bool("trust_certificates")
        _ = try fields.bool("trust_fingerprints")

        if let scheduleType { connector.scheduleType = scheduleType }
        if let frequency { connector.syncFrequency = frequency }
        if let dailySyncTime { connector.dailySyncTime = dailySyncTime }
        if let pauseAfterTrial { connector.pauseAfterTrial = pauseAfterTrial }
        if let config {
            for member in config.members { connector.config[member.key] = member.value }
        }
        var startAfter: SimSync.Kind?
        if let paused, paused != connector.paused {
            connector.paused = paused
            if paused {
                connector.active = nil
            } else {
                startAfter = connector.pendingWhilePaused
                connector.pendingWhilePaused = nil
            }
        }
        self.connectors[id] = connector
        self.counters.updates[id, default: 0] += 1
        if let startAfter { self.startSync(startAfter, connector: id, at: now) }
        if runSetupTests == true { _ = self.runSetupTests(id) }
        let updated = try self.existing(id, family, now: now)
        return .object(["code": "Success", "message": .string("\(family.noun) has been updated"), "data": updated.json(now: now)])
    }

    /// `POST /v1/connectors/{id}/sync` (`{"force": bool}` optional) and the older `POST …/force`
    /// (always forced: it stops a running sync and starts again). Without force a running sync
    /// goes on and is the sync the caller waits for; a rescheduled one stays rescheduled until
    /// `rescheduled_for` has passed; a paused connector syncs when unpaused.
    mutating func sync(_ id: String, body: SimJSON?, legacyForce: Bool, _ family: SimFamily, now: Double) throws(SimFailure) -> SimJSON {
        var connector = try self.existing(id, family, now: now)
        let fields = try SimFields(body, allowed: ["force"])
        let forceField = try fields.bool("force")
        let force = legacyForce || forceField == true
        self.counters.syncRequests[id, default: 0] += 1
        if connector.paused {
            if connector.pendingWhilePaused == nil { connector.pendingWhilePaused = .sync }
            self.connectors[id] = connector
        } else if connector.active != nil {
            if force {
                // Stopped: neither succeeded_at nor failed_at moves for the stopped sync.
                connector.active = nil
                self.connectors[id] = connector
                self.startSync(.sync, connector: id, at: now)
            }
        } else if let at = connector.rescheduledFor, !force, now < at {
            // Still deferred.
        } else if connector.rescheduledFor != nil {
            let kind = connector.rescheduledKind ?? .sync
            connector.rescheduledFor = nil
            connector.rescheduledKind = nil
            self.connectors[id] = connector
            self.startSync(kind, connector: id, at: now)
        } else if self.reschedules.count > 0 {
            self.reschedules.count -= 1
            connector.rescheduledFor = now + self.reschedules.delay
            connector.rescheduledKind = .sync
            self.connectors[id] = connector
        } else {
            self.startSync(.sync, connector: id, at: now)
        }
        try self.loseAnswerIfAsked()
        return .object([
            "code": "Success",
            "message": .string("Sync has been successfully triggered for \(family.noun.lowercased()) with id '\(id)'"),
        ])
    }

    /// The re-syncs: `POST …/resync` (`{"scope": {schema: [tables]}}` optional),
    /// `POST …/schemas/tables/resync` (`{schema: [tables]}`) and
    /// `POST …/schemas/{schema}/tables/{table}/resync`. A running sync makes them a 409 (Fivetran
    /// tries to finish it first and declines with 409 when it cannot; the simulator never can).
    mutating func resync(_ id: String, scope: [String: [String]]?, _ family: SimFamily, now: Double) throws(SimFailure) -> SimJSON {
        var connector = try self.existing(id, family, now: now)
        if connector.active != nil {
            throw SimFailure(
                status: 409, code: "Conflict",
                message: "\(family.noun) with id '\(id)' is syncing and the sync could not be completed first; the re-sync was declined. Try again when the sync has ended."
            )
        }
        self.counters.resyncs[id, default: 0] += 1
        for (schema, tables) in scope ?? [:] {
            for table in tables { self.counters.tableResyncs[id, default: [:]]["\(schema).\(table)", default: 0] += 1 }
        }
        if connector.paused {
            connector.pendingWhilePaused = .resync(scope: scope)
            self.connectors[id] = connector
        } else {
            connector.rescheduledFor = nil
            connector.rescheduledKind = nil
            self.connectors[id] = connector
            self.startSync(.resync(scope: scope), connector: id, at: now)
        }
        try self.loseAnswerIfAsked()
        return .object(["code": "Success", "message": "Re-sync has been triggered successfully"])
    }

    /// Reads a re-sync scope (`{schema: [table, ...]}`): every schema with at least one table.
    static func scope(_ value: SimJSON, field: String) throws(SimFailure) -> [String: [String]] {
        guard case .object(let object) = value else {
            throw .invalidInput("\(field) must be an object of schema names to arrays of table names.")
        }
        guard !object.isEmpty else { throw .invalidInput("\(field) must not be empty: name at least one schema and table.") }
        var scope: [String: [String]] = [:]
        for member in object.members {
            guard case .array(let elements) = member.value else {
                throw .invalidInput("\(field).\(member.key) must be an array of table names.")
            }
            let tables = elements.compactMap(\.stringValue)
            guard tables.count == elements.count else {
                throw .invalidInput("\(field).\(member.key) must hold table names (strings) only.")
            }
            guard !tables.isEmpty else {
                throw .invalidInput("\(field).\(member.key) must not be empty: name at least one table.")
            }
            scope[member.key] = tables
        }
        return scope
    }

    /// `POST /v1/connectors/{id}/test` (no body, `{}`, or the trust flags): runs the setup tests.
    mutating func test(_ id: String, body: SimJSON?, _ family: SimFamily, now: Double) throws(SimFailure) -> SimJSON {
        _ = try self.existing(id, family, now: now)
        let fields = try SimFields(body, allowed: ["trust_certificates", "trust_fingerprints"])
        _ = try fields.bool("trust_certificates")
        _ = try fields.bool("trust_fingerprints")
        let tests = self.runSetupTests(id)
        guard let connector = self.connectors[id], case .object(var data) = connector.json(now: now) else { throw .notFound(family, id) }
        data["setup_tests"] = .array(tests.map(\.json))
        return .object(["code": "Success", "message": "Setup tests were completed", "data": .object(data)])
    }

    /// Runs the setup tests of `id`, applying the failure knobs; the setup state follows.
    mutating func runSetupTests(_ id: String) -> [SimSetupTest] {
        guard var connector = self.connectors[id] else { return [] }
        var results: [SimSetupTest] = []
        for title in Self.setupTestTitles {
            let index = self.setupFailures.firstIndex { failure in
                (failure.connectorID == nil || failure.connectorID == id) && (failure.title ?? Self.defaultFailingTest) == title
            }
            if let index {
                let failure = self.setupFailures[index]
                self.setupFailures[index].remaining -= 1
                if self.setupFailures[index].remaining <= 0 { self.setupFailures.remove(at: index) }
                let message = failure.message ?? (failure.status == .failed
                    ? "Simulated failure: could not connect to \(connector.service).internal.example.com:5432 (connection refused)"
                    : "Simulated warning: the user fivetran lacks SELECT on 2 tables; they will not be synced")
                results.append(SimSetupTest(title: title, status: failure.status.rawValue, message: message))
            } else {
                results.append(SimSetupTest(title: title, status: "PASSED", message: ""))
            }
        }
        connector.setupState = results.contains { $0.status == "FAILED" } ? "broken" : "connected"
        self.connectors[id] = connector
        self.counters.setupTests[id, default: 0] += 1
        return results
    }

    private static func isHourOfDay(_ text: String) -> Bool {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1] == "00", let hour = Int(parts[0]) else { return false }
        return (0..<24).contains(hour)
    }
}

// MARK: - SimFields

/// Reads a request body's fields, refusing (400 `InvalidInput`) a body that is not an object, a
/// field of the wrong type and a field the endpoint does not take. A missing body, `null` and
/// `{}` are all "no fields".
struct SimFields {
    private let object: SimObject

    init(_ body: SimJSON?, allowed: Set<String>, ignored: Set<String> = []) throws(SimFailure) {
        switch body {
        case nil, .null?:
            self.object = SimObject()
        case .object(let object)?:
            for key in object.keys where !allowed.contains(key) && !ignored.contains(key) {
                let accepted = allowed.sorted().joined(separator: ", ")
                throw .invalidInput("Unknown field '\(key)'. \(accepted.isEmpty ? "This endpoint takes no fields." : "Accepted fields: \(accepted).")")
            }
            self.object = object
        case let other?:
            throw .invalidInput("The request body must be a JSON object, not \(other.typeName).")
        }
    }

    func value(_ key: String) -> SimJSON? { self.object[key] }

    func string(_ key: String) throws(SimFailure) -> String? {
        switch self.object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        case let other?: throw .invalidInput("\(key) must be a string, not \(other.typeName).")
        }
    }

    func bool(_ key: String) throws(SimFailure) -> Bool? {
        switch self.object[key] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        case let other?: throw .invalidInput("\(key) must be true or false, not \(other.typeName).")
        }
    }

    func integer(_ key: String) throws(SimFailure) -> Int? {
        switch self.object[key] {
        case nil, .null?: return nil
        case .number(let value)? where value.rounded() == value && abs(value) < 1e12: return Int(value)
        case let other?: throw .invalidInput("\(key) must be a whole number, not \(other.text).")
        }
    }

    func number(_ key: String) throws(SimFailure) -> Double? {
        switch self.object[key] {
        case nil, .null?: return nil
        case .number(let value)?: return value
        case let other?: throw .invalidInput("\(key) must be a number, not \(other.typeName).")
        }
    }

    func object(_ key: String) throws(SimFailure) -> SimObject? {
        switch self.object[key] {
        case nil, .null?: return nil
        case .object(let value)?: return value
        case let other?: throw .invalidInput("\(key) must be an object, not \(other.typeName).")
        }
    }
}
