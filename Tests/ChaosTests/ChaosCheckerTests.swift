import ChaosKit
import Testing

/// The checker must be able to fail: each kind of broken outcome, fed in by hand, is reported,
/// for every resource type (their vendors record runs differently: ids or none, markers or none).
@Suite("Chaos checker")
struct ChaosCheckerTests {
    /// A resource of each kind of vendor: Hightouch (run ids, no marker), dbt Cloud (run ids and
    /// the cause's marker), Fivetran (no run ids), HTTP (effects with their Idempotency-Key, no run
    /// id recorded by the operator).
    static let kinds: [(type: String, objects: String, recordsRunID: Bool, hasRunID: Bool, hasMarker: Bool)] = [
        ("hightouch", "20001", true, true, false),
        ("dbtcloud", "60002", true, true, true),
        ("fivetran", "end_to_end_3", false, false, false),
        ("http", "http://127.0.0.1:1", false, true, true),
    ]

    /// A clean observation: one run each, everything settled.
    static func clean() -> ChaosObservation {
        var observation = ChaosObservation()
        for (offset, kind) in kinds.enumerated() {
            let index = offset + 1
            let name = "r\(index)"
            let target = "target-\(index)"
            let command = ChaosObservation.Command(name: name, commandID: "cmd-\(name)", type: kind.type, target: target)
            observation.commands.append(command)
            let runID = "\(500_000 + index)"
            observation.runCounts[kind.type, default: [:]][target] = 1
            observation.vendorObjects[kind.type, default: [:]][target] = kind.objects
            observation.vendorRuns.append(
                .init(
                    type: kind.type, target: target, runID: kind.hasRunID ? runID : nil, marker: kind.hasMarker ? command.commandID : nil,
                    phase: "succeeded", vendorStatus: "success"
                )
            )
            observation.entities[name] = .init(activeCommandID: nil, activeStage: nil, lastCommandID: command.commandID, generation: 1, deleted: false)
            observation.statuses[name] = .init(
                phase: "active", objectID: kind.objects, currentRun: nil,
                lastRun: .init(vendorRunID: kind.recordsRunID ? runID : nil, phase: "succeeded", vendorStatus: "success", commandID: command.commandID),
                observedGeneration: 1, lastErrorReason: nil
            )
            observation.commandQueues.append(.init(stream: "dataos-\(kind.type)-entities", messages: 0, pendingAcks: 0, undelivered: 0))
            observation.followUpQueues.append(.init(stream: "dataos-\(kind.type)-followups", messages: 0, pendingAcks: 0, undelivered: 0))
        }
        return observation
    }

    static func kinds(_ observation: ChaosObservation) -> Set<ChaosAnomaly.Kind> {
        Set(ChaosChecker.check(observation).map(\.kind))
    }

    @Test func cleanRunHasNoAnomaly() {
        #expect(ChaosChecker.check(Self.clean()).isEmpty)
    }

    @Test("a second run of any type's target is a double trigger, from the vendor's own counts", arguments: 0..<4)
    func doubleTriggerIsCaught(offset: Int) {
        var observation = Self.clean()
        let command = observation.commands[offset]
        observation.runCounts[command.type]?[command.target] = 2
        observation.vendorRuns.append(.init(type: command.type, target: command.target, runID: "600001", phase: "succeeded", vendorStatus: "success"))
        let anomalies = ChaosChecker.check(observation)
        #expect(anomalies.map(\.kind) == [.doubleTrigger], "\(anomalies)")
        #expect(anomalies.first?.resource == command.name)
    }

    @Test func lostCommandIsCaught() {
        var observation = Self.clean()
        // dbt Cloud never saw r2's run and nothing of it is in KV: a lost command.
        observation.runCounts["dbtcloud"]?["target-2"] = nil
        observation.vendorRuns.removeAll { $0.type == "dbtcloud" }
        observation.entities["r2"] = nil
        observation.statuses["r2"] = nil
        #expect(Self.kinds(observation) == [.noTrigger, .missingEntity, .missingStatus])
    }

    @Test func strayTriggerIsCaught() {
        var observation = Self.clean()
        observation.runCounts["census", default: [:]]["7999"] = 1
        #expect(Self.kinds(observation) == [.strayTrigger])
    }

    @Test func unsettledStateIsCaught() {
        var observation = Self.clean()
        observation.entities["r1"]?.activeCommandID = "cmd-r1"
        observation.entities["r1"]?.activeStage = "triggering"
        observation.statuses["r2"]?.currentRun = .init(vendorRunID: "500002", phase: "running", vendorStatus: "3", commandID: "cmd-r2")
        observation.statuses["r3"]?.lastRun?.phase = "running"
        observation.vendorRuns[2].phase = nil
        observation.commandQueues[0].messages = 1
        observation.followUpQueues[3].pendingAcks = 1
        #expect(Self.kinds(observation) == [.activeCommandLeft, .notTerminal, .commandsLeft, .followUpsLeft])
    }

    @Test func kvContradictingTheVendorIsCaught() {
        var observation = Self.clean()
        // r1's status names a run Hightouch never started, r2's a run of another job, r3's
        // (Fivetran, no ids) says failed where the vendor says succeeded, r4's HTTP effect carries
        // another command's key.
        observation.statuses["r1"]?.lastRun?.vendorRunID = "999999"
        observation.vendorRuns.append(.init(type: "dbtcloud", target: "target-9", runID: "700000", phase: "succeeded", vendorStatus: "10"))
        observation.runCounts["dbtcloud"]?["target-9"] = 1
        observation.commands.append(.init(name: "r9", commandID: "cmd-r9", type: "dbtcloud", target: "target-9"))
        observation.statuses["r2"]?.lastRun?.vendorRunID = "700000"
        observation.statuses["r3"]?.lastRun?.phase = "failed"
        observation.vendorRuns[3].marker = "cmd-other"
        let anomalies = ChaosChecker.check(observation)
        #expect(anomalies.contains { $0.kind == .runUnknownToVendor && $0.resource == "r1" })
        #expect(anomalies.contains { $0.kind == .runOfAnotherTarget && $0.resource == "r2" })
        #expect(anomalies.contains { $0.kind == .runStatusContradicts && $0.resource == "r3" })
        #expect(anomalies.contains { $0.kind == .runCommandMismatch && $0.resource == "r4" })
    }

    @Test func forcedFailureThatSucceededIsCaught() {
        var observation = Self.clean()
        observation.commands[1].expectsFailure = true
        #expect(Self.kinds(observation) == [.forcedFailureMissed])
        // Failed at the vendor and in the status: as forced.
        observation.vendorRuns[1].phase = "failed"
        observation.statuses["r2"]?.lastRun?.phase = "failed"
        #expect(ChaosChecker.check(observation).isEmpty)
    }

    @Test func refusedCommandsAreChecked() {
        var observation = Self.clean()
        let refused = ChaosObservation.Command(name: "bad", commandID: "cmd-bad", type: "census", target: "7100", expectsRefusal: true)
        observation.commands.append(refused)
        observation.statuses["bad"] = .init(phase: "error", objectID: nil, currentRun: nil, lastRun: nil, observedGeneration: 0, lastErrorReason: "schemaViolation")
        observation.deadLetters = [.init(type: "census", reason: "schemaViolation", commandID: "cmd-bad", resource: "bad")]
        #expect(ChaosChecker.check(observation).isEmpty)

        var missing = observation
        missing.deadLetters = []
        missing.runCounts["census", default: [:]]["7100"] = 1
        missing.statuses["bad"]?.phase = "active"
        #expect(Self.kinds(missing) == [.deadLetterMissing, .refusedButRun, .phaseUnexpected])

        var twice = observation
        twice.deadLetters += twice.deadLetters
        #expect(Self.kinds(twice) == [.deadLetter])
    }

    @Test func wrongBookkeepingIsCaught() {
        var observation = Self.clean()
        observation.entities["r1"]?.lastCommandID = "someone-else"
        observation.statuses["r2"]?.objectID = "1"
        observation.statuses["r3"]?.observedGeneration = 0
        observation.statuses["r3"]?.lastRun?.commandID = "other"
        observation.strayKeys = ["census-operator-state/status.public.ghost"]
        observation.deadLetters = [.init(type: "fivetran", reason: "gaveUp", commandID: "cmd-r3", resource: "r3")]
        observation.unexpectedExits = ["replica 1 exited by itself"]
        observation.unpublished = ["r9"]
        observation.unsettled = "stuck"
        #expect(
            Self.kinds(observation) == [
                .wrongLastCommand, .objectsMismatch, .generationMismatch, .runCommandMismatch, .strayKey, .deadLetter, .replicaCrashed,
                .notPublished, .didNotSettle,
            ]
        )
    }

    @Test("vendor objects deleted behind the operator's back and not back at the vendor are caught")
    func unrepairedDriftIsCaught() {
        var observation = Self.clean()
        observation.deletedObjects = ["r1": true]
        #expect(ChaosChecker.check(observation).isEmpty)
        observation.deletedObjects["r1"] = false
        let anomalies = ChaosChecker.check(observation)
        #expect(anomalies.map(\.kind) == [.driftNotRepaired])
        #expect(anomalies.first?.resource == "r1")
    }

    @Test func summaryTablesNameEveryColumn() {
        let figures = ChaosScenario.allTypes.map {
            ChaosTypeFigures(type: $0, applies: 20, refused: 2, vendorRuns: 20, forcedFailures: 2, failed: 2, deadLetters: 2, anomalies: 0)
        }
        let report = ChaosReport(
            variant: "mixed", applies: 110, replicaKills: 2, natsKills: 1, vendorFaultEvents: 0, duration: .seconds(3), triggers: 100,
            redeliveries: 1, adoptedRuns: 0, injectedFaults: 0, rateLimited: 0, anomalies: [], runDirectory: "/tmp/x", types: figures
        )
        let table = ChaosReport.table([report])
        #expect(table.contains("variant") && table.contains("anomalies") && table.contains("mixed") && table.contains("deleted/repaired"))
        let types = ChaosReport.typeTable([report]) ?? ""
        #expect(types.contains("forced failures") && types.contains("dbtcloud") && types.contains("census"))
        #expect(ChaosReport.typeTable([ChaosReport(variant: "replica-kills", applies: 1, replicaKills: 0, natsKills: 0, vendorFaultEvents: 0, duration: .zero, triggers: 1, redeliveries: 0, adoptedRuns: 0, injectedFaults: 0, rateLimited: 0, anomalies: [], runDirectory: "")]) == nil)
    }
}
