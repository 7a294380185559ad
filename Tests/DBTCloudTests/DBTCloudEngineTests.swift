import DBTCloud
import DBTCloudDriver
import DBTCloudSimulator
import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Testing

/// The whole command protocol in memory (`InMemoryEngine`: the state with KV's compare-and-set,
/// recorded follow-ups and dead letters) with the real driver against the real simulator over HTTP.
@Suite("dbt Cloud: the command protocol against the simulator", .serialized, .timeLimit(.minutes(2)))
struct DBTCloudEngineTests {
    static let workspace: WorkspaceName = {
        do { return try WorkspaceName("public") } catch { preconditionFailure("\(error)") }
    }()

    static func apply(_ name: String, spec: JSONObject) throws -> CommandEnvelope {
        .apply(
            ResourceManifest(name: try ResourceName(name), version: "v1beta", resource: .init(operator: "factory", type: "dbtcloud", spec: .object(spec))),
            workspace: workspace
        )
    }

    /// Delivers the follow-ups until every run has ended: at least 30 s of rounds (each sleeps
    /// `between`), a generous deadline for a loaded machine; it returns once all are settled.
    @discardableResult
    static func follow(_ engine: InMemoryEngine) async -> [String: CommandDisposition] {
        let between = Duration.milliseconds(20)
        return await engine.follow(with: engine.follower(), rounds: Int(Duration.seconds(30) / between), between: between)
    }

    /// An engine with the dbt Cloud driver on `simulator`.
    static func engine(_ simulator: DBTCloudSimulator) throws -> InMemoryEngine {
        InMemoryEngine(driver: AnyResourceDriver(DBTCloudDriver(client: try makeClient(simulator), defaultAccountID: testAccount)))
    }

    @Test("apply: the job checked, one run triggered with the command's marker, recorded and followed to success")
    func applyToSuccess() async throws {
        try await withDBTCloud { simulator, _ in
            let engine = try Self.engine(simulator)
            let delivery = engine.delivery(try Self.apply("nightly", spec: ["jobId": .number(JSONNumber(dailyJob)), "cause": "Nightly refresh"]))
            let result = await engine.processor().process(delivery)
            #expect(result.disposition == .ack && result.outcome == "triggered", "\(result)")
            let status = try #require(try await engine.status("nightly"))
            #expect(status.objects?["jobName"]?.stringValue == "Daily run")
            let run = try #require(status.currentRun)
            #expect(run.key == delivery.commandID && run.phase == .queued)
            #expect(simulator.counters().causesByJob[dailyJob] == ["Nightly refresh [factory:\(delivery.commandID)]"])

            finishRuns(simulator)
            let settled = await Self.follow(engine)
            #expect(settled.values.allSatisfy { $0 == .ack })
            let ended = try #require(try await engine.status("nightly"))
            let last = try #require(ended.lastRun)
            #expect(ended.currentRun == nil && last.phase == .succeeded && ended.runtime == .succeeded)
            #expect(last.vendorRunID == run.vendorRunID && last.summary == "step 5/5 dbt test" && last.progress == 1)
            #expect(simulator.counters().totalRuns == 1)
        }
    }

    @Test("a lost trigger answer: the command is retried, the resume check adopts the run by its marker, never a second run")
    func lostAnswerAdopted() async throws {
        try await withDBTCloud { simulator, _ in
            let engine = try Self.engine(simulator)
            simulator.dropTriggerAnswers(1)
            let command = try Self.apply("lost", spec: ["jobId": .string(String(dailyJob))])
            let first = await engine.processor().process(engine.delivery(command, sequence: 1))
            #expect(first.outcome == "retrying" && first.disposition != .ack, "\(first)")
            #expect(try await engine.status("lost")?.lastError?.message.contains("504") == true)
            #expect(simulator.counters().totalRuns == 1)

            // Redelivered, to another replica once the first is silent.
            let second = await engine.processor(instance: "replica-b", takeoverAfter: .zero).process(engine.delivery(command, sequence: 1, deliveryCount: 2))
            #expect(second.outcome == "triggered", "\(second)")
            #expect(simulator.counters().totalRuns == 1, "one run at dbt Cloud")
            let status = try #require(try await engine.status("lost"))
            let lost = try #require(simulator.triggerLog().first)
            #expect(lost.answerDropped && status.currentRun?.vendorRunID == String(lost.runID) && status.lastError == nil)
            #expect(simulator.counters().requests("POST /accounts/{accountId}/jobs/{jobId}/run/") == 1)
            finishRuns(simulator)
            await Self.follow(engine)
            #expect(try await engine.status("lost")?.lastRun?.phase == .succeeded)
        }
    }

    @Test("a failing run: recorded failed with dbt Cloud's status_message and the failed step")
    func failingRun() async throws {
        try await withDBTCloud { simulator, _ in
            let engine = try Self.engine(simulator)
            simulator.forceOutcome(.error, nextRuns: 1, statusMessage: "Database Error in model orders")
            #expect(await engine.processor().process(engine.delivery(try Self.apply("failing", spec: ["jobId": .number(JSONNumber(hourlyJob))]))).outcome == "triggered")
            finishRuns(simulator)
            await Self.follow(engine)
            let status = try #require(try await engine.status("failing"))
            let last = try #require(status.lastRun)
            #expect(last.phase == .failed && status.runtime == .failed)
            #expect(last.error == "Database Error in model orders")
            #expect(last.summary == "step 3/3 dbt build failed")
        }
    }

    @Test("a missing job is refused for good: failed, dead-lettered, nothing triggered")
    func missingJob() async throws {
        try await withDBTCloud { simulator, _ in
            let engine = try Self.engine(simulator)
            let result = await engine.processor().process(engine.delivery(try Self.apply("ghost", spec: ["jobId": 4040])))
            #expect(result.disposition == .term && result.outcome == "failed", "\(result)")
            let status = try #require(try await engine.status("ghost"))
            #expect(status.lastError?.reason == "vendorNotFound" && status.lastError?.message.contains("4040") == true)
            #expect(engine.deadLetters.letters.count == 1)
            #expect(simulator.counters().totalRuns == 0)
        }
    }

    @Test("a cancel command cancels the running run at dbt Cloud and records it cancelled")
    func cancelCommand() async throws {
        try await withDBTCloud { simulator, _ in
            let engine = try Self.engine(simulator)
            let processor = engine.processor()
            #expect(await processor.process(engine.delivery(try Self.apply("long", spec: ["jobId": .number(JSONNumber(dailyJob))]))).outcome == "triggered")
            let runID = try #require(simulator.triggerLog().first?.runID)
            simulator.advanceClock(by: .seconds(180))  // past queued (60 s) and starting (60 s): running its steps
            #expect(simulator.runStatus(id: runID) == 3)
            let cancel = CommandEnvelope.cancel(ResourceReference(name: try ResourceName("long")), workspace: Self.workspace)
            let result = await processor.process(engine.delivery(cancel, id: "cancel-1"))
            #expect(result.outcome == "cancelled", "\(result)")
            #expect(simulator.runStatus(id: runID) == 30 && simulator.counters().cancels == 1)
            let status = try #require(try await engine.status("long"))
            #expect(status.lastRun?.phase == .cancelled && status.currentRun == nil && status.runtime == .cancelled)
        }
    }

    @Test("a run past the spec's timeout is cancelled at dbt Cloud and recorded timed_out")
    func timeout() async throws {
        // The run outlasts the test (ten simulated minutes, never advanced); the follower looks
        // until the engine's deadline, 300 ms of its own clock, has passed.
        try await withDBTCloud { simulator, _ in
            let engine = try Self.engine(simulator)
            #expect(await engine.processor().process(engine.delivery(try Self.apply("slow", spec: ["jobId": .number(JSONNumber(dailyJob)), "timeout": "300ms"]))).outcome == "triggered")
            let recorded = try #require(try await engine.status("slow")?.currentRun)
            #expect(recorded.deadline != nil)
            await Self.follow(engine)
            let status = try #require(try await engine.status("slow"))
            #expect(status.lastRun?.phase == .timedOut && status.currentRun == nil)
            #expect(simulator.runStatus(id: try #require(simulator.triggerLog().first?.runID)) == 30)
        }
    }
}
