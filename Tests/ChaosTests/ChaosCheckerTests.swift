import ChaosKit
import Testing

/// The checker must be able to fail: each kind of broken outcome, fed in by hand, is reported.
@Suite("Chaos checker")
struct ChaosCheckerTests {
    /// A clean observation of `count` resources: one trigger each, everything settled.
    static func clean(_ count: Int = 3) -> ChaosObservation {
        var observation = ChaosObservation()
        for index in 1...count {
            let name = "r\(index)"
            let command = ChaosObservation.Command(name: name, commandID: "cmd-\(name)", syncSlug: "sync-\(name)")
            observation.commands.append(command)
            let syncID = "\(20_000 + index)"
            let runID = "\(500_000 + index)"
            observation.simulatorSyncs[command.syncSlug] = syncID
            observation.triggers.append(.init(runID: runID, syncID: syncID, syncSlug: command.syncSlug))
            observation.simulatorRunStatus[runID] = "success"
            observation.entities[name] = .init(activeCommandID: nil, activeStage: nil, lastCommandID: command.commandID, generation: 1, deleted: false)
            observation.statuses[name] = .init(
                phase: "active", syncID: syncID, syncSlug: command.syncSlug, currentRun: nil,
                lastRun: .init(id: runID, status: "success", commandID: command.commandID), observedGeneration: 1, lastErrorReason: nil
            )
        }
        observation.commandQueue = .init(stream: "commands", messages: 0, pendingAcks: 0, undelivered: 0)
        observation.followUpQueue = .init(stream: "followups", messages: 0, pendingAcks: 0, undelivered: 0)
        return observation
    }

    static func kinds(_ observation: ChaosObservation) -> Set<ChaosAnomaly.Kind> {
        Set(ChaosChecker.check(observation).map(\.kind))
    }

    @Test func cleanRunHasNoAnomaly() {
        #expect(ChaosChecker.check(Self.clean()).isEmpty)
    }

    @Test func doubleTriggerIsCaught() {
        var observation = Self.clean()
        observation.triggers.append(.init(runID: "600001", syncID: "20001", syncSlug: "sync-r1"))
        let anomalies = ChaosChecker.check(observation)
        #expect(anomalies.map(\.kind) == [.doubleTrigger])
        #expect(anomalies.first?.resource == "r1")
        #expect(anomalies.first?.detail.contains("600001") == true)
    }

    @Test func lostCommandIsCaught() {
        var observation = Self.clean()
        // The vendor never saw r2's run and nothing of it is in KV: a lost command.
        observation.triggers.removeAll { $0.syncSlug == "sync-r2" }
        observation.entities["r2"] = nil
        observation.statuses["r2"] = nil
        #expect(Self.kinds(observation) == [.noTrigger, .missingEntity, .missingStatus])
    }

    @Test func strayTriggerIsCaught() {
        var observation = Self.clean()
        observation.triggers.append(.init(runID: "600002", syncID: "29999", syncSlug: "sync-nobody"))
        #expect(Self.kinds(observation) == [.strayTrigger])
    }

    @Test func unsettledStateIsCaught() {
        var observation = Self.clean()
        observation.entities["r1"]?.activeCommandID = "cmd-r1"
        observation.entities["r1"]?.activeStage = "triggering"
        observation.statuses["r2"]?.currentRun = .init(id: "500002", status: "processing", commandID: "cmd-r2")
        observation.commandQueue?.messages = 1
        observation.followUpQueue?.pendingAcks = 1
        #expect(Self.kinds(observation) == [.activeCommandLeft, .notTerminal, .commandsLeft, .followUpsLeft])
    }

    @Test func kvContradictingTheSimulatorIsCaught() {
        var observation = Self.clean()
        // r1's status names a run the simulator never created, r2's a run of r3's sync, r3's
        // run status differs from the simulator's.
        observation.statuses["r1"]?.lastRun?.id = "999999"
        observation.statuses["r2"]?.lastRun?.id = "500003"
        observation.statuses["r3"]?.lastRun?.status = "failed"
        let anomalies = ChaosChecker.check(observation)
        #expect(anomalies.contains { $0.kind == .runUnknownToSimulator && $0.resource == "r1" })
        #expect(anomalies.contains { $0.kind == .runOfAnotherSync && $0.resource == "r2" })
        #expect(anomalies.contains { $0.kind == .runStatusContradicts && $0.resource == "r3" })
    }

    @Test func wrongBookkeepingIsCaught() {
        var observation = Self.clean()
        observation.entities["r1"]?.lastCommandID = "someone-else"
        observation.statuses["r2"]?.syncID = "1"
        observation.statuses["r3"]?.observedGeneration = 0
        observation.statuses["r3"]?.lastRun?.commandID = "other"
        observation.strayKeys = ["status.public.ghost"]
        observation.deadLetters = [.init(reason: "gaveUp", commandID: "cmd-r3", resource: "r3")]
        observation.unexpectedExits = ["replica 1 exited by itself"]
        observation.unpublished = ["r9"]
        observation.unsettled = "stuck"
        #expect(
            Self.kinds(observation) == [
                .wrongLastCommand, .syncMismatch, .generationMismatch, .runCommandMismatch, .strayKey, .deadLetter, .replicaCrashed,
                .notPublished, .didNotSettle,
            ]
        )
    }

    @Test func summaryTableNamesEveryColumn() {
        let report = ChaosReport(
            variant: "replica-kills", applies: 10, replicaKills: 2, natsKills: 0, vendorFaultEvents: 0, duration: .seconds(3), triggers: 10,
            redeliveries: 1, adoptedRuns: 0, injectedFaults: 0, rateLimited: 0, anomalies: [], runDirectory: "/tmp/x"
        )
        let table = ChaosReport.table([report])
        #expect(table.contains("variant"))
        #expect(table.contains("anomalies"))
        #expect(table.contains("replica-kills"))
    }
}
