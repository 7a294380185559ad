import Foundation
import SimulatorKit

// MARK: - SimStateFile

/// The state file's content, format version 1: what a simulator keeps across a stop and a start.
///
/// It holds the workspace (sources, destinations, models, syncs), every run with its whole
/// timeline (so a run resumes from its timestamps: one that would have ended while the simulator was
/// down has ended), the id counters, the simulated clock's offset, the trigger log and the counters.
/// Knobs, tokens and forced outcomes are not in it: they come from the configuration and the admin
/// calls of each start. Times are simulated seconds since 1970 as JSON numbers, not ISO text, so a
/// timeline is restored to the bit and a restored run answers exactly what it answered before.
struct SimStateFile: Codable, Sendable {
    /// The format this simulator writes and reads. A file with a higher one was written by a newer
    /// simulator and is refused rather than half understood.
    static let currentVersion = 1

    var version: Int
    /// Wall-clock time of the write (ISO 8601), for people reading the file; not read back.
    var savedAt: String
    /// The simulated clock's offset from the wall clock (`/_admin/time/advance`), in seconds.
    var clockOffsetSeconds: Double
    var nextIDs: NextIDs
    var sources: [Connection]
    var destinations: [Connection]
    /// In creation order.
    var models: [Model]
    /// In creation order.
    var syncs: [Sync]
    /// Sync by sync (in the syncs' order), each sync's runs in creation order.
    var runs: [Run]
    /// Oldest first.
    var triggerLog: [Trigger]
    var counters: Counters

    enum CodingKeys: String, CodingKey {
        case version, savedAt, clockOffsetSeconds, nextIDs = "nextIds", sources, destinations, models, syncs, runs, triggerLog, counters
    }

    struct NextIDs: Codable, Sendable {
        var model: Int
        var sync: Int
        var run: Int
    }

    struct Connection: Codable, Sendable {
        var id: Int
        var name: String
        var slug: String
        var type: String
        var createdAt: Double
        var updatedAt: Double
    }

    struct Model: Codable, Sendable {
        var id: Int
        var name: String
        var slug: String
        var description: String
        var primaryKey: String
        var sourceID: Int
        var queryType: String
        var tags: [Tag]
        var isSchema: Bool
        /// The query objects by their API name (`raw`, `table`, ...): a JSON object.
        var queries: SimJSON
        var folderID: String?
        var createdAt: Double
        var updatedAt: Double

        enum CodingKeys: String, CodingKey {
            case id, name, slug, description, primaryKey, sourceID = "sourceId", queryType, tags, isSchema, queries, folderID = "folderId",
                createdAt, updatedAt
        }
    }

    struct Tag: Codable, Sendable {
        var key: String
        var value: String
    }

    struct Sync: Codable, Sendable {
        var id: Int
        var slug: String
        var destinationID: Int
        var modelID: Int
        /// A JSON object.
        var configuration: SimJSON
        /// `null` or a JSON object.
        var schedule: SimJSON
        var disabled: Bool
        var createdAt: Double
        var updatedAt: Double

        enum CodingKeys: String, CodingKey {
            case id, slug, destinationID = "destinationId", modelID = "modelId", configuration, schedule, disabled, createdAt, updatedAt
        }
    }

    struct Run: Codable, Sendable {
        var id: Int
        var syncID: Int
        var createdAt: Double
        var start: Double
        var queueDelay: Double
        var duration: Double
        var outcome: HightouchSimulator.RunOutcome
        var end: Double
        var querySize: Int
        var planned: Rows
        var flags: Flags
        var error: String?

        enum CodingKeys: String, CodingKey {
            case id, syncID = "syncId", createdAt, start, queueDelay, duration, outcome, end, querySize, planned, flags, error
        }
    }

    struct Rows: Codable, Sendable {
        var added: Int
        var changed: Int
        var removed: Int
    }

    struct Flags: Codable, Sendable {
        var fullResync: Bool?
        var resetCDC: Bool?
        var clearAndFill: Bool?
    }

    struct Trigger: Codable, Sendable {
        var runID: Int
        var syncID: Int
        var syncSlug: String
        var route: String
        var flags: Flags
        var at: Double

        enum CodingKeys: String, CodingKey {
            case runID = "runId", syncID = "syncId", syncSlug, route, flags, at
        }
    }

    struct Counters: Codable, Sendable {
        /// Route → status (as text, JSON keys being strings) → count.
        var requests: [String: [String: Int]]
        /// Sync id (as text) → accepted triggers.
        var triggersBySyncID: [String: Int]
        var triggersBySyncSlug: [String: Int]
        var rateLimited: Int
        var injectedFaults: Int
        /// Runs with a higher id are counted in `runsByStatus` (a counter reset moves it).
        var runWatermark: Int

        enum CodingKeys: String, CodingKey {
            case requests, triggersBySyncID = "triggersBySyncId", triggersBySyncSlug, rateLimited, injectedFaults, runWatermark
        }
    }
}

// MARK: - Reading

/// Why a state file cannot be used, as a predicate on the file ("is not JSON", "has the wrong
/// shape: ...").
struct SimStateFileProblem: Error, Sendable {
    let problem: String
}

extension SimStateFile {
    /// Parses and checks a state file's bytes: JSON, an object, a format version this simulator
    /// reads, the shape of version 1, and references that hold together (every sync's model and
    /// destination, every run's sync, unique ids and slugs, id counters past every id).
    ///
    /// - Parameters:
    ///   - seedSources: source ids the configuration adds, which models may use too.
    ///   - seedDestinations: destination ids the configuration adds.
    static func decode(_ data: Data, seedSources: Set<Int>, seedDestinations: Set<Int>) throws(SimStateFileProblem) -> SimStateFile {
        guard !data.isEmpty else { throw SimStateFileProblem(problem: "is empty, not JSON") }
        let json: SimJSON
        do {
            json = try JSONDecoder().decode(SimJSON.self, from: data)
        } catch {
            throw SimStateFileProblem(problem: "is not JSON")
        }
        guard case .object(let top) = json else {
            throw SimStateFileProblem(problem: "is not a JSON object but \(json.typeName == "array" ? "an" : "a") \(json.typeName)")
        }
        guard let versionValue = top["version"] else {
            throw SimStateFileProblem(problem: "has no \"version\": it is not a simulator state file")
        }
        guard case .number(let version) = versionValue, version.rounded() == version, abs(version) < 1e15 else {
            throw SimStateFileProblem(problem: "has a \"version\" that is not a whole number (\(versionValue.text))")
        }
        guard Int(version) <= Self.currentVersion else {
            throw SimStateFileProblem(
                problem: "has format version \(Int(version)), newer than this simulator reads (\(Self.currentVersion)); a newer simulator wrote it")
        }
        guard Int(version) >= 1 else {
            throw SimStateFileProblem(problem: "has format version \(Int(version)), which no simulator writes (versions start at 1)")
        }

        let file: SimStateFile
        do {
            file = try JSONDecoder().decode(SimStateFile.self, from: data)
        } catch let error as DecodingError {
            throw SimStateFileProblem(problem: "has the wrong shape: \(Self.describe(error))")
        } catch {
            throw SimStateFileProblem(problem: "has the wrong shape: \(error)")
        }
        do {
            try file.check(seedSources: seedSources, seedDestinations: seedDestinations)
        } catch {
            throw SimStateFileProblem(problem: "has the wrong shape: \(error.problem)")
        }
        return file
    }

    /// The references between the records, which JSON's shape alone does not guarantee.
    private func check(seedSources: Set<Int>, seedDestinations: Set<Int>) throws(SimStateFileProblem) {
        func fail(_ problem: String) -> SimStateFileProblem { SimStateFileProblem(problem: problem) }
        func unique(_ ids: [Int], _ kind: String) throws(SimStateFileProblem) -> Set<Int> {
            var seen = Set<Int>()
            for id in ids where !seen.insert(id).inserted { throw fail("\(kind) \(id) appears twice") }
            return seen
        }
        func uniqueSlugs(_ slugs: [String], _ kind: String) throws(SimStateFileProblem) {
            var seen = Set<String>()
            for slug in slugs where !seen.insert(slug).inserted { throw fail("two \(kind)s have the slug \"\(slug)\"") }
        }

        let sources = try unique(self.sources.map(\.id), "source").union(seedSources)
        let destinations = try unique(self.destinations.map(\.id), "destination").union(seedDestinations)
        let models = try unique(self.models.map(\.id), "model")
        let syncs = try unique(self.syncs.map(\.id), "sync")
        let runs = try unique(self.runs.map(\.id), "run")
        try uniqueSlugs(self.models.map(\.slug), "model")
        try uniqueSlugs(self.syncs.map(\.slug), "sync")

        for model in self.models {
            guard sources.contains(model.sourceID) else { throw fail("model \(model.id) names source \(model.sourceID), which does not exist") }
            guard case .object = model.queries else { throw fail("model \(model.id)'s queries is not a JSON object") }
        }
        for sync in self.syncs {
            guard models.contains(sync.modelID) else { throw fail("sync \(sync.id) names model \(sync.modelID), which the file does not hold") }
            guard destinations.contains(sync.destinationID) else {
                throw fail("sync \(sync.id) names destination \(sync.destinationID), which does not exist")
            }
            guard case .object = sync.configuration else { throw fail("sync \(sync.id)'s configuration is not a JSON object") }
            switch sync.schedule {
            case .null, .object: break
            default: throw fail("sync \(sync.id)'s schedule is neither null nor a JSON object")
            }
        }
        for run in self.runs where !syncs.contains(run.syncID) {
            throw fail("run \(run.id) belongs to sync \(run.syncID), which the file does not hold")
        }
        // The counters must be past every id, or the next object created would reuse one.
        for (kind, next, ids) in [("model", self.nextIDs.model, models), ("sync", self.nextIDs.sync, syncs), ("run", self.nextIDs.run, runs)] {
            if let highest = ids.max(), next <= highest {
                throw fail("nextIds.\(kind) is \(next), not above the highest \(kind) id \(highest)")
            }
        }
        for (route, byStatus) in self.counters.requests {
            for status in byStatus.keys where Int(status) == nil {
                throw fail("counters.requests[\"\(route)\"] has the status \"\(status)\", not a number")
            }
        }
        for key in self.counters.triggersBySyncID.keys where Int(key) == nil {
            throw fail("counters.triggersBySyncId has the key \"\(key)\", not a sync id")
        }
    }

    /// `models[0].slug is missing`: where the decoder stopped and why, in the file's terms.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return text.isEmpty ? "the top level" : text
        }
        func expected(_ type: Any.Type) -> String {
            switch type {
            case is Int.Type: "a whole number"
            case is Double.Type: "a number"
            case is String.Type: "a string"
            case is Bool.Type: "a boolean"
            case is [Any].Type: "an array"
            case is [String: Any].Type: "an object"
            default: "a \(type)"
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) is not \(expected(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null, not \(expected(type))"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

// MARK: - State ↔ file

extension SimulatorState {
    /// The persisted part of the state, as the file holds it.
    func stateFile(savedAt: Date) -> SimStateFile {
        func connection(_ record: SimConnection) -> SimStateFile.Connection {
            SimStateFile.Connection(
                id: record.id, name: record.name, slug: record.slug, type: record.type, createdAt: record.createdAt, updatedAt: record.updatedAt)
        }
        func flags(_ flags: SimTriggerFlags) -> SimStateFile.Flags {
            SimStateFile.Flags(fullResync: flags.fullResync, resetCDC: flags.resetCDC, clearAndFill: flags.clearAndFill)
        }
        var runs: [SimStateFile.Run] = []
        for syncID in self.syncOrder {
            for run in self.runsBySync[syncID] ?? [] {
                runs.append(
                    SimStateFile.Run(
                        id: run.id,
                        syncID: run.syncID,
                        createdAt: run.createdAt,
                        start: run.start,
                        queueDelay: run.queueDelay,
                        duration: run.duration,
                        outcome: run.outcome,
                        end: run.end,
                        querySize: run.querySize,
                        planned: SimStateFile.Rows(added: run.planned.added, changed: run.planned.changed, removed: run.planned.removed),
                        flags: flags(run.flags),
                        error: run.error
                    )
                )
            }
        }
        var requests: [String: [String: Int]] = [:]
        for (route, byStatus) in self.counters.requests {
            requests[route] = Dictionary(uniqueKeysWithValues: byStatus.map { (String($0.key), $0.value) })
        }
        return SimStateFile(
            version: SimStateFile.currentVersion,
            savedAt: SimTimestamp.format(savedAt.timeIntervalSince1970),
            clockOffsetSeconds: self.clockOffset,
            nextIDs: SimStateFile.NextIDs(model: self.nextModelID, sync: self.nextSyncID, run: self.nextRunID),
            sources: self.sourceOrder.compactMap { self.sources[$0] }.map(connection),
            destinations: self.destinationOrder.compactMap { self.destinations[$0] }.map(connection),
            models: self.modelOrder.compactMap { self.models[$0] }.map { model in
                SimStateFile.Model(
                    id: model.id,
                    name: model.name,
                    slug: model.slug,
                    description: model.description,
                    primaryKey: model.primaryKey,
                    sourceID: model.sourceID,
                    queryType: model.queryType,
                    tags: model.tags.map { SimStateFile.Tag(key: $0.0, value: $0.1) },
                    isSchema: model.isSchema,
                    queries: .object(model.queries),
                    folderID: model.folderID,
                    createdAt: model.createdAt,
                    updatedAt: model.updatedAt
                )
            },
            syncs: self.syncOrder.compactMap { self.syncs[$0] }.map { sync in
                SimStateFile.Sync(
                    id: sync.id,
                    slug: sync.slug,
                    destinationID: sync.destinationID,
                    modelID: sync.modelID,
                    configuration: sync.configuration,
                    schedule: sync.schedule,
                    disabled: sync.disabled,
                    createdAt: sync.createdAt,
                    updatedAt: sync.updatedAt
                )
            },
            runs: runs,
            triggerLog: self.triggerLog.map { record in
                SimStateFile.Trigger(
                    runID: record.runID, syncID: record.syncID, syncSlug: record.syncSlug, route: record.route, flags: flags(record.flags),
                    at: record.at)
            },
            counters: SimStateFile.Counters(
                requests: requests,
                triggersBySyncID: Dictionary(uniqueKeysWithValues: self.counters.triggersBySyncID.map { (String($0.key), $0.value) }),
                triggersBySyncSlug: self.counters.triggersBySyncSlug,
                rateLimited: self.counters.rateLimited,
                injectedFaults: self.counters.injectedFaults,
                runWatermark: self.runWatermark
            )
        )
    }

    /// Replaces the persisted part of the state with a checked file's (see
    /// ``SimStateFile/decode(_:seedSources:seedDestinations:)``), rebuilding the indexes derived
    /// from it. Knobs, tokens, forced outcomes and rate-limit windows stay as they are. Sources and
    /// destinations are the file's, plus any seed of `configuration` the file does not hold (so a
    /// seed added to the configuration appears).
    mutating func restore(from file: SimStateFile, configuration: HightouchSimulator.Configuration) {
        func connection(_ record: SimStateFile.Connection) -> SimConnection {
            SimConnection(id: record.id, name: record.name, slug: record.slug, type: record.type, createdAt: record.createdAt, updatedAt: record.updatedAt)
        }
        func flags(_ flags: SimStateFile.Flags) -> SimTriggerFlags {
            SimTriggerFlags(fullResync: flags.fullResync, resetCDC: flags.resetCDC, clearAndFill: flags.clearAndFill)
        }
        // The seeds as a fresh start would create them, stamped now, for those the file lacks.
        let seeded = SimulatorState(configuration: configuration, now: file.clockOffsetSeconds + Date().timeIntervalSince1970)

        self.clockOffset = file.clockOffsetSeconds
        var sources = Dictionary(file.sources.map { ($0.id, connection($0)) }, uniquingKeysWith: { first, _ in first })
        for (id, seed) in seeded.sources where sources[id] == nil { sources[id] = seed }
        self.sources = sources
        self.sourceOrder = sources.keys.sorted()
        var destinations = Dictionary(file.destinations.map { ($0.id, connection($0)) }, uniquingKeysWith: { first, _ in first })
        for (id, seed) in seeded.destinations where destinations[id] == nil { destinations[id] = seed }
        self.destinations = destinations
        self.destinationOrder = destinations.keys.sorted()

        self.models = [:]
        self.modelOrder = []
        self.modelIDBySlug = [:]
        for record in file.models {
            self.models[record.id] = SimModel(
                id: record.id,
                name: record.name,
                slug: record.slug,
                description: record.description,
                primaryKey: record.primaryKey,
                sourceID: record.sourceID,
                queryType: record.queryType,
                tags: record.tags.map { ($0.key, $0.value) },
                isSchema: record.isSchema,
                queries: record.queries.objectValue ?? SimObject(),
                folderID: record.folderID,
                createdAt: record.createdAt,
                updatedAt: record.updatedAt
            )
            self.modelOrder.append(record.id)
            self.modelIDBySlug[record.slug] = record.id
        }

        self.syncs = [:]
        self.syncOrder = []
        self.syncIDBySlug = [:]
        self.syncIDsByModel = [:]
        self.syncIDsByDestination = [:]
        for record in file.syncs {
            self.syncs[record.id] = SimSync(
                id: record.id,
                slug: record.slug,
                destinationID: record.destinationID,
                modelID: record.modelID,
                configuration: record.configuration,
                schedule: record.schedule,
                disabled: record.disabled,
                createdAt: record.createdAt,
                updatedAt: record.updatedAt
            )
            self.syncOrder.append(record.id)
            self.syncIDBySlug[record.slug] = record.id
            self.syncIDsByModel[record.modelID, default: []].append(record.id)
            self.syncIDsByDestination[record.destinationID, default: []].append(record.id)
        }

        var runsBySync: [Int: [SimRun]] = [:]
        self.runLocation = [:]
        self.busyUntil = [:]
        for record in file.runs {
            let run = SimRun(
                id: record.id,
                syncID: record.syncID,
                createdAt: record.createdAt,
                start: record.start,
                queueDelay: record.queueDelay,
                duration: record.duration,
                outcome: record.outcome,
                end: record.end,
                querySize: record.querySize,
                planned: SimRowCounts(added: record.planned.added, changed: record.planned.changed, removed: record.planned.removed),
                flags: flags(record.flags),
                error: record.error
            )
            self.runLocation[run.id] = (run.syncID, runsBySync[run.syncID, default: []].count)
            runsBySync[run.syncID, default: []].append(run)
            self.busyUntil[run.syncID] = max(self.busyUntil[run.syncID] ?? run.end, run.end)
        }
        self.runsBySync = runsBySync

        self.nextModelID = file.nextIDs.model
        self.nextSyncID = file.nextIDs.sync
        self.nextRunID = file.nextIDs.run
        self.triggerLog = file.triggerLog.map { record in
            SimTriggerRecord(runID: record.runID, syncID: record.syncID, syncSlug: record.syncSlug, route: record.route, flags: flags(record.flags), at: record.at)
        }
        var requests: [String: [Int: Int]] = [:]
        for (route, byStatus) in file.counters.requests {
            for (status, count) in byStatus {
                if let code = Int(status) { requests[route, default: [:]][code] = count }
            }
        }
        var triggersBySyncID: [Int: Int] = [:]
        for (key, count) in file.counters.triggersBySyncID {
            if let id = Int(key) { triggersBySyncID[id] = count }
        }
        self.counters = SimCounters(
            requests: requests,
            triggersBySyncID: triggersBySyncID,
            triggersBySyncSlug: file.counters.triggersBySyncSlug,
            rateLimited: file.counters.rateLimited,
            injectedFaults: file.counters.injectedFaults
        )
        self.runWatermark = file.counters.runWatermark
    }
}
