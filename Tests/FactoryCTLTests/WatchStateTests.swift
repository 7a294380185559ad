import Foundation
import JSONSchema
import FactoryEngine
import FactoryState
import Testing

@testable import FactoryCTL

/// When `watch` and `--watch` stop, decided from the two state documents alone.
@Suite("watch: busy, settled, and following one command")
struct WatchStateTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func entity(active: String? = nil, last: String? = nil) -> EntityRecord {
        EntityRecord(
            workspace: "public", name: "pipeline-01", type: "hightouch", owner: "iamgroot",
            manifest: ["version": "v1beta", "name": "pipeline-01"], specDigest: "d", generation: 1, deleted: false,
            lastCommand: last.map { CommandReference(id: $0, sequence: 1, operation: "apply", receivedAt: now) },
            activeCommand: active.map { ActiveCommand(command: CommandReference(id: $0, sequence: 2, operation: "run", receivedAt: now), owner: "operator-1", heartbeatAt: now, stage: .triggering) },
            createdAt: now, updatedAt: now)
    }

    /// A Hightouch run as its driver records it.
    static func run(_ id: String, _ status: String, command: String) -> RunRecord {
        let phases: [String: RunPhase] = ["processing": .running, "success": .succeeded, "warning": .warning, "failed": .failed, "interrupted": .failed]
        return RunRecord(
            key: command, vendorRunID: id, reference: nil, phase: phases[status] ?? .running, vendorStatus: status, createdAt: now, startedAt: now,
            finishedAt: status == "processing" ? nil : now.addingTimeInterval(5), progress: 1, recordedAt: now, checkedAt: now
        )
    }

    static func resource(_ entity: EntityRecord?, current: RunRecord? = nil, last: RunRecord? = nil, phase: ResourcePhase = .active, error: ErrorRecord? = nil) -> WatchedResource {
        var resource = WatchedResource(workspace: "public", name: "pipeline-01")
        if let entity { resource.record(.entity(entity)) }
        var status = StatusRecord(workspace: "public", name: "pipeline-01", type: "hightouch", phase: phase, at: now)
        status.currentRun = current
        status.lastRun = last
        status.lastError = error
        resource.record(.status(status))
        return resource
    }

    static func target(_ id: String) -> CommandTarget {
        CommandTarget(id: id, operation: "run", stream: "dataos-hightouch-entities", sequence: 2)
    }

    @Test("busy while a command is active or a run goes on; settled otherwise, with the last run's outcome")
    func busy() {
        #expect(Self.resource(Self.entity(active: "r2")).isBusy)
        #expect(Self.resource(Self.entity(last: "a1"), current: Self.run("500002", "processing", command: "r2")).isBusy)
        let settled = Self.resource(Self.entity(last: "a1"), last: Self.run("500001", "success", command: "a1"))
        #expect(!settled.isBusy)
        #expect(settled.outcome.isSuccess)
        #expect(settled.outcome.text == "public/pipeline-01: run 500001 succeeded in 5.0s")
        let failed = Self.resource(Self.entity(last: "a1"), last: Self.run("500001", "interrupted", command: "a1"))
        #expect(!failed.outcome.isSuccess)
        #expect(failed.outcome.text == "public/pipeline-01: run 500001 failed (interrupted) in 5.0s")
        let warned = Self.resource(Self.entity(last: "a1"), last: Self.run("500001", "warning", command: "a1"))
        #expect(warned.outcome.isSuccess && warned.outcome.text == "public/pipeline-01: run 500001 succeeded with warnings in 5.0s")
        let refused = Self.resource(nil, phase: .error, error: ErrorRecord(reason: "schemaViolation", message: "bad spec", commandID: "x", at: Self.now))
        #expect(refused.outcome.text == "public/pipeline-01: error (schemaViolation): bad spec")
        #expect(!refused.outcome.isSuccess)
    }

    @Test("a followed command: not seen, working, done while its run goes on, finished when it ends")
    func following() {
        let target = Self.target("r2")
        #expect(Self.resource(Self.entity(last: "a1"), last: Self.run("500001", "success", command: "a1")).progress(of: target) == .notSeen)
        #expect(Self.resource(Self.entity(active: "r2", last: "a1")).progress(of: target) == .working)
        #expect(Self.resource(Self.entity(last: "r2"), current: Self.run("500002", "processing", command: "r2")).progress(of: target) == .done)
        let finished = Self.resource(Self.entity(last: "r2"), last: Self.run("500002", "success", command: "r2"))
        #expect(finished.progress(of: target) == .finished)
        #expect(finished.outcome(of: target).isSuccess)
        // Refused by the operator: its own error, even on a resource that is otherwise fine.
        let refused = Self.resource(Self.entity(last: "a1"), phase: .deleted, error: ErrorRecord(reason: "notApplied", message: "apply it first", commandID: "r2", at: Self.now))
        #expect(refused.progress(of: target) == .finished)
        #expect(refused.outcome(of: target).text == "public/pipeline-01: error (notApplied): apply it first")
    }

    @Test("state keys: entity and status documents of a resource; anything else is ignored")
    func keys() {
        #expect(StateEntryDecoder.parse(key: "status.public.pipeline-01")?.kind == "status")
        #expect(StateEntryDecoder.parse(key: "entity.sandbox.p")?.workspace == "sandbox")
        #expect(StateEntryDecoder.parse(key: "election.x") == nil)
        #expect(StateEntryDecoder.parse(key: "status.public") == nil)
    }

    @Test("the one-line summary: phase, runtime, the active command, the run with its bar")
    func summary() {
        var run = Self.run("500002", "processing", command: "r2")
        run.progress = 0.5
        run.summary = "rows 50/100"
        let view = Self.resource(Self.entity(active: "r3", last: "r2"), current: run).view
        #expect(WatchRenderer.summary(view) == "public/pipeline-01  active  inprogress  run command: triggering  run 500002 processing  [############------------]  50%  rows 50/100")
    }

    @Test("plain output prints a line only when what a resource shows changes; a terminal gets one block redrawn")
    func rendering() {
        var written: [String] = []
        let plain = WatchRenderer(live: false) { written.append($0) }
        let resource = Self.resource(Self.entity(last: "a1"), last: Self.run("500001", "success", command: "a1"))
        plain.show([resource])
        plain.show([resource])
        #expect(written.count == 1)
        #expect(written.first?.hasSuffix("  public/pipeline-01  active  succeeded  last run 500001 success\n") == true)
        #expect(!(written.first ?? "").contains("\u{1B}"))

        var drawn = ""
        let live = WatchRenderer(live: true) { drawn += $0 }
        live.show([resource])
        live.show([resource])
        #expect(drawn.components(separatedBy: "\u{1B}[1A\r\u{1B}[J").count == 2, "the second draw moves up over the first")
    }
}
