import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HightouchSimulator
import NATSKit

/// Reads what the operator left behind, with its own decoding of the stored JSON (it does not
/// trust the operator's types), and what the simulator did.
struct ChaosObserver {
    static let stateBucket = "hightouch-operator-state"
    static let commandStream = "dataos-hightouch-entities"
    static let commandConsumer = "hightouch-entities-12121"
    static let followUpStream = "dataos-hightouch-followups"
    static let followUpConsumer = "hightouch-followers"
    static let deadLetterStream = "dataos-hightouch-deadletter"

    let jetStream: JetStreamContext
    let simulator: HightouchSimulator
    let simulatorURL: String
    let token: String

    // MARK: - KV documents, decoded independently

    struct StoredCommand: Decodable { var id: String }
    struct StoredActive: Decodable {
        var command: StoredCommand
        var stage: String?
    }
    struct StoredEntity: Decodable {
        var name: String
        var generation: Int
        var deleted: Bool
        var lastCommand: StoredCommand?
        var activeCommand: StoredActive?
    }
    /// A run of state version 2: its key is the id of the command that caused it.
    struct StoredRun: Decodable {
        var key: String
        var vendorRunID: String?
        var vendorStatus: String
    }
    /// The Hightouch driver's objects.
    struct StoredObjects: Decodable {
        var syncID: String?
        var syncSlug: String?
    }
    struct StoredError: Decodable { var reason: String }
    struct StoredStatus: Decodable {
        var version: Int
        var name: String
        var phase: String
        var observedGeneration: Int
        var objects: StoredObjects?
        var currentRun: StoredRun?
        var lastRun: StoredRun?
        var lastError: StoredError?
    }

    /// Every current entry of the state bucket: key → value.
    func stateEntries() async throws -> [String: [UInt8]] {
        let bucket = try await jetStream.keyValue(Self.stateBucket)
        let watcher = try await bucket.watch(">", options: KeyValueWatchOptions(ignoreDeletes: true))
        defer { watcher.stop() }
        var entries: [String: [UInt8]] = [:]
        for try await event in watcher {
            switch event {
            case .entry(let entry): entries[entry.key] = entry.value
            case .initialValuesDone: return entries
            }
        }
        return entries
    }

    /// How many resources of `names` are settled: a finished last run, no current run, no
    /// active command. Used for progress; the checker decides what is right.
    func settledCount(workspace: String) async throws -> (settled: Int, statuses: Int) {
        let entries = try await stateEntries()
        var settled = 0
        var statuses = 0
        let decoder = JSONDecoder()
        for (key, value) in entries where key.hasPrefix("status.\(workspace).") {
            statuses += 1
            guard let status = try? decoder.decode(StoredStatus.self, from: Data(value)) else { continue }
            guard status.currentRun == nil, let last = status.lastRun, ChaosChecker.terminalRunStatuses.contains(last.vendorStatus) else { continue }
            let entityKey = "entity.\(workspace).\(status.name)"
            if let entity = entries[entityKey].flatMap({ try? decoder.decode(StoredEntity.self, from: Data($0)) }), entity.activeCommand == nil {
                settled += 1
            }
        }
        return (settled, statuses)
    }

    func queue(stream: String, consumer: String) async throws -> ChaosObservation.Queue {
        let info = try await jetStream.streamInfo(stream)
        let consumerInfo = try await jetStream.consumerInfo(stream: stream, consumer: consumer)
        return ChaosObservation.Queue(
            stream: stream, messages: info.state.messages, pendingAcks: consumerInfo.pendingAcks, undelivered: consumerInfo.pendingMessages
        )
    }

    func deadLetters(limit: Int = 200) async throws -> [ChaosObservation.DeadLetter] {
        let info = try await jetStream.streamInfo(Self.deadLetterStream)
        guard info.state.messages > 0 else { return [] }
        var letters: [ChaosObservation.DeadLetter] = []
        var sequence = info.state.firstSequence
        while sequence <= info.state.lastSequence, letters.count < limit {
            if let message = try? await jetStream.message(stream: Self.deadLetterStream, sequence: sequence) {
                letters.append(
                    ChaosObservation.DeadLetter(
                        reason: message.headers["Factory-Dead-Letter-Reason"] ?? "?",
                        commandID: message.headers["Factory-Command-Id"],
                        resource: message.headers["Factory-Resource"]
                    )
                )
            }
            sequence += 1
        }
        return letters
    }

    /// Fills in the KV, stream and simulator parts of an observation.
    func observe(into observation: inout ChaosObservation, workspace: String) async throws {
        let entries = try await stateEntries()
        let commanded = Set(observation.commands.map(\.name))
        let decoder = JSONDecoder()
        for (key, value) in entries {
            let parts = key.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[1] == workspace[...], commanded.contains(String(parts[2])) else {
                observation.strayKeys.append(key)
                continue
            }
            let name = String(parts[2])
            switch parts[0] {
            case "entity":
                guard let entity = try? decoder.decode(StoredEntity.self, from: Data(value)) else {
                    observation.strayKeys.append(key + " (unreadable)")
                    continue
                }
                observation.entities[name] = ChaosObservation.Entity(
                    activeCommandID: entity.activeCommand?.command.id, activeStage: entity.activeCommand?.stage,
                    lastCommandID: entity.lastCommand?.id, generation: entity.generation, deleted: entity.deleted
                )
            case "status":
                guard let status = try? decoder.decode(StoredStatus.self, from: Data(value)) else {
                    observation.strayKeys.append(key + " (unreadable)")
                    continue
                }
                func view(_ run: StoredRun?) -> ChaosObservation.RunView? {
                    run.map { ChaosObservation.RunView(id: $0.vendorRunID ?? $0.key, status: $0.vendorStatus, commandID: $0.key) }
                }
                observation.statuses[name] = ChaosObservation.Status(
                    phase: status.phase, syncID: status.objects?.syncID, syncSlug: status.objects?.syncSlug,
                    currentRun: view(status.currentRun), lastRun: view(status.lastRun),
                    observedGeneration: status.observedGeneration, lastErrorReason: status.lastError?.reason
                )
            default:
                observation.strayKeys.append(key)
            }
        }
        observation.strayKeys.sort()
        observation.commandQueue = try await queue(stream: Self.commandStream, consumer: Self.commandConsumer)
        observation.followUpQueue = try await queue(stream: Self.followUpStream, consumer: Self.followUpConsumer)
        observation.deadLetters = try await deadLetters()

        observation.triggers = simulator.triggerLog().map {
            ChaosObservation.Trigger(runID: String($0.runID), syncID: String($0.syncID), syncSlug: $0.syncSlug)
        }
        // Sync ids by slug, and the simulator's own word on each run a status names.
        let slugs = Set(observation.commands.map(\.syncSlug))
        for trigger in observation.triggers where slugs.contains(trigger.syncSlug) {
            observation.simulatorSyncs[trigger.syncSlug] = trigger.syncID
        }
        for (name, status) in observation.statuses {
            guard let syncSlug = observation.commands.first(where: { $0.name == name })?.syncSlug else { continue }
            if observation.simulatorSyncs[syncSlug] == nil, let syncID = try await syncID(slug: syncSlug) {
                observation.simulatorSyncs[syncSlug] = syncID
            }
            for run in [status.lastRun, status.currentRun].compactMap({ $0 }) {
                guard let syncID = observation.simulatorSyncs[syncSlug] else { continue }
                if let runStatus = try await runStatus(syncID: syncID, runID: run.id) {
                    observation.simulatorRunStatus[run.id] = runStatus
                }
            }
        }
    }

    // MARK: - The simulator's API (plain HTTP, not the project's client)

    private func get(_ path: String) async throws -> Any? {
        var request = URLRequest(url: URL(string: simulatorURL + path)!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = 10
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else { return nil }
        return try JSONSerialization.jsonObject(with: data)
    }

    func syncID(slug: String) async throws -> String? {
        guard let page = try await get("/api/v1/syncs?slug=\(slug)") as? [String: Any],
            let data = page["data"] as? [[String: Any]], let first = data.first
        else { return nil }
        return (first["id"] as? NSNumber)?.stringValue ?? first["id"] as? String
    }

    func runStatus(syncID: String, runID: String) async throws -> String? {
        guard let page = try await get("/api/v1/syncs/\(syncID)/runs?runId=\(runID)") as? [String: Any],
            let data = page["data"] as? [[String: Any]], let first = data.first
        else { return nil }
        return first["status"] as? String
    }
}
