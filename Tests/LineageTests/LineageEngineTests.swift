import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Lineage
import LineageTestKit
import Testing

/// Emission exactly once per transition, through the engine alone: the toy driver on a scripted
/// vendor, lineage published to memory. Every event is validated against the official schemas.
@Suite("Lineage emission, in memory")
struct LineageEngineTests {
    static let workspace: WorkspaceName = {
        do { return try WorkspaceName("public") } catch { preconditionFailure("\(error)") }
    }()

    func apply(_ name: String, job: String) throws -> CommandEnvelope {
        .apply(try InMemoryEngine.toyManifest(name: name, job: job), workspace: Self.workspace)
    }

    func validate(_ lineage: RecordingLineage, sourceLocation: SourceLocation = #_sourceLocation) {
        for event in lineage.attempts {
            let errors = OpenLineageValidator.shared.errors(encoded: event.bytes)
            #expect(errors == [], "\(event.identity): \(errors)", sourceLocation: sourceLocation)
        }
    }

    @Test("START when the run is recorded, COMPLETE when a look sees it succeed; each once, marked in the run's outbox")
    func startThenComplete() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let lineage = RecordingLineage()
        let emitter = engine.lineageEmitter(lineage)
        let delivery = engine.delivery(try apply("p", job: "nightly"))
        #expect(await engine.processor(lineage: emitter).process(delivery).outcome == "triggered")
        #expect(lineage.eventTypes == ["START"])
        #expect(try await engine.status("p")?.currentRun?.lineagePublished == ["START"])
        let follower = engine.follower(lineage: emitter)
        let runID = try #require(vendor.runs.first?.id)
        vendor.setPhase(.running, ofRun: runID)
        _ = await engine.follow(with: follower, rounds: 2)
        #expect(lineage.attempts.count == 1, "running is no new transition")
        vendor.setPhase(.succeeded, ofRun: runID)
        let settled = await engine.follow(with: follower)
        #expect(settled.values.allSatisfy { $0 == .ack })
        #expect(lineage.attempts.map(\.eventType) == ["START", "COMPLETE"], "no duplicate publish at all")
        #expect(try await engine.status("p")?.lastRun?.lineagePublished == ["START", "COMPLETE"])
        let complete = lineage.events[1].json
        #expect(complete["run"]?["runId"]?.stringValue == LineageRunID.make(commandID: delivery.commandID))
        #expect(complete["job"]?["name"] == "toy.p" && complete["job"]?["namespace"] == "factory://public")
        #expect(complete["job"]?["facets"]?["jobType"]?["integration"] == "TOY" && complete["job"]?["facets"]?["jobType"]?["jobType"] == "RUN")
        #expect(complete["inputs"] == [] && complete["outputs"] == [], "the toy driver gives no datasets: job only")
        validate(lineage)
    }

    @Test("FAIL with errorMessage for a failed run, FAIL for a timed-out one, ABORT for a cancelled one, COMPLETE for a warning")
    func endEvents() async throws {
        for (phase, end) in [(RunPhase.failed, "FAIL"), (.cancelled, "ABORT"), (.warning, "COMPLETE"), (.timedOut, "FAIL")] {
            let vendor = ScriptedVendor()
            let engine = InMemoryEngine(vendor: vendor)
            let lineage = RecordingLineage()
            let emitter = engine.lineageEmitter(lineage)
            #expect(await engine.processor(lineage: emitter).process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
            let runID = try #require(vendor.runs.first?.id)
            vendor.answerLooks(at: runID, with: [RunObservation(phase: phase, vendorStatus: phase.rawValue, vendorRunID: runID, finishedAt: Date(), error: "boom \(phase)")])
            _ = await engine.follow(with: engine.follower(lineage: emitter))
            #expect(lineage.eventTypes == ["START", end], "\(phase)")
            let last = lineage.events.last?.json
            if end == "COMPLETE" {
                #expect(last?["run"]?["facets"]?["errorMessage"] == nil)
            } else {
                #expect(last?["run"]?["facets"]?["errorMessage"]?["message"]?.stringValue == "boom \(phase)", "\(phase)")
            }
            validate(lineage)
        }
    }

    @Test("a run ended when first seen: START then its end event, in one go")
    func endedAtTrigger() async throws {
        let vendor = ScriptedVendor()
        vendor.createRuns(in: .succeeded)
        let engine = InMemoryEngine(vendor: vendor)
        let lineage = RecordingLineage()
        #expect(await engine.processor(lineage: engine.lineageEmitter(lineage)).process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        #expect(lineage.eventTypes == ["START", "COMPLETE"])
        #expect(try await engine.status("p")?.lastRun?.lineagePublished == ["START", "COMPLETE"])
        validate(lineage)
    }

    @Test("a publish that fails never fails the command; the next look publishes what is recorded but not marked, in order")
    func publishFailureIsRetriedByTheNextLook() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let lineage = RecordingLineage()
        let emitter = engine.lineageEmitter(lineage)
        lineage.failNext()
        let result = await engine.processor(lineage: emitter).process(engine.delivery(try apply("p", job: "j")))
        #expect(result.outcome == "triggered" && result.disposition == .ack)
        #expect(lineage.attempts.isEmpty)
        #expect(try await engine.status("p")?.currentRun?.lineagePublished == [])
        let follower = engine.follower(lineage: emitter)
        // The run ends, and the publish fails again: START must not be skipped, nor the end published before it.
        let runID = try #require(vendor.runs.first?.id)
        vendor.setPhase(.succeeded, ofRun: runID)
        lineage.failNext()
        let followUp = try #require(engine.followUps.published.first)
        let first = await follower.handle(payload: followUp.encoded, deliveryCount: 2, publishedAt: nil)
        guard case .nak = first else { throw Failure("an ended run with unpublished lineage was acknowledged: \(first)") }
        #expect(lineage.attempts.isEmpty)
        #expect(try await engine.status("p")?.lastRun?.phase == .succeeded, "the end is recorded whatever lineage does")
        let second = await follower.handle(payload: followUp.encoded, deliveryCount: 3, publishedAt: nil)
        #expect(second == .ack)
        #expect(lineage.attempts.map(\.eventType) == ["START", "COMPLETE"])
        #expect(try await engine.status("p")?.lastRun?.lineagePublished == ["START", "COMPLETE"])
        validate(lineage)
    }

    @Test("a crash after the status write and before the release: the resumed command publishes nothing twice")
    func resumedCommand() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let lineage = RecordingLineage()
        let emitter = engine.lineageEmitter(lineage)
        engine.followUps.failNext()
        let command = try apply("p", job: "j")
        #expect(await engine.processor(lineage: emitter).process(engine.delivery(command, sequence: 1)).outcome == "retrying")
        #expect(lineage.eventTypes == ["START"])
        let second = await engine.processor(instance: "replica-b", takeoverAfter: .zero, lineage: emitter).process(engine.delivery(command, sequence: 1, deliveryCount: 2))
        #expect(second.outcome == "triggered")
        #expect(lineage.attempts.count == 1, "START was marked: not published again")
        #expect(vendor.calls(.trigger) == 1)
    }

    @Test("a publish whose mark is lost (a crash between the two) is published again with the same identity, which the stream drops")
    func lostMark() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let lineage = RecordingLineage()
        let emitter = engine.lineageEmitter(lineage)
        #expect(await engine.processor(lineage: emitter).process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        // Forget the mark, as if the replica died right after the publish.
        _ = try await engine.store.modify(StatusRecord.self, key: StateStore.statusKey(workspace: "public", name: "p")) { current in
            guard var status = current, var run = status.currentRun else { return nil }
            run.lineagePublished = []
            status.currentRun = run
            return status
        }
        vendor.setPhase(.succeeded, ofRun: try #require(vendor.runs.first?.id))
        _ = await engine.follow(with: engine.follower(lineage: emitter))
        #expect(lineage.attempts.map(\.eventType) == ["START", "START", "COMPLETE"])
        #expect(lineage.attempts[0] == lineage.attempts[1], "the same identity and the same bytes: JetStream keeps one")
        #expect(lineage.eventTypes == ["START", "COMPLETE"])
    }

    @Test("the outbox is an additive field: written only when set, read back, and ignored by a reader of a run without it")
    func outboxCodec() throws {
        var status = StatusRecord(workspace: "public", name: "p", type: "toy", phase: .active, at: Date(timeIntervalSince1970: 1_700_000_000))
        var run = RunRecord(key: "k", vendorRunID: "1", reference: nil, phase: .running, vendorStatus: "running", recordedAt: status.createdAt, checkedAt: status.createdAt)
        status.currentRun = run
        let without = StateCodec.encode(status)
        #expect(!String(decoding: without, as: UTF8.self).contains("lineage"))
        run.lineagePublished = ["START"]
        status.currentRun = run
        let with = StateCodec.encode(status)
        #expect(String(decoding: with, as: UTF8.self).contains(#""lineage":{"published":["START"]}"#))
        #expect(try StateCodec.decode(StatusRecord.self, with, key: "status.public.p").currentRun?.lineagePublished == ["START"])
        #expect(try StateCodec.decode(StatusRecord.self, without, key: "status.public.p").currentRun?.lineagePublished == [])
        let marked = status.markLineagePublished(run: "k", ["START", "COMPLETE"])
        #expect(marked)
        let again = status.markLineagePublished(run: "k", ["COMPLETE"])
        #expect(!again, "nothing new")
        let other = status.markLineagePublished(run: "other", ["START"])
        #expect(!other)
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
