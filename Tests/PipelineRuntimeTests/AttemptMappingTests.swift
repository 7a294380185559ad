import FactoryModel
import FactoryState
import Foundation
import JSONSchema
@testable import NATSKit
import Testing

@testable import PipelineDriver
@testable import Pipelines

/// How the advancer reads a task resource's documents for one attempt (``AttemptMapping``):
/// the status's runs by key, and a refusal or failure recorded for the attempt's command.
@Suite("The companion's mapping of task statuses to attempt observations")
struct AttemptMappingTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let attempt = "20270115-080000-abc123/dbt-build/1"

    static func entity(active: String? = nil) -> EntityRecord {
        EntityRecord(
            workspace: "public", name: "p--dbt-build", type: "dbtcloud", owner: nil, manifest: [:], specDigest: "d", generation: 1, deleted: false,
            lastCommand: nil,
            activeCommand: active.map { ActiveCommand(command: CommandReference(id: $0, sequence: 9, operation: "apply", receivedAt: now), owner: "a", heartbeatAt: now, stage: .triggering) },
            createdAt: now, updatedAt: now)
    }

    static func run(_ key: String, _ phase: RunPhase, error: String? = nil) -> RunRecord {
        var run = RunRecord(key: key, vendorRunID: "70001", reference: nil, phase: phase, vendorStatus: phase.rawValue, recordedAt: now, checkedAt: now)
        run.error = error
        return run
    }

    static func status(current: RunRecord? = nil, last: RunRecord? = nil, error: ErrorRecord? = nil) -> StatusRecord {
        var status = StatusRecord(workspace: "public", name: "p--dbt-build", type: "dbtcloud", phase: .active, at: now)
        status.currentRun = current
        status.lastRun = last
        status.lastError = error
        return status
    }

    @Test("no status, or a status that knows nothing of the attempt: nothing observed")
    func nothing() {
        #expect(AttemptMapping.observation(commandID: Self.attempt, entity: nil, status: nil) == nil)
        #expect(AttemptMapping.observation(commandID: Self.attempt, entity: Self.entity(), status: Self.status()) == nil)
        // Another command's runs and errors are not this attempt's.
        let other = Self.status(current: Self.run("other", .running), last: Self.run("older", .failed), error: ErrorRecord(reason: "vendorRejected", message: "no", commandID: "other", at: Self.now))
        #expect(AttemptMapping.observation(commandID: Self.attempt, entity: Self.entity(), status: other) == nil)
    }

    @Test("the attempt's run current (queued or running at the vendor): started, with the vendor run id")
    func started() {
        for phase in [RunPhase.queued, .running] {
            let observation = AttemptMapping.observation(commandID: Self.attempt, entity: Self.entity(), status: Self.status(current: Self.run(Self.attempt, phase)))
            #expect(observation == AttemptObservation(started: true, vendorRunID: "70001"))
        }
    }

    @Test("the attempt's run ended: the outcome by its phase, with the run's error")
    func ended() {
        let cases: [(RunPhase, Attempt.Outcome)] = [(.succeeded, .succeeded), (.warning, .warning), (.failed, .failed), (.cancelled, .cancelled), (.timedOut, .timedOut)]
        for (phase, outcome) in cases {
            let observation = AttemptMapping.observation(commandID: Self.attempt, entity: Self.entity(), status: Self.status(last: Self.run(Self.attempt, phase, error: phase == .succeeded ? nil : "boom")))
            #expect(observation?.outcome == outcome, "\(phase)")
            #expect(observation?.started == true && observation?.vendorRunID == "70001")
            #expect(observation?.error == (phase == .succeeded ? nil : "boom"))
        }
        // An ended run found in the current slot (a status written by an older engine) counts too.
        let current = AttemptMapping.observation(commandID: Self.attempt, entity: Self.entity(), status: Self.status(current: Self.run(Self.attempt, .failed)))
        #expect(current?.outcome == .failed)
    }

    @Test("the command refused or failed for good without a run: api_error with the reason")
    func apiError() {
        let refused = ErrorRecord(reason: "schemaViolation", message: "/jobId: expected integer", commandID: Self.attempt, at: Self.now)
        let observation = AttemptMapping.observation(commandID: Self.attempt, entity: Self.entity(), status: Self.status(error: refused))
        #expect(observation?.outcome == .apiError && observation?.started == false)
        #expect(observation?.error == "schemaViolation: /jobId: expected integer")
        // Never applied (a refused apply of a new resource leaves no entity): the same.
        #expect(AttemptMapping.observation(commandID: Self.attempt, entity: nil, status: Self.status(error: refused))?.outcome == .apiError)
    }

    @Test("a command still held by the engine, or retried, is not an outcome yet")
    func retrying() {
        let retrying = ErrorRecord(reason: "vendorUnavailable", message: "503 (attempt 2, retrying)", commandID: Self.attempt, at: Self.now)
        #expect(AttemptMapping.observation(commandID: Self.attempt, entity: Self.entity(active: Self.attempt), status: Self.status(error: retrying)) == nil)
        #expect(AttemptMapping.observation(commandID: Self.attempt, entity: Self.entity(), status: Self.status(error: retrying)) == nil)
        let gaveUp = ErrorRecord(reason: "gaveUp", message: "gave up after 5 attempts", commandID: Self.attempt, at: Self.now)
        #expect(AttemptMapping.observation(commandID: Self.attempt, entity: Self.entity(active: Self.attempt), status: Self.status(error: gaveUp)) == nil)
        #expect(AttemptMapping.observation(commandID: Self.attempt, entity: Self.entity(), status: Self.status(error: gaveUp))?.outcome == .apiError)
    }

    @Test("the read model keeps a task resource's documents undecoded until read, and says whether its status may hold an error without decoding it")
    func storedResourceDecodesWhenRead() throws {
        func entry(_ key: String, _ document: some StateDocument) -> KeyValueEntry {
            KeyValueEntry(bucket: "b", key: key, value: StateCodec.encode(document), revision: 1, created: Self.now, delta: 0, operation: .put)
        }
        let refused = ErrorRecord(reason: "schemaViolation", message: "no", commandID: Self.attempt, at: Self.now)
        var stored = PipelineAdvancer.StoredResource()
        #expect(stored.isEmpty && !stored.mayHoldError)
        stored.undecodedEntity = entry("entity.public.p--dbt-build", Self.entity(active: Self.attempt))
        stored.undecodedStatus = entry("status.public.p--dbt-build", Self.status(current: Self.run(Self.attempt, .running)))
        #expect(!stored.isEmpty && !stored.mayHoldError)
        var documents = stored.read()
        #expect(documents.entity == Self.entity(active: Self.attempt) && documents.status == Self.status(current: Self.run(Self.attempt, .running)))
        #expect(stored.undecodedEntity == nil && stored.undecodedStatus == nil && !stored.mayHoldError)
        // An error on the status, undecoded then decoded: both say so.
        stored.undecodedStatus = entry("status.public.p--dbt-build", Self.status(error: refused))
        stored.documents.status = nil
        #expect(stored.mayHoldError)
        documents = stored.read()
        #expect(documents.status?.lastError == refused && stored.mayHoldError)
        // The status alone: the entity stays as delivered.
        stored.undecodedEntity = entry("entity.public.p--dbt-build", Self.entity())
        stored.undecodedStatus = entry("status.public.p--dbt-build", Self.status(last: Self.run(Self.attempt, .succeeded)))
        #expect(stored.readStatus() == Self.status(last: Self.run(Self.attempt, .succeeded)))
        #expect(stored.undecodedStatus == nil && stored.undecodedEntity != nil)
        #expect(stored.read().entity == Self.entity() && stored.undecodedEntity == nil)
        // A message that merely mentions the member's name inside a string does not.
        let mention = ErrorRecord(reason: "x", message: #"a "lastError" inside"#, commandID: "c", at: Self.now)
        var run = Self.run("k", .failed)
        run.error = mention.message
        stored = PipelineAdvancer.StoredResource(undecodedStatus: entry("status.public.p", Self.status(last: run)))
        #expect(!stored.mayHoldError)
    }
}

@Suite("The advancer's doorbell and its pass over a run")
struct AdvancerPartsTests {
    static func rings(_ stream: AsyncStream<Void>) async -> Int {
        var count = 0
        for await _ in stream { count += 1 }
        return count
    }

    @Test("a ring wakes one idle worker, the one idle last; with no worker idle it wakes none (the busy ones look for work before they wait)")
    func ringWakesOneIdleWorker() async {
        var bell = Doorbell()
        var (first, firstRings) = bell.stream()
        var (second, secondRings) = bell.stream()
        bell.ring()
        bell.idle(first)
        bell.idle(second)
        bell.ring()
        bell.close()
        #expect(await Self.rings(firstRings) == 0)
        #expect(await Self.rings(secondRings) == 1)

        bell = Doorbell()
        (first, firstRings) = bell.stream()
        (second, secondRings) = bell.stream()
        bell.idle(first)
        bell.idle(second)
        bell.busy(second)
        bell.ring()
        bell.ring()
        bell.close()
        #expect(await Self.rings(firstRings) == 1, "a worker is woken once per wait")
        #expect(await Self.rings(secondRings) == 0, "a worker that found work is not rung")
    }

    @Test("one pass finds the open tasks, those with an attempt in progress, and those whose last attempt had a cancel published")
    func openTasks() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func attempt(_ task: String, outcome: Attempt.Outcome? = nil, cancelRequested: Bool = false) -> Attempt {
            var attempt = Attempt(number: 1, commandID: "r/\(task)/1", resourceType: "http", resource: "p--\(task)", queuedAt: now, deadline: nil)
            attempt.outcome = outcome
            attempt.cancelRequested = cancelRequested
            return attempt
        }
        let run = PipelineRun(
            id: "r", workspace: "public", pipeline: "p", specDigest: "d", trigger: RunTrigger(kind: .manual, commandID: "c"), createdAt: now,
            tasks: [
                "pending": TaskRun(),
                "queued": TaskRun(state: .queued, attempts: [attempt("queued")]),
                "retrying": TaskRun(state: .upForRetry, attempts: [attempt("retrying", outcome: .apiError)], retryAt: now),
                "ended": TaskRun(state: .succeeded, attempts: [attempt("ended", outcome: .succeeded)]),
                "stopped": TaskRun(state: .timedOut, attempts: [attempt("stopped", outcome: .timedOut, cancelRequested: true)]),
                "undecided": TaskRun(state: .failed, attempts: [attempt("undecided")]),
            ], state: .running)
        let open = PipelineAdvancer.openTasks(of: run)
        #expect(Set(open.all) == ["queued", "retrying", "undecided"])
        #expect(Set(open.undecided) == ["queued", "undecided"])
        #expect(open.cancelRequested == ["stopped"])
        #expect(Set(run.taskNames(where: \.isOpen)) == Set(open.all))
    }
}
