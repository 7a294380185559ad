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
        /// The resource type (its vendor).
        public var type: String
        /// The resource's target at its vendor, as the vendor's counters name it (a sync slug, a
        /// job id, a sync id, a connector id, an HTTP body `target`).
        public var target: String
        /// The scenario forced the target's run to fail at the vendor.
        public var expectsFailure: Bool
        /// The spec lacks a required field: the command must be refused, dead-lettered once, its
        /// status `error`, and nothing sent to the vendor.
        public var expectsRefusal: Bool

        public init(name: String, commandID: String, type: String, target: String, expectsFailure: Bool = false, expectsRefusal: Bool = false) {
            self.name = name
            self.commandID = commandID
            self.type = type
            self.target = target
            self.expectsFailure = expectsFailure
            self.expectsRefusal = expectsRefusal
        }
    }

    /// One run a vendor started, as the vendor records it.
    public struct VendorRun: Sendable, Hashable {
        public var type: String
        public var target: String
        /// The vendor's run id; nil where runs have none (Fivetran).
        public var runID: String?
        /// The command id the run carries (an HTTP task's Idempotency-Key, a dbt Cloud cause's
        /// marker); nil where the vendor keeps none.
        public var marker: String?
        /// The phase the vendor's end means; nil while the run goes on at the vendor.
        public var phase: String?
        /// The vendor's own word now.
        public var vendorStatus: String

        public init(type: String, target: String, runID: String?, marker: String? = nil, phase: String?, vendorStatus: String) {
            self.type = type
            self.target = target
            self.runID = runID
            self.marker = marker
            self.phase = phase
            self.vendorStatus = vendorStatus
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
        /// The vendor's run id the status recorded; nil where it recorded none (Fivetran, HTTP).
        public var vendorRunID: String?
        /// The normalised phase (`succeeded`, `failed`, …).
        public var phase: String
        /// The vendor's word as recorded.
        public var vendorStatus: String
        /// The run's key: the command that caused it.
        public var commandID: String?

        public init(vendorRunID: String?, phase: String, vendorStatus: String, commandID: String?) {
            self.vendorRunID = vendorRunID
            self.phase = phase
            self.vendorStatus = vendorStatus
            self.commandID = commandID
        }

        /// How messages name the run.
        public var label: String { vendorRunID ?? "of command \(commandID ?? "?")" }
    }

    /// The status record (`status.<workspace>.<name>`) as stored.
    public struct Status: Sendable, Hashable {
        public var phase: String
        /// The member of the recorded objects that names the target (Hightouch's `syncID`, dbt
        /// Cloud's `jobID`, …), as a string.
        public var objectID: String?
        public var currentRun: RunView?
        public var lastRun: RunView?
        public var observedGeneration: Int
        public var lastErrorReason: String?

        public init(phase: String, objectID: String?, currentRun: RunView?, lastRun: RunView?, observedGeneration: Int, lastErrorReason: String?) {
            self.phase = phase
            self.objectID = objectID
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

        public var isEmpty: Bool { messages == 0 && pendingAcks == 0 && undelivered == 0 }
    }

    public struct DeadLetter: Sendable, Hashable {
        public var type: String
        public var reason: String
        public var commandID: String?
        public var resource: String?

        public init(type: String, reason: String, commandID: String?, resource: String?) {
            self.type = type
            self.reason = reason
            self.commandID = commandID
            self.resource = resource
        }
    }

    public var commands: [Command] = []
    /// Commands the driver could not get into the stream (never acknowledged by JetStream).
    public var unpublished: [String] = []
    /// Runs started per type and target, from each vendor's own counters.
    public var runCounts: [String: [String: Int]] = [:]
    /// Every run each vendor recorded (ids, markers, ends).
    public var vendorRuns: [VendorRun] = []
    /// Per type and target: what the operator's recorded objects must name (Hightouch: the
    /// simulator's sync id for the slug).
    public var vendorObjects: [String: [String: String]] = [:]
    /// Resources whose vendor objects the run deleted behind the operator's back (by name), and
    /// whether the vendor has them again at the end (the operator's drift repair).
    public var deletedObjects: [String: Bool] = [:]
    /// By resource name (names are distinct across types), from the resource's own type's bucket.
    public var entities: [String: Entity] = [:]
    public var statuses: [String: Status] = [:]
    /// KV keys of the state buckets that belong to no commanded resource of the bucket's type.
    public var strayKeys: [String] = []
    /// Every type's command stream and consumer.
    public var commandQueues: [Queue] = []
    /// Every type's follow-up stream and consumer.
    public var followUpQueues: [Queue] = []
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
        case runUnknownToVendor
        case runOfAnotherTarget
        case runStatusContradicts
        case runCommandMismatch
        case forcedFailureMissed
        case objectsMismatch
        case driftNotRepaired
        case generationMismatch
        case phaseUnexpected
        case errorLeft
        case strayKey
        case commandsLeft
        case followUpsLeft
        case deadLetter
        case deadLetterMissing
        case refusedButRun
        case replicaCrashed
        case didNotSettle
        // The `pipelines` variant (``PipelineChaosChecker``).
        case runMissing
        case runDuplicated
        case resultUnexpected
        case taskStateUnexpected
        case attemptsUnexpected
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

/// Judges a chaos run, per resource type: no command lost, exactly one vendor run per command,
/// nothing left behind, and no KV entry that contradicts what the vendor recorded.
public enum ChaosChecker {
    /// Phases that end a run.
    public static let finishedPhases: Set<String> = ["succeeded", "warning", "failed", "cancelled", "timed_out"]

    public static func check(_ observation: ChaosObservation) -> [ChaosAnomaly] {
        var anomalies: [ChaosAnomaly] = []
        func report(_ kind: ChaosAnomaly.Kind, _ resource: String?, _ detail: String) {
            anomalies.append(ChaosAnomaly(kind, resource, detail))
        }

        if let unsettled = observation.unsettled {
            report(.didNotSettle, nil, unsettled)
        }
        for (name, restored) in observation.deletedObjects.sorted(by: { $0.key < $1.key }) where !restored {
            report(.driftNotRepaired, name, "its vendor objects were deleted behind the operator's back and are not back at the vendor")
        }
        for name in observation.unpublished {
            report(.notPublished, name, "JetStream never acknowledged the publish")
        }
        for exit in observation.unexpectedExits {
            report(.replicaCrashed, nil, exit)
        }

        // Vendor runs: exactly one per command's target, none elsewhere.
        struct Target: Hashable {
            var type: String
            var target: String
        }
        var runsByTarget: [Target: [ChaosObservation.VendorRun]] = [:]
        for run in observation.vendorRuns { runsByTarget[Target(type: run.type, target: run.target), default: []].append(run) }
        let commanded = Set(observation.commands.map { Target(type: $0.type, target: $0.target) })
        for (type, counts) in observation.runCounts.sorted(by: { $0.key < $1.key }) {
            for (target, count) in counts.sorted(by: { $0.key < $1.key }) where count > 0 && !commanded.contains(Target(type: type, target: target)) {
                report(.strayTrigger, nil, "\(count) run(s) at \(type) target \(target), which no command names")
            }
        }

        var lettersByCommand: [String: Int] = [:]
        for letter in observation.deadLetters { lettersByCommand[letter.commandID ?? "", default: 0] += 1 }
        let refused = Set(observation.commands.filter(\.expectsRefusal).map(\.commandID))

        for command in observation.commands where command.expectsRefusal {
            // Refused before anything is recorded or sent: one dead letter, an `error` status.
            let name = command.name
            let letters = lettersByCommand[command.commandID] ?? 0
            if letters == 0 {
                report(.deadLetterMissing, name, "the refused command \(command.commandID) has no dead letter")
            } else if letters > 1 {
                report(.deadLetter, name, "the refused command \(command.commandID) was dead-lettered \(letters) times")
            }
            let count = observation.runCounts[command.type]?[command.target] ?? 0
            if count > 0 {
                report(.refusedButRun, name, "\(command.type) started \(count) run(s) for target \(command.target) of a refused command")
            }
            if let active = observation.entities[name]?.activeCommandID {
                report(.activeCommandLeft, name, "command \(active) still active at stage \(observation.entities[name]?.activeStage ?? "?")")
            }
            guard let status = observation.statuses[name] else {
                report(.missingStatus, name, "the refusal is not reported on a status in the \(command.type) bucket")
                continue
            }
            if status.phase != "error" || status.lastErrorReason == nil {
                report(.phaseUnexpected, name, "phase \(status.phase), lastError \(status.lastErrorReason ?? "none"); a refused command leaves error and its reason")
            }
            if let run = status.currentRun ?? status.lastRun {
                report(.refusedButRun, name, "the status of a refused command records run \(run.label)")
            }
        }

        for command in observation.commands where !command.expectsRefusal {
            let name = command.name
            let key = Target(type: command.type, target: command.target)
            let runs = runsByTarget[key] ?? []
            let count = observation.runCounts[command.type]?[command.target] ?? 0
            let ids = runs.compactMap(\.runID).joined(separator: ", ")
            if count == 0 {
                report(.noTrigger, name, "\(command.type) never started a run for target \(command.target)")
            } else if count > 1 {
                report(.doubleTrigger, name, "\(count) runs at \(command.type) for one command on target \(command.target)\(ids.isEmpty ? "" : ": \(ids)")")
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
                report(.missingEntity, name, "no entity in the \(command.type) bucket")
            }

            // The status: terminal, and agreeing with the vendor.
            guard let status = observation.statuses[name] else {
                report(.missingStatus, name, "no status in the \(command.type) bucket")
                continue
            }
            if status.phase != "active" {
                report(.phaseUnexpected, name, "phase \(status.phase), expected active")
            }
            if let reason = status.lastErrorReason {
                report(.errorLeft, name, "lastError \(reason) after the command ended")
            }
            if let current = status.currentRun {
                report(.notTerminal, name, "run \(current.label) still current (\(current.phase))")
            }
            guard let last = status.lastRun else {
                report(.notTerminal, name, "no finished run recorded")
                continue
            }
            if !finishedPhases.contains(last.phase) {
                report(.notTerminal, name, "last run \(last.label) is \(last.phase)")
            }
            let objectID = observation.vendorObjects[command.type]?[command.target]
            if status.objectID == nil || status.objectID != objectID {
                report(.objectsMismatch, name, "status objects name \(status.objectID ?? "nothing"), \(command.type) has \(objectID ?? "nothing") for target \(command.target)")
            }

            // Which of the vendor's runs the status describes: by the vendor's run id where the
            // status recorded one; else the target's run carrying this command's marker, or its
            // only run. Several runs with neither ids nor markers (Fivetran after a double
            // trigger) cannot be told apart: the double trigger above is the finding.
            var matched: ChaosObservation.VendorRun?
            if let id = last.vendorRunID {
                if let run = observation.vendorRuns.first(where: { $0.type == command.type && $0.runID == id }) {
                    matched = run
                    if run.target != command.target {
                        report(.runOfAnotherTarget, name, "run \(id) belongs to target \(run.target), not \(command.target)")
                    }
                } else {
                    report(.runUnknownToVendor, name, "\(command.type) never started run \(id)")
                }
            } else if let run = runs.first(where: { $0.marker == command.commandID }) ?? (runs.count == 1 ? runs.first : nil) {
                matched = run
            } else if runs.isEmpty {
                report(.runUnknownToVendor, name, "the status records run \(last.label), \(command.type) has no run for target \(command.target)")
            } else if runs.contains(where: { $0.marker != nil }) {
                report(.runUnknownToVendor, name, "the status records run \(last.label), none of target \(command.target)'s runs at \(command.type) carries this command")
            }
            if let run = matched {
                if let marker = run.marker, marker != command.commandID {
                    report(.runCommandMismatch, name, "\(command.type) says run \(run.runID ?? "?") was caused by \(marker), not \(command.commandID)")
                }
                // Only a status that claims an end can contradict the vendor (one that does not
                // is not terminal, said above).
                if finishedPhases.contains(last.phase), run.phase != last.phase {
                    report(
                        .runStatusContradicts, name,
                        "status says run \(last.label) is \(last.phase) (\(last.vendorStatus)), \(command.type) says \(run.phase ?? "still running") (\(run.vendorStatus))"
                    )
                }
            }
            if command.expectsFailure, last.phase != "failed" {
                report(.forcedFailureMissed, name, "the scenario made \(command.type) fail target \(command.target)'s run; the status says \(last.phase)")
            }
            if last.commandID != command.commandID {
                report(.runCommandMismatch, name, "run \(last.label) is attributed to \(last.commandID ?? "no command"), expected \(command.commandID)")
            }
            if let entity = observation.entities[name], status.observedGeneration != entity.generation {
                report(.generationMismatch, name, "observed generation \(status.observedGeneration), entity generation \(entity.generation)")
            }
        }

        for key in observation.strayKeys {
            report(.strayKey, nil, "KV key \(key) belongs to no commanded resource of its bucket's type")
        }
        for queue in observation.commandQueues where !queue.isEmpty {
            report(.commandsLeft, nil, "\(queue.stream): \(queue.messages) message(s), \(queue.pendingAcks) unacknowledged, \(queue.undelivered) undelivered")
        }
        for queue in observation.followUpQueues where !queue.isEmpty {
            report(.followUpsLeft, nil, "\(queue.stream): \(queue.messages) message(s), \(queue.pendingAcks) unacknowledged, \(queue.undelivered) undelivered")
        }
        for letter in observation.deadLetters where !refused.contains(letter.commandID ?? "") {
            report(.deadLetter, letter.resource, "\(letter.type): \(letter.reason) for command \(letter.commandID ?? "?")")
        }
        return anomalies
    }
}
