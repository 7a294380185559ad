import Foundation
import NATSKit
import SimulatedVendors

/// The NATS names of one resource type's deployment, written out here rather than taken from the
/// operator's code (the observer trusts none of it). `hightouch-operator`'s defaults are the same
/// names for `hightouch` (the seed operator's).
struct ChaosNames: Sendable {
    let type: String

    var commandSubject: String { "\(type).pipeline.run" }
    var commandStream: String { "dataos-\(type)-entities" }
    var commandConsumer: String { "\(type)-entities-12121" }
    var followUpStream: String { "dataos-\(type)-followups" }
    var followUpConsumer: String { "\(type)-followers" }
    var deadLetterStream: String { "dataos-\(type)-deadletter" }
    var stateBucket: String { "\(type)-operator-state" }
}

/// One resource type of a run: its names, its vendor and where the operator reaches it.
struct ChaosVendor: Sendable {
    let names: ChaosNames
    let vendor: any SimulatedVendor
    let serviceURL: String

    var type: String { names.type }
}

/// Reads what the operator left behind, with its own decoding of the stored JSON (it does not
/// trust the operator's types), and what each vendor recorded itself.
struct ChaosObserver {
    let jetStream: JetStreamContext
    let vendors: [ChaosVendor]

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
        var phase: String
    }
    /// A member of a driver's objects, read as text whatever its JSON type (ids are numbers for
    /// dbt Cloud, strings elsewhere); nil for arrays, objects and null.
    struct Scalar: Decodable {
        var text: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                text = string
            } else if let integer = try? container.decode(Int.self) {
                text = String(integer)
            } else if let number = try? container.decode(Double.self) {
                text = String(number)
            } else if let bool = try? container.decode(Bool.self) {
                text = String(bool)
            } else {
                text = nil
            }
        }
    }
    struct StoredError: Decodable { var reason: String }
    struct StoredStatus: Decodable {
        var version: Int
        var name: String
        var phase: String
        var observedGeneration: Int
        var objects: [String: Scalar]?
        var currentRun: StoredRun?
        var lastRun: StoredRun?
        var lastError: StoredError?
    }

    /// Every current entry of a state bucket (of the keys matching `pattern`): key → value.
    func stateEntries(_ bucket: String, matching pattern: String = ">") async throws -> [String: [UInt8]] {
        let store = try await jetStream.keyValue(bucket)
        let watcher = try await store.watch(pattern, options: KeyValueWatchOptions(ignoreDeletes: true))
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

    /// How many resources are settled, over every type's bucket: a finished last run, no current
    /// run, no active command (or, for a refused command, a status in phase `error`). Used for
    /// progress; the checker decides what is right.
    func settledCount(workspace: String) async throws -> (settled: Int, statuses: Int) {
        let found = try await settled(workspace: workspace)
        return (found.count, found.statuses)
    }

    /// Resources whose apply has settled: `active` ones by name (a finished run, no command in
    /// progress), `count` also those refused into `error`; `statuses` read.
    func settled(workspace: String) async throws -> (active: Set<String>, count: Int, statuses: Int) {
        var active: Set<String> = []
        var settled = 0
        var statuses = 0
        let decoder = JSONDecoder()
        for vendor in vendors {
            let entries = try await stateEntries(vendor.names.stateBucket)
            for (key, value) in entries where key.hasPrefix("status.\(workspace).") {
                statuses += 1
                guard let status = try? decoder.decode(StoredStatus.self, from: Data(value)) else { continue }
                if status.phase == "error", status.currentRun == nil, status.lastRun == nil {
                    settled += 1
                    continue
                }
                guard status.currentRun == nil, let last = status.lastRun, ChaosChecker.finishedPhases.contains(last.phase) else { continue }
                let entityKey = "entity.\(workspace).\(status.name)"
                if let entity = entries[entityKey].flatMap({ try? decoder.decode(StoredEntity.self, from: Data($0)) }), entity.activeCommand == nil {
                    settled += 1
                    if status.phase == "active" { active.insert(status.name) }
                }
            }
        }
        return (active, settled, statuses)
    }

    func queue(stream: String, consumer: String) async throws -> ChaosObservation.Queue {
        let info = try await jetStream.streamInfo(stream)
        let consumerInfo = try await jetStream.consumerInfo(stream: stream, consumer: consumer)
        return ChaosObservation.Queue(
            stream: stream, messages: info.state.messages, pendingAcks: consumerInfo.pendingAcks, undelivered: consumerInfo.pendingMessages
        )
    }

    /// The command and follow-up queues of every type.
    func queues() async throws -> (commands: [ChaosObservation.Queue], followUps: [ChaosObservation.Queue]) {
        var commands: [ChaosObservation.Queue] = []
        var followUps: [ChaosObservation.Queue] = []
        for vendor in vendors {
            commands.append(try await queue(stream: vendor.names.commandStream, consumer: vendor.names.commandConsumer))
            followUps.append(try await queue(stream: vendor.names.followUpStream, consumer: vendor.names.followUpConsumer))
        }
        return (commands, followUps)
    }

    func deadLetters(_ names: ChaosNames, limit: Int = 500) async throws -> [ChaosObservation.DeadLetter] {
        try await deadLetters(stream: names.deadLetterStream, type: names.type, limit: limit)
    }

    /// The dead letters in `stream`, labelled `type`.
    func deadLetters(stream: String, type: String, limit: Int = 500) async throws -> [ChaosObservation.DeadLetter] {
        let info = try await jetStream.streamInfo(stream)
        guard info.state.messages > 0 else { return [] }
        var letters: [ChaosObservation.DeadLetter] = []
        var sequence = info.state.firstSequence
        while sequence <= info.state.lastSequence, letters.count < limit {
            if let message = try? await jetStream.message(stream: stream, sequence: sequence) {
                letters.append(
                    ChaosObservation.DeadLetter(
                        type: type,
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

    /// Fills in the KV, stream and vendor parts of an observation.
    func observe(into observation: inout ChaosObservation, workspace: String, indices: [String: Int]) async throws {
        let decoder = JSONDecoder()
        for vendor in vendors {
            let commanded = Set(observation.commands.filter { $0.type == vendor.type }.map(\.name))
            let objectsMember = vendor.vendor.objectsTargetMember
            for (key, value) in try await stateEntries(vendor.names.stateBucket) {
                let parts = key.split(separator: ".", omittingEmptySubsequences: false)
                let place = "\(vendor.names.stateBucket)/\(key)"
                guard parts.count == 3, parts[1] == workspace[...], commanded.contains(String(parts[2])) else {
                    observation.strayKeys.append(place)
                    continue
                }
                let name = String(parts[2])
                switch parts[0] {
                case "entity":
                    guard let entity = try? decoder.decode(StoredEntity.self, from: Data(value)) else {
                        observation.strayKeys.append(place + " (unreadable)")
                        continue
                    }
                    observation.entities[name] = ChaosObservation.Entity(
                        activeCommandID: entity.activeCommand?.command.id, activeStage: entity.activeCommand?.stage,
                        lastCommandID: entity.lastCommand?.id, generation: entity.generation, deleted: entity.deleted
                    )
                case "status":
                    guard let status = try? decoder.decode(StoredStatus.self, from: Data(value)) else {
                        observation.strayKeys.append(place + " (unreadable)")
                        continue
                    }
                    func view(_ run: StoredRun?) -> ChaosObservation.RunView? {
                        run.map { ChaosObservation.RunView(vendorRunID: $0.vendorRunID, phase: $0.phase, vendorStatus: $0.vendorStatus, commandID: $0.key) }
                    }
                    observation.statuses[name] = ChaosObservation.Status(
                        phase: status.phase, objectID: status.objects?[objectsMember]?.text,
                        currentRun: view(status.currentRun), lastRun: view(status.lastRun),
                        observedGeneration: status.observedGeneration, lastErrorReason: status.lastError?.reason
                    )
                default:
                    observation.strayKeys.append(place)
                }
            }
            observation.deadLetters += try await deadLetters(vendor.names)

            // The vendor's own record: counts, runs, and the objects each target must be.
            observation.runCounts[vendor.type] = vendor.vendor.runCounts()
            observation.vendorRuns += vendor.vendor.runLog().map {
                ChaosObservation.VendorRun(type: vendor.type, target: $0.target, runID: $0.runID, marker: $0.marker, phase: $0.phase, vendorStatus: $0.vendorStatus)
            }
            var objects: [String: String] = [:]
            for command in observation.commands where command.type == vendor.type {
                guard let index = indices[command.name] else { continue }
                objects[command.target] = vendor.vendor.objectID(index, serviceURL: vendor.serviceURL)
            }
            observation.vendorObjects[vendor.type] = objects
            for name in observation.deletedObjects.keys {
                guard let command = observation.commands.first(where: { $0.name == name }), command.type == vendor.type else { continue }
                observation.deletedObjects[name] = objects[command.target] != nil
            }
        }
        observation.strayKeys.sort()
        (observation.commandQueues, observation.followUpQueues) = try await queues()
    }
}
