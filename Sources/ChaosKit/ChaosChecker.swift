import Foundation

/// Everything a chaos run observed once the work settled: what was commanded, what the vendor
/// simulator did, and what the operator left in NATS (KV entries, streams, dead letters).
/// Collected by the runner, judged by ``ChaosChecker``, which is pure so tests can feed it
/// deliberately broken observations.
public struct ChaosObservation: Sendable {
    /// One command the driver published (and saw acknowledged by the stream).
    public struct Command: Sendable, Hashable {
        public var name: String
        public var commandID: String
        public var syncSlug: String

        public init(name: String, commandID: String, syncSlug: String) {
            self.name = name
            self.commandID = commandID
            self.syncSlug = syncSlug
        }
    }

    /// One accepted trigger, from the simulator's log.
    public struct Trigger: Sendable, Hashable {
        public var runID: String
        public var syncID: String
        public var syncSlug: String

        public init(runID: String, syncID: String, syncSlug: String) {
            self.runID = runID
            self.syncID = syncID
            self.syncSlug = syncSlug
        }
    }

    /// The entity record (`entity.<workspace>.<name>`) as stored.
    public struct Entity: Sendable, Hashable {
        public var activeCommandID: String?
        public var activeStage: String?
        public var lastCommandID: String?
        public var generation: Int
        public var deleted: Bool

        public init(activeCommandID: String?, activeStage: String?, lastCommandID: String?, generation: Int, deleted: Bool) {
            self.activeCommandID = activeCommandID
            self.activeStage = activeStage
            self.lastCommandID = lastCommandID
            self.generation = generation
            self.deleted = deleted
        }
    }

    /// A run as a status record describes it.
    public struct RunView: Sendable, Hashable {
        public var id: String
        public var status: String
        public var commandID: String?

        public init(id: String, status: String, commandID: String?) {
            self.id = id
            self.status = status
            self.commandID = commandID
        }
    }

    /// The status record (`status.<workspace>.<name>`) as stored.
    public struct Status: Sendable, Hashable {
        public var phase: String
        public var syncID: String?
        public var syncSlug: String?
        public var currentRun: RunView?
        public var lastRun: RunView?
        public var observedGeneration: Int
        public var lastErrorReason: String?

        public init(
            phase: String, syncID: String?, syncSlug: String?, currentRun: RunView?, lastRun: RunView?, observedGeneration: Int, lastErrorReason: String?
        ) {
            self.phase = phase
            self.syncID = syncID
            self.syncSlug = syncSlug
            self.currentRun = currentRun
            self.lastRun = lastRun
            self.observedGeneration = observedGeneration
            self.lastErrorReason = lastErrorReason
        }
    }

    /// A stream and its shared consumer.
    public struct Queue: Sendable, Hashable {
        public var stream: String
        public var messages: UInt64
        public var pendingAcks: Int
        public var undelivered: UInt64

        public init(stream: String, messages: UInt64, pendingAcks: Int, undelivered: UInt64) {
            self.stream = stream
            self.messages = messages
            self.pendingAcks = pendingAcks
            self.undelivered = undelivered
        }
    }

    public struct DeadLetter: Sendable, Hashable {
        public var reason: String
        public var commandID: String?
        public var resource: String?

        public init(reason: String, commandID: String?, resource: String?) {
            self.reason = reason
            self.commandID = commandID
            self.resource = resource
        }
    }

    public var commands: [Command] = []
    /// Commands the driver could not get into the stream (never acknowledged by JetStream).
    public var unpublished: [String] = []
    public var triggers: [Trigger] = []
    /// Sync ids by slug, as the simulator has them.
    public var simulatorSyncs: [String: String] = [:]
    /// Run statuses by run id, as the simulator reports them now.
    public var simulatorRunStatus: [String: String] = [:]
    public var entities: [String: Entity] = [:]
    public var statuses: [String: Status] = [:]
    /// KV keys of the state bucket that belong to no commanded resource.
    public var strayKeys: [String] = []
    public var commandQueue: Queue?
    public var followUpQueue: Queue?
    public var deadLetters: [DeadLetter] = []
    /// Replicas that exited without being killed by the driver (a crash), with the exit status.
    public var unexpectedExits: [String] = []
    /// The work did not settle within the timeout (what was still missing).
    public var unsettled: String?

    public init() {}
}

/// What the checker found wrong. Any anomaly fails the run.
public struct ChaosAnomaly: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case notPublished
        case noTrigger
        case doubleTrigger
        case strayTrigger
        case missingEntity
        case missingStatus
        case activeCommandLeft
        case wrongLastCommand
        case notTerminal
        case runUnknownToSimulator
        case runOfAnotherSync
        case runStatusContradicts
        case runCommandMismatch
        case syncMismatch
        case generationMismatch
        case phaseUnexpected
        case errorLeft
        case strayKey
        case commandsLeft
        case followUpsLeft
        case deadLetter
        case replicaCrashed
        case didNotSettle
    }

    public var kind: Kind
    public var resource: String?
    public var detail: String

    public init(_ kind: Kind, _ resource: String?, _ detail: String) {
        self.kind = kind
        self.resource = resource
        self.detail = detail
    }

    public var description: String {
        "\(kind.rawValue)\(resource.map { " [\($0)]" } ?? ""): \(detail)"
    }
}

/// Judges a chaos run: no command lost, no vendor run triggered twice, nothing left behind, and
/// no KV entry that contradicts the vendor.
public enum ChaosChecker {
    /// Vendor run statuses that end a run.
    static let terminalRunStatuses: Set<String> = ["success", "warning", "failed", "cancelled", "interrupted"]

    public static func check(_ observation: ChaosObservation) -> [ChaosAnomaly] {
        var anomalies: [ChaosAnomaly] = []
        func report(_ kind: ChaosAnomaly.Kind, _ resource: String?, _ detail: String) {
            anomalies.append(ChaosAnomaly(kind, resource, detail))
        }

        if let unsettled = observation.unsettled {
            report(.didNotSettle, nil, unsettled)
        }
        for name in observation.unpublished {
            report(.notPublished, name, "JetStream never acknowledged the publish")
        }
        for exit in observation.unexpectedExits {
            report(.replicaCrashed, nil, exit)
        }

        // Triggers: exactly one per command, none elsewhere.
        var triggersBySlug: [String: [ChaosObservation.Trigger]] = [:]
        for trigger in observation.triggers { triggersBySlug[trigger.syncSlug, default: []].append(trigger) }
        let commandedSlugs = Set(observation.commands.map(\.syncSlug))
        for (slug, triggers) in triggersBySlug.sorted(by: { $0.key < $1.key }) where !commandedSlugs.contains(slug) {
            report(.strayTrigger, nil, "\(triggers.count) run(s) on sync \(slug), which no command names")
        }

        for command in observation.commands {
            let name = command.name
            let triggers = triggersBySlug[command.syncSlug] ?? []
            let runIDs = Set(triggers.map(\.runID))
            if triggers.isEmpty {
                report(.noTrigger, name, "the vendor never saw a run for sync \(command.syncSlug)")
            } else if triggers.count > 1 {
                report(.doubleTrigger, name, "\(triggers.count) runs for one command on sync \(command.syncSlug): \(triggers.map(\.runID).joined(separator: ", "))")
            }

            // The entity: the command is done and remembered.
            if let entity = observation.entities[name] {
                if let active = entity.activeCommandID {
                    report(.activeCommandLeft, name, "command \(active) still active at stage \(entity.activeStage ?? "?")")
                }
                if entity.lastCommandID != command.commandID {
                    report(.wrongLastCommand, name, "last command \(entity.lastCommandID ?? "none"), expected \(command.commandID)")
                }
            } else {
                report(.missingEntity, name, "no entity in KV")
            }

            // The status: terminal, and agreeing with the simulator.
            guard let status = observation.statuses[name] else {
                report(.missingStatus, name, "no status in KV")
                continue
            }
            if status.phase != "active" {
                report(.phaseUnexpected, name, "phase \(status.phase), expected active")
            }
            if let reason = status.lastErrorReason {
                report(.errorLeft, name, "lastError \(reason) after the command succeeded")
            }
            if let current = status.currentRun {
                report(.notTerminal, name, "run \(current.id) still current (\(current.status))")
            }
            guard let last = status.lastRun else {
                report(.notTerminal, name, "no finished run recorded")
                continue
            }
            if !terminalRunStatuses.contains(last.status) {
                report(.notTerminal, name, "last run \(last.id) is \(last.status)")
            }
            let syncID = observation.simulatorSyncs[command.syncSlug]
            if status.syncID == nil || status.syncID != syncID {
                report(.syncMismatch, name, "status names sync \(status.syncID ?? "none"), the simulator has \(syncID ?? "none") for \(command.syncSlug)")
            }
            if let trigger = observation.triggers.first(where: { $0.runID == last.id }) {
                if trigger.syncSlug != command.syncSlug {
                    report(.runOfAnotherSync, name, "run \(last.id) belongs to sync \(trigger.syncSlug), not \(command.syncSlug)")
                }
            } else {
                report(.runUnknownToSimulator, name, "run \(last.id) was never triggered at the simulator")
            }
            if !runIDs.isEmpty, !runIDs.contains(last.id) {
                report(.runOfAnotherSync, name, "run \(last.id) is not one of the sync's runs (\(runIDs.sorted().joined(separator: ", ")))")
            }
            if let actual = observation.simulatorRunStatus[last.id], actual != last.status {
                report(.runStatusContradicts, name, "status says run \(last.id) is \(last.status), the simulator says \(actual)")
            }
            if last.commandID != command.commandID {
                report(.runCommandMismatch, name, "run \(last.id) is attributed to \(last.commandID ?? "no command"), expected \(command.commandID)")
            }
            if let entity = observation.entities[name], status.observedGeneration != entity.generation {
                report(.generationMismatch, name, "observed generation \(status.observedGeneration), entity generation \(entity.generation)")
            }
        }

        for key in observation.strayKeys {
            report(.strayKey, nil, "KV key \(key) belongs to no commanded resource")
        }
        if let queue = observation.commandQueue, queue.messages > 0 || queue.pendingAcks > 0 || queue.undelivered > 0 {
            report(.commandsLeft, nil, "\(queue.stream): \(queue.messages) message(s), \(queue.pendingAcks) unacknowledged, \(queue.undelivered) undelivered")
        }
        if let queue = observation.followUpQueue, queue.messages > 0 || queue.pendingAcks > 0 || queue.undelivered > 0 {
            report(.followUpsLeft, nil, "\(queue.stream): \(queue.messages) message(s), \(queue.pendingAcks) unacknowledged, \(queue.undelivered) undelivered")
        }
        for letter in observation.deadLetters {
            report(.deadLetter, letter.resource, "\(letter.reason) for command \(letter.commandID ?? "?")")
        }
        return anomalies
    }
}
