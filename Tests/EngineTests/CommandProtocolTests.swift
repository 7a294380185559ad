@testable import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Testing

/// The exactly-once protocol through the engine alone: the toy driver on a scripted vendor, the
/// state in memory with KV's compare-and-set. No server; every fault is scripted.
@Suite("The command protocol, in memory")
struct CommandProtocolTests {
    static let workspace: WorkspaceName = {
        do { return try WorkspaceName("public") } catch { preconditionFailure("\(error)") }
    }()

    func apply(_ name: String, job: String, extra: JSONObject = JSONObject()) throws -> CommandEnvelope {
        .apply(try InMemoryEngine.toyManifest(name: name, job: job, extra: extra), workspace: Self.workspace)
    }

    func run(_ name: String) throws -> CommandEnvelope {
        .run(ResourceReference(name: try ResourceName(name)), workspace: Self.workspace)
    }

    @Test("apply: objects ensured, one run triggered and recorded under the command's key, a follow-up, the resource released; the run followed to its end")
    func applyLifecycle() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let command = try apply("p", job: "nightly")
        let delivery = engine.delivery(command)
        let result = await engine.processor().process(delivery)
        #expect(result.disposition == .ack && result.outcome == "triggered", "\(result)")
        #expect(vendor.calls(.trigger) == 1)
        let entity = try #require(try await engine.entity("p"))
        #expect(entity.version == 2 && entity.activeCommand == nil && entity.lastCommand?.id == delivery.commandID && entity.generation == 1)
        let status = try #require(try await engine.status("p"))
        #expect(status.phase == .active && status.observedGeneration == 1)
        #expect(status.objects?["job"]?.stringValue == "nightly")
        let run = try #require(status.currentRun)
        #expect(run.key == delivery.commandID && run.vendorRunID == vendor.runs.first?.id && run.phase == .queued)
        #expect(run.reference?["runID"]?.stringValue == vendor.runs.first?.id)
        #expect(engine.followUps.published.map(\.runKey) == [run.key])

        let follower = engine.follower()
        // Still running: looked at, nak'd.
        let first = await follower.handle(payload: engine.followUps.published[0].encoded, deliveryCount: 2, publishedAt: nil)
        guard case .nak = first else { throw Failure("a running run was not nak'd: \(first)") }
        vendor.setPhase(.running, ofRun: try #require(run.vendorRunID))
        await follower.handle(payload: engine.followUps.published[0].encoded, deliveryCount: 3, publishedAt: nil)
        #expect(try await engine.status("p")?.currentRun?.phase == .running)
        vendor.setPhase(.succeeded, ofRun: try #require(run.vendorRunID))
        let settled = await engine.follow(with: follower)
        #expect(settled.values.allSatisfy { $0 == .ack })
        let ended = try #require(try await engine.status("p"))
        #expect(ended.currentRun == nil && ended.lastRun?.phase == .succeeded && ended.runtime == .succeeded)
        #expect(ended.lastRun?.recordedAt == run.recordedAt, "a look keeps when the engine recorded the run")
        #expect(ended.lastRun?.summary == "job nightly" && ended.lastRun?.details?["marker"]?.stringValue == delivery.commandID)
    }

    @Test("the same command delivered again, and published again after the duplicate window: no second run")
    func duplicates() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let command = try apply("p", job: "j")
        let delivery = engine.delivery(command)
        let processor = engine.processor()
        #expect(await processor.process(delivery).outcome == "triggered")
        #expect(await processor.process(delivery).outcome == "duplicate")
        #expect(await engine.processor(instance: "replica-b").process(engine.delivery(command)).outcome == "duplicate", "a new stream sequence, the same id")
        #expect(vendor.calls(.trigger) == 1)
    }

    /// A trigger whose answer is lost: the command is retried; the resume check finds the run
    /// and adopts it, whichever way the vendor lets it look.
    @Test("a lost trigger answer is never a second run: found by creation time, by the command's marker, or past the baseline", arguments: [
        ScriptedDriver.ResumeCheck.createdSince, .marker, .baseline,
    ])
    func lostTriggerAnswer(check: ScriptedDriver.ResumeCheck) async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor, resumeCheck: check)
        vendor.loseTriggerAnswers(1)
        let command = try apply("p", job: "j")
        let first = await engine.processor().process(engine.delivery(command, sequence: 1))
        #expect(first.outcome == "retrying" && first.disposition != .ack, "\(first)")
        #expect(try await engine.status("p")?.lastError?.message.contains("retrying") == true)
        // Redelivered, to another replica once the first is silent.
        let second = await engine.processor(instance: "replica-b", takeoverAfter: .zero).process(engine.delivery(command, sequence: 1, deliveryCount: 2))
        #expect(second.outcome == "triggered", "\(second)")
        #expect(vendor.runs.count == 1, "one run at the vendor: \(vendor.runs.map(\.id))")
        let status = try #require(try await engine.status("p"))
        #expect(status.currentRun?.vendorRunID == vendor.runs.first?.id)
        #expect(status.lastError == nil)
        #expect(vendor.calls(.runs) == 1, "the resume check ran once")
    }

    @Test("the resume check adopts no run the resource already knows: a run of another command, and a run out of band are told apart")
    func resumeIgnoresKnownRuns() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor, resumeCheck: .createdSince)
        let processor = engine.processor(takeoverAfter: .zero)
        #expect(await processor.process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        // A run command whose trigger answer is lost, resumed: the first command's run is recent
        // and known; only the new run may be adopted.
        vendor.loseTriggerAnswers(1)
        let runCommand = try run("p")
        let delivery = engine.delivery(runCommand, id: "run-1")
        #expect(await processor.process(delivery).outcome == "retrying")
        let resumed = await processor.process(engine.delivery(runCommand, id: "run-1", sequence: delivery.streamSequence, deliveryCount: 2))
        #expect(resumed.outcome == "triggered", "\(resumed)")
        #expect(vendor.runs.count == 2)
        let status = try #require(try await engine.status("p"))
        #expect(status.currentRun?.key == "run-1" && status.currentRun?.vendorRunID == vendor.runs[1].id)
        #expect(status.lastRun?.vendorRunID == vendor.runs[0].id)
    }

    @Test("a crash after the run was recorded: the resumed command finds it on the status and triggers nothing")
    func crashAfterStatusWrite() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        // The follow-up cannot be published: the command stops after the status write.
        engine.followUps.failNext()
        let command = try apply("p", job: "j")
        let first = await engine.processor().process(engine.delivery(command, sequence: 1))
        #expect(first.outcome == "retrying")
        #expect(try await engine.status("p")?.currentRun != nil && engine.followUps.published.isEmpty)
        let second = await engine.processor(instance: "replica-b", takeoverAfter: .zero).process(engine.delivery(command, sequence: 1, deliveryCount: 2))
        #expect(second.outcome == "triggered")
        #expect(vendor.calls(.trigger) == 1 && vendor.calls(.runs) == 0, "found on the status: no vendor call at all")
        #expect(engine.followUps.published.count == 1)
        #expect(try await engine.entity("p")?.activeCommand == nil)
    }

    @Test("a replica that lost its command (another took it over) abandons it: no ack, no second trigger")
    func ownershipLost() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let command = try apply("p", job: "j")
        let delivery = engine.delivery(command)
        // While replica-a ensures, replica-b takes the command over (replica-a went silent).
        vendor.hold(.ensure)
        let stale = Task { await engine.processor(instance: "replica-a").process(delivery) }
        while vendor.waiting(.ensure) < 1 { try await Task.sleep(for: .milliseconds(2)) }
        let takeover = Task { await engine.processor(instance: "replica-b", takeoverAfter: .zero).process(engine.delivery(command, sequence: delivery.streamSequence, deliveryCount: 2)) }
        while vendor.waiting(.ensure) < 2 { try await Task.sleep(for: .milliseconds(2)) }
        vendor.release(.ensure)
        let results = [await stale.value, await takeover.value]
        #expect(Set(results.map(\.outcome)) == ["triggered", "lostOwnership"], "\(results)")
        #expect(results.first { $0.outcome == "lostOwnership" }?.disposition == .abandon)
        #expect(vendor.calls(.trigger) == 1)
    }

    @Test("a replica that stalled past half the takeover time before its trigger writes its claim again first: taken over meanwhile, it abandons the command and only the new holder triggers")
    func stalledHolderFencedBeforeTrigger() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor, resumeCheck: .createdSince)
        #expect(await engine.processor().process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        // A run command whose first trigger failed before the vendor acted: still active, resumed
        // by whoever gets it next.
        vendor.fail(.trigger, with: VendorFailure(kind: .transient, reason: "unavailable", message: "503"))
        let command = try run("p")
        let first = engine.delivery(command, id: "run-1")
        #expect(await engine.processor(instance: "replica-x").process(first).outcome == "retrying")
        // replica-a resumes it and stalls in the resume check at the vendor…
        vendor.hold(.runs)
        try await Task.sleep(for: .milliseconds(60))
        let stalled = Task {
            await engine.processor(instance: "replica-a", takeoverAfter: .milliseconds(50))
                .process(engine.delivery(command, id: "run-1", sequence: first.streamSequence, deliveryCount: 2))
        }
        while vendor.waiting(.runs) < 1 { try await Task.sleep(for: .milliseconds(2)) }
        // …for longer than its takeover time: replica-b takes the command over.
        try await Task.sleep(for: .milliseconds(100))
        let takeover = Task {
            await engine.processor(instance: "replica-b", takeoverAfter: .milliseconds(50))
                .process(engine.delivery(command, id: "run-1", sequence: first.streamSequence, deliveryCount: 3))
        }
        while vendor.waiting(.runs) < 2 { try await Task.sleep(for: .milliseconds(2)) }
        vendor.release(.runs)
        let results = [await stalled.value, await takeover.value]
        #expect(results[0].outcome == "lostOwnership" && results[0].disposition == .abandon, "\(results[0])")
        #expect(results[1].outcome == "triggered", "\(results[1])")
        #expect(vendor.runs.count == 2, "the apply's run and one run of run-1: \(vendor.runs.map(\.id))")
        let status = try #require(try await engine.status("p"))
        #expect(status.currentRun?.key == "run-1" && status.currentRun?.vendorRunID == vendor.runs.last?.id)
        #expect(try await engine.entity("p")?.activeCommand == nil)
    }

    @Test("a command taken over while its holder is inside its trigger call waits a grace period, then finds the holder's run instead of triggering another")
    func takeoverGraceFindsTheHoldersRun() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor, resumeCheck: .createdSince)
        #expect(await engine.processor().process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        // replica-x's trigger is on its way (held at the vendor) when it goes silent.
        let command = try run("p")
        let first = engine.delivery(command, id: "run-1")
        vendor.hold(.trigger)
        let holder = Task { await engine.processor(instance: "replica-x", takeoverAfter: .seconds(30)).process(first) }
        while vendor.waiting(.trigger) < 1 { try await Task.sleep(for: .milliseconds(2)) }
        try await Task.sleep(for: .milliseconds(250))
        // replica-b takes it over, and waits its grace period (its takeover time, 200 ms)…
        let takeover = Task {
            await engine.processor(instance: "replica-b", takeoverAfter: .milliseconds(200))
                .process(engine.delivery(command, id: "run-1", sequence: first.streamSequence, deliveryCount: 2))
        }
        while try await engine.entity("p")?.activeCommand?.owner != "replica-b" { try await Task.sleep(for: .milliseconds(2)) }
        // …during which the holder's trigger lands and its run is recorded.
        vendor.release(.trigger)
        let results = [await holder.value, await takeover.value]
        #expect(results[1].outcome == "triggered", "\(results[1])")
        #expect(results[0].outcome == "lostOwnership", "\(results[0])")
        #expect(vendor.runs.count == 2, "the apply's run and the holder's run of run-1 only: \(vendor.runs.map(\.id))")
        #expect(vendor.calls(.trigger) == 2)
        let status = try #require(try await engine.status("p"))
        #expect(status.currentRun?.key == "run-1" && status.currentRun?.vendorRunID == vendor.runs.last?.id)
        #expect(try await engine.entity("p")?.activeCommand == nil)
    }

    @Test("a trigger queued behind the client's rate limit past the takeover is not sent: the fence runs again once the permit is granted")
    func triggerQueuedForAPermitIsFencedAtSend() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor, resumeCheck: .createdSince)
        #expect(await engine.processor().process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        // replica-x claims run-1 and fences it, then waits for a rate-limit permit…
        let command = try run("p")
        let first = engine.delivery(command, id: "run-1")
        vendor.holdNext(.permit)
        let holder = Task { await engine.processor(instance: "replica-x", takeoverAfter: .milliseconds(200)).process(first) }
        while vendor.waiting(.permit) < 1 { try await Task.sleep(for: .milliseconds(2)) }
        // …longer than its takeover time and the new holder's grace: replica-b takes the command
        // over, finds no run, triggers and finishes it.
        try await Task.sleep(for: .milliseconds(250))
        let takeover = await engine.processor(instance: "replica-b", takeoverAfter: .milliseconds(200))
            .process(engine.delivery(command, id: "run-1", sequence: first.streamSequence, deliveryCount: 2))
        // Then replica-x's permit comes: its fence finds the claim gone and sends nothing.
        vendor.release(.permit)
        let results = [await holder.value, takeover]
        #expect(results[0].outcome == "lostOwnership" && results[0].disposition == .abandon, "\(results[0])")
        #expect(results[1].outcome == "triggered", "\(results[1])")
        #expect(vendor.calls(.trigger) == 2, "the apply's trigger and replica-b's only")
        #expect(vendor.runs.count == 2, "the apply's run and one run of run-1: \(vendor.runs.map(\.id))")
        let status = try #require(try await engine.status("p"))
        #expect(status.currentRun?.key == "run-1" && status.currentRun?.vendorRunID == vendor.runs.last?.id)
        #expect(try await engine.entity("p")?.activeCommand == nil)
    }

    @Test("a transient failure is retried with a reason on the status, then given up and dead-lettered; a refusal fails at once")
    func failures() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let outage = VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "503 from the toy vendor")
        vendor.fail(.ensure, with: outage, times: 3)
        let command = try apply("p", job: "j")
        let processor = engine.processor(maxAttempts: 3)
        for attempt in 1...2 {
            let result = await processor.process(engine.delivery(command, sequence: 1, deliveryCount: attempt))
            guard case .nak = result.disposition else { throw Failure("attempt \(attempt): \(result)") }
            #expect(try await engine.status("p")?.lastError?.reason == "vendorUnavailable")
        }
        let gaveUp = await processor.process(engine.delivery(command, sequence: 1, deliveryCount: 3))
        #expect(gaveUp.disposition == .term && gaveUp.outcome == "gaveUp")
        #expect(engine.deadLetters.letters.map(\.reason) == ["gaveUp"])
        let status = try #require(try await engine.status("p"))
        #expect(status.phase == .error && status.lastError?.reason == "gaveUp")
        #expect(try await engine.entity("p")?.activeCommand == nil, "the resource is free again")

        vendor.fail(.ensure, with: VendorFailure(kind: .rejected, reason: "vendorRejected", message: "no such source"))
        let refused = await processor.process(engine.delivery(try apply("q", job: "j")))
        #expect(refused.disposition == .term && refused.outcome == "failed")
        #expect(try await engine.status("q")?.lastError?.reason == "vendorRejected")
        #expect(vendor.calls(.trigger) == 0)
    }

    @Test("bad input: an unhosted type, a spec the driver refuses, an unreadable or newer document: each a clear reason, never a crash, nothing else touched")
    func badInput() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let processor = engine.processor(maxAttempts: 2)
        #expect(await processor.process(engine.delivery(try apply("bystander", job: "b"))).outcome == "triggered")
        let untouched = try #require(engine.backend.value(StateKeys.status(workspace: "public", name: "bystander")))

        // A type this process does not host.
        let census = CommandEnvelope.apply(try InMemoryEngine.toyManifest(name: "c", job: "x", type: "census"), workspace: Self.workspace)
        let unhosted = await processor.process(engine.delivery(census))
        #expect(unhosted.disposition == .term)
        #expect(engine.deadLetters.letters.last?.reason == "unknownResourceType")
        #expect(engine.deadLetters.letters.last?.message.contains("not hosted") == true)
        #expect(try await engine.status("c")?.lastError?.reason == "unknownResourceType")

        // A spec that passes the schema but that the driver refuses.
        let refused = await processor.process(engine.delivery(try apply("r", job: "x", extra: ["refuse": true])))
        #expect(refused.disposition == .term && refused.outcome == "refused")
        #expect(engine.deadLetters.letters.last?.reason == "specRejected")
        #expect(try await engine.status("r")?.lastError?.message.contains("driver refuses") == true)
        #expect(try await engine.entity("r") == nil, "nothing recorded as desired")

        // An entity written by a newer operator (state version 3): retried, then dead-lettered,
        // the document left as it is.
        let newer = Array(#"{"version":3,"workspace":"public","name":"n","type":"toy","futureField":true}"#.utf8)
        engine.backend.put(StateKeys.entity(workspace: "public", name: "n"), newer)
        let command = try apply("n", job: "x")
        let waiting = await processor.process(engine.delivery(command, sequence: 900, deliveryCount: 1))
        #expect(waiting.outcome == "retrying")
        #expect(try await engine.status("n")?.lastError?.reason == "stateVersionUnsupported")
        let given = await processor.process(engine.delivery(command, sequence: 900, deliveryCount: 2))
        #expect(given.disposition == .term && given.outcome == "gaveUp")
        #expect(engine.deadLetters.letters.last?.message.contains("state version 3") == true)
        #expect(engine.backend.value(StateKeys.entity(workspace: "public", name: "n"))?.value == newer, "never overwritten")

        // A status that is not JSON at all: the refusal is still dead-lettered and terminated.
        engine.backend.put(StateKeys.status(workspace: "public", name: "g"), Array("garbage".utf8))
        let garbled = await processor.process(engine.delivery(bytes: Array(#"{"op":"apply","workspace":"public","resource":{"name":"g"}}"#.utf8), id: "g-1"))
        #expect(garbled.disposition == .term)
        #expect(engine.backend.value(StateKeys.status(workspace: "public", name: "g"))?.value == Array("garbage".utf8))

        #expect(engine.backend.value(StateKeys.status(workspace: "public", name: "bystander")) == untouched, "no other resource touched")
        #expect(vendor.calls(.trigger) == 1)
    }

    @Test("a run that ends as it is triggered (an HTTP call) is recorded as the last run with no follow-up")
    func endedAtTrigger() async throws {
        let vendor = ScriptedVendor()
        vendor.createRuns(in: .succeeded)
        let engine = InMemoryEngine(vendor: vendor)
        #expect(await engine.processor().process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        let status = try #require(try await engine.status("p"))
        #expect(status.currentRun == nil && status.lastRun?.phase == .succeeded && status.runtime == .succeeded)
        #expect(engine.followUps.published.isEmpty)
    }

    @Test("run and delete: run triggers on the recorded objects; delete retires them and marks the resource deleted")
    func runAndDelete() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let processor = engine.processor()
        #expect(await processor.process(engine.delivery(try run("ghost"))).outcome == "refused")
        #expect(await processor.process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        #expect(await processor.process(engine.delivery(try run("p"), id: "run-a")).outcome == "triggered")
        #expect(vendor.calls(.ensure) == 1, "run ensures nothing")
        #expect(vendor.runs.count == 2)
        let delete = CommandEnvelope.delete(ResourceReference(name: try ResourceName("p")), workspace: Self.workspace)
        #expect(await processor.process(engine.delivery(delete)).outcome == "deleted")
        #expect(vendor.calls(.retire) == 1)
        let status = try #require(try await engine.status("p"))
        #expect(status.phase == .deleted && status.currentRun == nil)
        #expect(try await engine.entity("p")?.deleted == true)
        #expect(await processor.process(engine.delivery(try run("p"), id: "run-b")).outcome == "refused")
    }

    @Test("a look that arrives late never reopens an ended run; runs are ordered by when the engine recorded them, not by their ids")
    func lateLooksAndOrder() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        #expect(await engine.processor().process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        let runID = try #require(vendor.runs.first?.id)
        let followUp = try #require(engine.followUps.published.first)
        // A follower takes a look while the run goes on, and stalls before recording it...
        vendor.answerLooks(at: runID, with: [RunObservation(phase: .running, vendorStatus: "toy-running", vendorRunID: runID)])
        vendor.hold(.observe)
        let stalled = Task { await engine.follower().handle(payload: followUp.encoded, deliveryCount: 2, publishedAt: nil) }
        while vendor.waiting(.observe) == 0 { try await Task.sleep(for: .milliseconds(2)) }
        // ...while another sees the end and records it.
        let key = StateKeys.status(workspace: "public", name: "p")
        try await engine.store.modify(StatusRecord.self, key: key) { current in
            guard var status = current, var run = status.currentRun else { return nil }
            run.apply(RunObservation(phase: .succeeded, vendorStatus: "toy-succeeded", vendorRunID: runID), at: Date())
            status.record(run)
            return status
        }
        vendor.release(.observe)
        #expect(await stalled.value == .ack, "the stale look ends the follow-up: the run has ended")
        let status = try #require(try await engine.status("p"))
        #expect(status.currentRun == nil && status.lastRun?.phase == .succeeded && status.runtime == .succeeded, "reopened: \(status)")

        // Two runs whose vendor ids sort the other way round ("run-10" < "run-9" as text).
        var order = status
        let t = Date()
        let older = RunRecord(key: "a", vendorRunID: "run-9", reference: nil, phase: .running, vendorStatus: "x", recordedAt: t, checkedAt: t)
        let newer = RunRecord(key: "b", vendorRunID: "run-10", reference: nil, phase: .running, vendorStatus: "x", recordedAt: t.addingTimeInterval(1), checkedAt: t)
        order.start(older)
        order.start(newer)
        var ended = older
        ended.phase = .failed
        order.record(ended)
        #expect(order.currentRun?.key == "b", "the newer run stays current")
        #expect(order.lastRun?.key == "a" && order.lastRun?.phase == .failed)
        var stale = older
        stale.phase = .running
        order.record(stale)
        #expect(order.currentRun?.key == "b" && order.lastRun?.phase == .failed)
    }

    @Test("a follow-up of state version 1 is matched by the vendor's run id; an unreadable one is dropped")
    func legacyFollowUps() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        #expect(await engine.processor().process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        let runID = try #require(vendor.runs.first?.id)
        vendor.setPhase(.failed, ofRun: runID)
        let follower = engine.follower()
        let legacy = #"{"version":1,"workspace":"public","name":"p","syncID":"s","runID":"\#(runID)","commandID":"x"}"#
        #expect(await follower.handle(payload: Array(legacy.utf8), deliveryCount: 2, publishedAt: nil) == .ack)
        #expect(try await engine.status("p")?.lastRun?.phase == .failed)
        for bad in [#"{"version":1,"workspace":"public","name":"a b","runID":"1"}"#, "not json", #"{"version":9,"workspace":"public","name":"p","run":"k"}"#] {
            #expect(await follower.handle(payload: Array(bad.utf8), deliveryCount: 2, publishedAt: nil) == .term, "\(bad)")
        }
    }

    @Test("compare-and-set under racing writers: a follower's write between a command's read and write is not lost")
    func racingStatusWrites() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        #expect(await engine.processor().process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        let key = StateKeys.status(workspace: "public", name: "p")
        // Before the run command's status write lands, a follower records a look at the first
        // run (written straight to the backend, as another replica's write would land).
        let raced = RaceOnce()
        let backend = engine.backend
        engine.backend.beforeWrite { operation, written in
            guard operation == .update, written == key, raced.take(), let entry = backend.value(key),
                var status = try? StateCodec.decode(StatusRecord.self, entry.value, key: key), var run = status.currentRun
            else { return }
            run.apply(RunObservation(phase: .running, vendorStatus: "toy-running"), at: Date())
            status.record(run)
            backend.put(key, StateCodec.encode(status))
        }
        #expect(await engine.processor().process(engine.delivery(try run("p"), id: "run-x")).outcome == "triggered")
        engine.backend.beforeWrite(nil)
        let status = try #require(try await engine.status("p"))
        #expect(raced.taken, "the racing write happened")
        #expect(status.currentRun?.key == "run-x", "the command's change landed")
        #expect(status.lastRun?.phase == .running, "and the follower's look with it: \(String(describing: status.lastRun))")
    }

    @Test("a run past its timeout is cancelled where the vendor can and recorded timed_out; where it cannot, detached", arguments: [true, false])
    func timeout(cancellable: Bool) async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(driver: AnyResourceDriver(ScriptedDriver(vendor: vendor, cancellable: cancellable)))
        #expect(await engine.processor().process(engine.delivery(try apply("p", job: "j", extra: ["timeoutMs": 50]))).outcome == "triggered")
        let recorded = try #require(try await engine.status("p")?.currentRun)
        let deadline = try #require(recorded.deadline)
        #expect(deadline > recorded.recordedAt.addingTimeInterval(-1) && deadline <= recorded.recordedAt.addingTimeInterval(0.06))
        vendor.setPhase(.running, ofRun: try #require(recorded.vendorRunID))
        try await Task.sleep(for: .milliseconds(80))
        let settled = await engine.follow(with: engine.follower())
        #expect(settled.values.allSatisfy { $0 == .ack })
        let status = try #require(try await engine.status("p"))
        let run = try #require(status.lastRun)
        #expect(status.currentRun == nil && run.phase == .timedOut && status.runtime == .failed)
        #expect(vendor.calls(.cancel) == (cancellable ? 1 : 0))
        #expect(vendor.runs.first?.phase == (cancellable ? .cancelled : .running))
        #expect(run.error?.contains(cancellable ? "cancelled at the vendor" : "cannot cancel it") == true, "\(String(describing: run.error))")
    }

    @Test("cancel: the run in progress is cancelled at the vendor and recorded; with none, or a vendor that cannot, said and nothing else changes")
    func cancelCommand() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let processor = engine.processor()
        let cancel = CommandEnvelope.cancel(ResourceReference(name: try ResourceName("p")), workspace: Self.workspace)
        #expect(await processor.process(engine.delivery(cancel, id: "c0")).outcome == "nothingToCancel", "not applied")
        #expect(await processor.process(engine.delivery(try apply("p", job: "j"))).outcome == "triggered")
        let runID = try #require(vendor.runs.first?.id)
        vendor.setPhase(.running, ofRun: runID)
        #expect(await processor.process(engine.delivery(cancel, id: "c1")).outcome == "cancelled")
        #expect(vendor.calls(.cancel) == 1 && vendor.runs.first?.phase == .cancelled)
        let status = try #require(try await engine.status("p"))
        #expect(status.lastRun?.phase == .cancelled && status.currentRun == nil && status.runtime == .cancelled)
        #expect(try await engine.entity("p")?.activeCommand == nil && status.phase == .active)
        #expect(await processor.process(engine.delivery(cancel, id: "c2")).outcome == "nothingToCancel", "nothing in progress any more")

        let stubborn = ScriptedVendor()
        let other = InMemoryEngine(driver: AnyResourceDriver(ScriptedDriver(vendor: stubborn, cancellable: false)))
        #expect(await other.processor().process(other.delivery(try apply("p", job: "j"))).outcome == "triggered")
        let refused = await other.processor().process(other.delivery(cancel, id: "c3"))
        #expect(refused.outcome == "cancelUnsupported" && refused.disposition == .ack)
        let kept = try #require(try await other.status("p"))
        #expect(kept.phase == .active && kept.currentRun != nil && kept.lastError?.reason == "cancelUnsupported")
        #expect(stubborn.runs.first?.phase == .queued)
    }
}

/// True once.
final class RaceOnce: @unchecked Sendable {
    private var done = false
    private let lock = NSLock()

    var taken: Bool {
        lock.lock()
        defer { lock.unlock() }
        return done
    }

    func take() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}