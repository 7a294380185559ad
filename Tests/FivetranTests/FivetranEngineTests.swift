import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Fivetran
import FivetranDriver
import FivetranSimulator
import Foundation
import JSONSchema
import Testing

/// The command protocol through the engine in memory (`InMemoryEngine`) against the real
/// simulator over HTTP: the driver's triggers, baselines, resume checks and looks as the engine
/// calls them.
@Suite("Fivetran through the engine, in memory", .timeLimit(.minutes(2)))
struct FivetranEngineTests {
    /// Runs `body` with a simulator and an engine hosting the driver on it.
    func withEngine(
        simulator configure: (inout FivetranSimulator.Configuration) -> Void = { _ in },
        _ body: (FivetranSimulator, InMemoryEngine) async throws -> Void
    ) async throws {
        var configuration = testSimulatorConfiguration()
        configure(&configuration)
        try await withFivetranSimulator(configuration: configuration) { simulator in
            try await body(simulator, InMemoryEngine(driver: AnyResourceDriver(try makeDriver(simulator))))
        }
    }

    func apply(_ name: String, _ spec: JSONObject) throws -> CommandEnvelope {
        .apply(try fivetranManifest(name, spec), workspace: publicWorkspace)
    }

    /// Delivers the follow-ups until every run has ended: at least 30 s of rounds (each sleeps
    /// `between`), a generous deadline for a loaded machine; it returns once all are settled.
    @discardableResult
    func follow(_ engine: InMemoryEngine) async -> [String: CommandDisposition] {
        let between = Duration.milliseconds(10)
        return await engine.follow(with: engine.follower(reconcileInterval: .milliseconds(50)), rounds: Int(Duration.seconds(30) / between), between: between)
    }

    @Test("START: the connector made manual, one sync triggered and recorded under the command, followed to success; a run command syncs once more")
    func startToSuccess() async throws {
        try await withEngine { simulator, engine in
            let command = try apply("sales", ["connectorId": .string(connectorID)])
            let delivery = engine.delivery(command)
            let result = await engine.processor().process(delivery)
            #expect(result.outcome == "triggered" && result.disposition == .ack, "\(result)")
            let status = try #require(try await engine.status("sales"))
            let run = try #require(status.currentRun)
            #expect(run.key == delivery.commandID && run.vendorRunID == nil && run.phase == .queued)
            #expect(run.reference?["connectorId"]?.stringValue == connectorID && run.reference?["action"]?.stringValue == "START")
            #expect(run.deadline != nil, "the default timeout, 300s")
            #expect(status.objects?["connectorId"]?.stringValue == connectorID && status.objects?["service"]?.stringValue == "postgres")
            #expect(try await engine.entity("sales")?.activeCommand == nil)

            finishSyncs(simulator)
            let settled = await follow(engine)
            #expect(settled.values.allSatisfy { $0 == .ack } && settled.count == 1)
            let ended = try #require(try await engine.status("sales"))
            let last = try #require(ended.lastRun)
            #expect(ended.currentRun == nil && last.phase == .succeeded && ended.runtime == .succeeded && last.key == delivery.commandID)
            #expect(last.summary?.hasPrefix("scheduled, succeeded ") == true, "\(String(describing: last.summary))")
            let counters = simulator.counters()
            #expect(counters.syncsStarted[connectorID] == 1 && counters.syncRequests[connectorID] == 1 && counters.updates[connectorID] == 1)
            #expect(try await FivetranDriverTests.connector(simulator).scheduleType == .manual)

            let again = await engine.processor().process(engine.delivery(.run(ResourceReference(name: try ResourceName("sales")), workspace: publicWorkspace), id: "run-1"))
            #expect(again.outcome == "triggered", "\(again)")
            finishSyncs(simulator)
            await follow(engine)
            let rerun = try #require(try await engine.status("sales")?.lastRun)
            #expect(rerun.key == "run-1" && rerun.phase == .succeeded && simulator.counters().syncsStarted[connectorID] == 2)
        }
    }

    @Test("a lost trigger answer: the command is retried, the resume check finds the connector syncing and adopts it: exactly one sync at Fivetran")
    func lostTriggerAnswer() async throws {
        try await withEngine { simulator, engine in
            simulator.loseAnswers(1)
            let command = try apply("sales", ["connectorId": .string(connectorID)])
            let first = await engine.processor().process(engine.delivery(command, sequence: 1))
            #expect(first.outcome == "retrying" && first.disposition != .ack, "\(first)")
            #expect(try await engine.status("sales")?.lastError?.message.contains("retrying") == true)

            let second = await engine.processor(instance: "replica-b", takeoverAfter: .zero).process(engine.delivery(command, sequence: 1, deliveryCount: 2))
            #expect(second.outcome == "triggered", "\(second)")
            let counters = simulator.counters()
            #expect(counters.syncsStarted[connectorID] == 1 && counters.syncRequests[connectorID] == 1 && counters.lostAnswers == 1)
            let status = try #require(try await engine.status("sales"))
            #expect(status.lastError == nil && status.currentRun != nil)

            finishSyncs(simulator)
            await follow(engine)
            #expect(try await engine.status("sales")?.lastRun?.phase == .succeeded)
            #expect(simulator.counters().syncsStarted[connectorID] == 1)
        }
    }

    @Test("TEST with a failing setup test: a run that ended as triggered, failed, with each test in the detail; nothing to follow")
    func failingSetupTest() async throws {
        try await withEngine { simulator, engine in
            simulator.failSetupTest(.failed, message: "could not reach the database", connector: connectorID, runs: 1)
            let result = await engine.processor().process(engine.delivery(try apply("check", ["connectorId": .string(connectorID), "action": "TEST"])))
            #expect(result.outcome == "triggered", "\(result)")
            let status = try #require(try await engine.status("check"))
            let run = try #require(status.lastRun)
            #expect(status.currentRun == nil && run.phase == .failed && status.runtime == .failed && status.phase == .active)
            #expect(run.error == "\"Connecting to the source\" FAILED: could not reach the database")
            #expect(engine.followUps.published.isEmpty)
            let rows = engine.driver.runRows(run)
            #expect(rows.contains(DetailRow("Setup test Connecting to the source", "FAILED: could not reach the database")))
            #expect(rows.filter { $0.label.hasPrefix("Setup test ") }.count == 4)
            #expect(simulator.counters().setupTests[connectorID] == 1 && simulator.counters().syncsStarted.isEmpty)
        }
    }

    @Test("a run past its timeout is recorded timed_out and detached: Fivetran cannot cancel a sync")
    func timeout() async throws {
        // The sync outlasts the test (ten simulated minutes, never advanced); the follower looks
        // until the engine's deadline, a second of its own clock, has passed.
        try await withEngine { simulator, engine in
            let result = await engine.processor().process(engine.delivery(try apply("slow", ["connectorId": .string(connectorID), "timeout": "1s"])))
            #expect(result.outcome == "triggered")
            let recorded = try #require(try await engine.status("slow")?.currentRun)
            let deadline = try #require(recorded.deadline)
            #expect(deadline.timeIntervalSince(recorded.recordedAt) <= 1.01)
            let settled = await follow(engine)
            #expect(settled.values.allSatisfy { $0 == .ack })
            let status = try #require(try await engine.status("slow"))
            let run = try #require(status.lastRun)
            #expect(status.currentRun == nil && run.phase == .timedOut && status.runtime == .failed)
            #expect(run.error?.contains("Fivetran cannot cancel it") == true, "\(String(describing: run.error))")
            #expect(try await FivetranDriverTests.connector(simulator).status.syncState == .syncing, "still syncing at Fivetran")
        }
    }

    @Test("a paused connector: the command fails with connectorPaused and is dead-lettered; with unpause it is unpaused and synced")
    func pausedConnector() async throws {
        try await withEngine(simulator: { $0.connectors = [.init(id: connectorID, paused: true)] }) { simulator, engine in
            let refused = await engine.processor().process(engine.delivery(try apply("sales", ["connectorId": .string(connectorID)])))
            #expect(refused.outcome == "failed" && refused.disposition == .term, "\(refused)")
            let status = try #require(try await engine.status("sales"))
            #expect(status.phase == .error && status.lastError?.reason == "connectorPaused")
            #expect(engine.deadLetters.letters.map(\.reason) == ["connectorPaused"])

            let unpaused = await engine.processor().process(engine.delivery(try apply("sales", ["connectorId": .string(connectorID), "unpause": true])))
            #expect(unpaused.outcome == "triggered", "\(unpaused)")
            #expect(try await FivetranDriverTests.connector(simulator).paused == false)
            finishSyncs(simulator)
            await follow(engine)
            #expect(try await engine.status("sales")?.lastRun?.phase == .succeeded)
        }
    }

    @Test("refused before anything is recorded: FORCE_RESYNC without a table, a bad id; an unknown connector fails naming it")
    func refusals() async throws {
        try await withEngine { simulator, engine in
            let noTable = await engine.processor().process(engine.delivery(try apply("r1", ["connectorId": .string(connectorID), "action": "FORCE_RESYNC", "schema": "public"])))
            #expect(noTable.outcome == "refused" && noTable.detail.contains("table"), "\(noTable)")
            let badID = await engine.processor().process(engine.delivery(try apply("r2", ["connectorId": "Not An Id"])))
            #expect(badID.outcome == "refused", "\(badID)")
            let unknown = await engine.processor().process(engine.delivery(try apply("r3", ["connectorId": "no_such_connector"])))
            #expect(unknown.outcome == "failed" && unknown.detail.contains("no_such_connector"), "\(unknown)")
            #expect(try await engine.status("r3")?.lastError?.reason == "vendorNotFound")
            #expect(simulator.counters().syncRequests.isEmpty && simulator.counters().resyncs.isEmpty)

            let resync = await engine.processor().process(engine.delivery(try apply("r4", ["connectorId": .string(connectorID), "action": "FORCE_RESYNC", "schema": "public", "table": "orders"])))
            #expect(resync.outcome == "triggered", "\(resync)")
            finishSyncs(simulator)
            await follow(engine)
            #expect(try await engine.status("r4")?.lastRun?.phase == .succeeded)
            #expect(simulator.counters().tableResyncs[connectorID] == ["public.orders": 1])
        }
    }
}

extension FivetranDriverTests {
    /// The connector as a fresh client reads it.
    static func connector(_ simulator: FivetranSimulator, id: String = connectorID) async throws -> FivetranConnector {
        try await makeClient(simulator).connector(id: id)
    }
}
