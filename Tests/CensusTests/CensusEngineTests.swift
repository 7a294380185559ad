import Census
import CensusDriver
import CensusSimulator
import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Testing
import VendorHTTP

/// The whole command protocol in memory (`InMemoryEngine`) with the real Census driver against the
/// real simulator over HTTP.
@Suite("Census: the command protocol against the simulator", .timeLimit(.minutes(1)))
struct CensusEngineTests {
    static let workspace: WorkspaceName = {
        do { return try WorkspaceName("public") } catch { preconditionFailure("\(error)") }
    }()

    static func apply(_ name: String, spec: JSONObject) throws -> CommandEnvelope {
        let manifest = ResourceManifest(
            name: try ResourceName(name), version: "v1beta",
            resource: .init(operator: "factory", type: "census", spec: .object(spec))
        )
        return .apply(manifest, workspace: workspace)
    }

    static func run(_ name: String) throws -> CommandEnvelope {
        .run(ResourceReference(name: try ResourceName(name)), workspace: workspace)
    }

    /// A simulator (runs of ``testRunDuration``, ended by ``finishRuns(_:)``), and an engine whose
    /// driver talks to it.
    func withEngine(
        knobs: (inout CensusSimulator.Knobs) -> Void = { _ in },
        _ body: (CensusSimulator, InMemoryEngine) async throws -> Void
    ) async throws {
        try await withCensus(knobs: knobs) { simulator, client in
            try await body(simulator, InMemoryEngine(driver: AnyResourceDriver(CensusDriver(client: client))))
        }
    }

    /// Delivers the follow-ups until every run has ended: at least 30 s of rounds (each sleeps
    /// `between`), a generous deadline for a loaded machine; it returns once all are settled.
    @discardableResult
    func follow(_ engine: InMemoryEngine) async -> [String: CommandDisposition] {
        let between = Duration.milliseconds(20)
        return await engine.follow(with: engine.follower(reconcileInterval: .milliseconds(50)), rounds: Int(Duration.seconds(30) / between), between: between)
    }

    @Test("apply: the sync checked, one run triggered and recorded, followed to success; get -d rows")
    func applyToSuccess() async throws {
        try await withEngine { simulator, engine in
            let command = try Self.apply("users", spec: ["syncId": "61", "forceFullSync": true])
            let delivery = engine.delivery(command)
            let result = await engine.processor().process(delivery)
            #expect(result.disposition == .ack && result.outcome == "triggered", "\(result)")
            #expect(simulator.counters().totalTriggers == 1 && simulator.triggerLog().first?.forceFullSync == true)

            let status = try #require(try await engine.status("users"))
            #expect(status.phase == .active && status.objects?["syncID"]?.stringValue == "61")
            #expect(status.objects?["sourceConnectionID"]?.stringValue == "4" && status.objects?["destinationConnectionID"]?.stringValue == "15")
            let run = try #require(status.currentRun)
            let triggered = try #require(simulator.triggerLog().first?.runID)
            #expect(run.key == delivery.commandID && run.vendorRunID == String(triggered))
            #expect(run.deadline != nil, "the driver's default timeout applies")

            finishRuns(simulator)
            let settled = await follow(engine)
            #expect(settled.values.allSatisfy { $0 == .ack } && !settled.isEmpty)
            let ended = try #require(try await engine.status("users"))
            let last = try #require(ended.lastRun)
            #expect(ended.currentRun == nil && last.phase == .succeeded && ended.runtime == .succeeded && last.vendorStatus == "completed")
            #expect(last.summary?.hasPrefix("records ") == true && last.progress == 1 && last.finishedAt != nil)
            #expect(engine.driver.objectRows(ended.objects ?? .null).first == DetailRow("Sync", "61 (Users to Braze)"))
            #expect(engine.driver.runRows(last).contains { $0.label == "Records updated" })
            #expect(simulator.counters().totalTriggers == 1)

            // Applied again unchanged: nothing triggered.
            #expect(await engine.processor().process(engine.delivery(try Self.apply("users", spec: ["syncId": "61", "forceFullSync": true]), id: "again")).outcome == "unchanged")
            #expect(simulator.counters().totalTriggers == 1)
        }
    }

    @Test("a lost trigger answer is adopted on the retry: never a second run, and not the sync's older run")
    func lostTriggerAnswer() async throws {
        try await withEngine { simulator, engine in
            _ = try simulator.addPastRun(syncID: 61, ago: .seconds(2))  // inside the clock-skew margin, out of band
            simulator.loseTriggerAnswers(1)
            let command = try Self.apply("users", spec: ["syncId": 61])
            let first = await engine.processor().process(engine.delivery(command, sequence: 1))
            #expect(first.outcome == "retrying" && first.disposition != .ack, "\(first)")
            #expect(try await engine.status("users")?.lastError?.message.contains("retrying") == true)
            #expect(simulator.counters().totalTriggers == 1)

            let second = await engine.processor(instance: "replica-b", takeoverAfter: .zero).process(engine.delivery(command, sequence: 1, deliveryCount: 2))
            #expect(second.outcome == "triggered", "\(second)")
            #expect(simulator.counters().totalTriggers == 1, "adopted, never triggered twice")
            let lost = try #require(simulator.triggerLog().first?.runID)
            let status = try #require(try await engine.status("users"))
            #expect(status.currentRun?.vendorRunID == String(lost) || status.lastRun?.vendorRunID == String(lost))
            #expect(status.lastError == nil)

            finishRuns(simulator)
            await follow(engine)
            #expect(try await engine.status("users")?.lastRun?.phase == .succeeded)
        }
    }

    @Test("a run command whose trigger answer was lost is adopted by the replica that takes it over, not triggered again (Census keeps no baseline)")
    func lostRunCommandAnswer() async throws {
        try await withEngine { simulator, engine in
            #expect(await engine.processor().process(engine.delivery(try Self.apply("users", spec: ["syncId": 61]), sequence: 1)).outcome == "triggered")
            finishRuns(simulator)
            await follow(engine)
            #expect(simulator.counters().totalTriggers == 1)

            simulator.loseTriggerAnswers(1)
            let command = try Self.run("users")
            let first = await engine.processor().process(engine.delivery(command, sequence: 2))
            #expect(first.outcome == "retrying" && first.disposition != .ack, "\(first)")
            #expect(simulator.counters().totalTriggers == 2)

            let second = await engine.processor(instance: "replica-b", takeoverAfter: .zero).process(engine.delivery(command, sequence: 2, deliveryCount: 2))
            #expect(second.outcome == "triggered", "\(second)")
            #expect(simulator.counters().totalTriggers == 2, "adopted, never triggered twice")
            let lost = try #require(simulator.triggerLog().last?.runID)
            #expect(try await engine.status("users")?.currentRun?.vendorRunID == String(lost))
        }
    }

    @Test("the past run is older than the margin: a lost answer adopts only the new run", arguments: [60, 3600])
    func olderRunIgnored(agoSeconds: Int) async throws {
        try await withEngine { simulator, engine in
            let past = try simulator.addPastRun(syncID: 62, ago: .seconds(agoSeconds))
            simulator.loseTriggerAnswers(1)
            let command = try Self.apply("sheets", spec: ["syncId": 62])
            #expect(await engine.processor().process(engine.delivery(command, sequence: 1)).outcome == "retrying")
            #expect(await engine.processor(takeoverAfter: .zero).process(engine.delivery(command, sequence: 1, deliveryCount: 2)).outcome == "triggered")
            let status = try #require(try await engine.status("sheets"))
            let adopted = status.currentRun?.vendorRunID ?? status.lastRun?.vendorRunID
            let lost = try #require(simulator.triggerLog().first?.runID)
            #expect(adopted == String(lost) && adopted != String(past))
            #expect(simulator.counters().totalTriggers == 1)
        }
    }

    @Test("a failed run: recorded failed with Census's message; RUNTIME failed")
    func failedRun() async throws {
        try await withEngine { simulator, engine in
            simulator.forceOutcome(.failed, error: "Braze rejected the batch: invalid external_id")
            #expect(await engine.processor().process(engine.delivery(try Self.apply("users", spec: ["syncId": "61"]))).outcome == "triggered")
            finishRuns(simulator)
            await follow(engine)
            let status = try #require(try await engine.status("users"))
            let last = try #require(status.lastRun)
            #expect(last.phase == .failed && status.runtime == .failed && last.vendorStatus == "failed")
            #expect(last.error == "Braze rejected the batch: invalid external_id (DESTINATION_ERROR)")
            #expect(status.phase == .active, "a failed run is not a failed command")
        }
    }

    @Test("a missing sync is refused: dead-lettered vendorNotFound naming the id, never retried, nothing triggered")
    func missingSync() async throws {
        try await withEngine { simulator, engine in
            let result = await engine.processor().process(engine.delivery(try Self.apply("ghost", spec: ["syncId": 4242])))
            #expect(result.disposition == .term && result.outcome == "failed", "\(result)")
            let letter = try #require(engine.deadLetters.letters.last)
            #expect(letter.reason == "vendorNotFound" && letter.message.contains("4242"))
            let status = try #require(try await engine.status("ghost"))
            #expect(status.phase == .error && status.lastError?.reason == "vendorNotFound")
            #expect(simulator.counters().totalTriggers == 0)
            #expect(simulator.counters().requests("GET /syncs/{sync_id}", status: 404) == 1)
        }
    }

    @Test("a run past the spec's timeout is recorded timed_out; Census cannot cancel it, so it is left running there")
    func timeout() async throws {
        // The run outlasts the test (ten simulated minutes, never advanced); the follower looks
        // until the engine's deadline, 300 ms of its own clock, has passed.
        try await withEngine { simulator, engine in
            #expect(await engine.processor().process(engine.delivery(try Self.apply("slow", spec: ["syncId": 61, "timeout": "300ms"]))).outcome == "triggered")
            await follow(engine)
            let last = try #require(try await engine.status("slow")?.lastRun)
            #expect(last.phase == .timedOut)
            #expect(last.error?.contains("Census cannot cancel it") == true, "\(last.error ?? "")")
            let runID = try #require(last.vendorRunID.flatMap(Int.init))
            #expect(simulator.triggerLog().map(\.runID) == [runID])
        }
    }

    @Test("a run command triggers again on the same sync; the previous run is kept as the last run")
    func runCommand() async throws {
        try await withEngine { simulator, engine in
            #expect(await engine.processor().process(engine.delivery(try Self.apply("users", spec: ["syncId": 61]))).outcome == "triggered")
            finishRuns(simulator)
            await follow(engine)
            #expect(await engine.processor().process(engine.delivery(try Self.run("users"), id: "run-2")).outcome == "triggered")
            #expect(simulator.counters().totalTriggers == 2)
            finishRuns(simulator)
            await follow(engine)
            let status = try #require(try await engine.status("users"))
            #expect(status.lastRun?.key == "run-2" && status.lastRun?.phase == .succeeded)
        }
    }
}
