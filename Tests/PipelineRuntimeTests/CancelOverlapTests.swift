import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Pipelines
import SimulatedVendors
import Testing

/// Cancel (stop and terminate) and the overlap policies across processes, on dbt Cloud runs that
/// last until cancelled.
@Suite("Pipelines as processes: cancel and overlap", .serialized, .timeLimit(.minutes(10)))
struct CancelOverlapTests {
    /// A dbt Cloud stage, a Fivetran stage after it, and an HTTP `finally` task.
    static func spec(_ stack: PipelineStack, index: Int, concurrency: JSONValue? = nil) -> JSONValue {
        var spec: JSONObject = [
            "stages": [
                ["name": "transform", "tasks": [["name": "dbt-build", "integration": "dbtcloud", "job": "dbt_runjob", "parameters": ["jobId": .number(JSONNumber(stack.dbtCloud.job(index)))]]]],
                [
                    "name": "load", "dependsOn": ["transform"],
                    "tasks": [["name": "salesforce", "integration": "fivetran", "job": "fivetran_sync_all", "parameters": ["connectorId": .string(stack.fivetran.connector(index))]]],
                ],
            ],
            "finally": [["name": "audit", "integration": "http", "job": "http_request", "parameters": FailureRuleTests.httpParameters(stack, index: index)]],
        ]
        if let concurrency { spec["concurrency"] = concurrency }
        return .object(spec)
    }

    static func prepare(_ stack: PipelineStack, _ indexes: [Int]) throws {
        for index in indexes {
            try stack.dbtCloud.prepare(index)
            try stack.fivetran.prepare(index)
            try stack.http.prepare(index)
        }
        stack.dbtCloud.makeRunsEndless(indexes[0])
    }

    /// Whether `run`'s dbt Cloud attempt has its vendor run.
    static func dbtStarted(_ run: PipelineRun) -> Bool { run.tasks["dbt-build"]?.lastAttempt?.vendorRunID != nil }

    @Test("stop cancels the running dbt Cloud run at dbt Cloud, starts nothing new, runs finally, ends cancelled; terminate does the same without finally")
    func stopAndTerminate() async throws {
        try await withPipelineStack { stack in
            try Self.prepare(stack, [21, 22])
            try await stack.apply("stoppable", type: "pipeline", spec: Self.spec(stack, index: 21))
            try await stack.apply("terminable", type: "pipeline", spec: Self.spec(stack, index: 22))
            try await stack.waitForStatus("stoppable", type: "pipeline") { $0.phase == .active }
            try await stack.waitForStatus("terminable", type: "pipeline") { $0.phase == .active }
            let stopCommand = try await stack.run("stoppable")
            let terminateCommand = try await stack.run("terminable")

            let stopping = try await stack.waitForRun(command: stopCommand, of: "stoppable", Self.dbtStarted)
            try await stack.cancel("stoppable", run: stopping.id, mode: .stop)
            let stopped = try await stack.waitForRun(command: stopCommand, of: "stoppable")
            #expect(stopped.state == .cancelled, "\(stopped.state) \(stopped.reason ?? "")")
            #expect(stopped.cancel?.mode == .stop)
            #expect(stopped.tasks["dbt-build"]?.state == .cancelled, "\(String(describing: stopped.tasks["dbt-build"]))")
            #expect(stopped.tasks["salesforce"]?.attempts.isEmpty == true && stopped.tasks["salesforce"]?.state == .cancelled, "\(String(describing: stopped.tasks["salesforce"]))")
            #expect(stopped.tasks["audit"]?.state == .succeeded && stopped.tasks["audit"]?.attempts.count == 1, "finally runs after a stop: \(String(describing: stopped.tasks["audit"]))")
            #expect(stack.http.runs(21) == 1 && stack.fivetran.runs(21) == 0 && stack.dbtCloud.runs(21) == 1)

            let terminating = try await stack.waitForRun(command: terminateCommand, of: "terminable", Self.dbtStarted)
            try await stack.cancel("terminable", run: terminating.id, mode: .terminate)
            let terminated = try await stack.waitForRun(command: terminateCommand, of: "terminable")
            #expect(terminated.state == .cancelled, "\(terminated.state) \(terminated.reason ?? "")")
            #expect(terminated.cancel?.mode == .terminate)
            #expect(terminated.tasks["dbt-build"]?.state == .cancelled)
            #expect(terminated.tasks["audit"]?.attempts.isEmpty == true && terminated.tasks["audit"]?.state.isFinished == true, "terminate skips finally: \(String(describing: terminated.tasks["audit"]))")
            #expect(stack.http.runs(22) == 0 && stack.fivetran.runs(22) == 0 && stack.dbtCloud.runs(22) == 1)

            // dbt Cloud itself records both cancels.
            let deadline = ContinuousClock.now.advanced(by: .seconds(30))
            while !(stack.dbtCloud.lastRunCancelled(21) && stack.dbtCloud.lastRunCancelled(22)), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(150))
            }
            #expect(stack.dbtCloud.lastRunCancelled(21) && stack.dbtCloud.lastRunCancelled(22), "\(stack.dbtCloud.runLog())")
        }
    }

    @Test("onOverlap at limit 1: skip records the second run skipped, queue starts it when the first ends, cancel-previous cancels the first, parallel runs both")
    func overlapPolicies() async throws {
        try await withPipelineStack { stack in
            try Self.prepare(stack, [31, 32, 33, 34])
            let policies = ["skip": 31, "queue": 32, "cancel-previous": 33, "parallel": 34]
            for (policy, index) in policies {
                try await stack.apply("overlap-\(policy)", type: "pipeline", spec: Self.spec(stack, index: index, concurrency: ["limit": 1, "onOverlap": .string(policy)]))
            }
            var firsts: [String: PipelineRun] = [:]
            for policy in policies.keys.sorted() {
                try await stack.waitForStatus("overlap-\(policy)", type: "pipeline") { $0.phase == .active }
                let command = try await stack.run("overlap-\(policy)")
                firsts[policy] = try await stack.waitForRun(command: command, of: "overlap-\(policy)", Self.dbtStarted)
            }

            // skip: the second run is recorded skipped with the reason, and runs nothing.
            let skipped = try await stack.waitForRun(command: try await stack.run("overlap-skip"), of: "overlap-skip")
            #expect(skipped.state == .skipped && skipped.reason?.isEmpty == false, "\(skipped.state) \(skipped.reason ?? "")")
            #expect(skipped.tasks.values.allSatisfy { $0.attempts.isEmpty })

            // queue: the second waits; it starts once the first ended.
            let queueCommand = try await stack.run("overlap-queue")
            let queued = try await stack.waitForRun(command: queueCommand, of: "overlap-queue") { $0.state == .queued }
            #expect(queued.tasks.values.allSatisfy { $0.attempts.isEmpty })
            try await stack.cancel("overlap-queue", run: firsts["queue"]?.id, mode: .terminate)
            let started = try await stack.waitForRun(command: queueCommand, of: "overlap-queue", Self.dbtStarted)
            let firstQueue = try await stack.waitForRun("overlap-queue") { $0.id == firsts["queue"]?.id }
            #expect(firstQueue.state == .cancelled)
            if let ended = firstQueue.finishedAt, let began = started.startedAt { #expect(began >= ended, "the queued run started before the first ended") }

            // cancel-previous: the first is cancelled (by the overlap), the second runs at once.
            let replaceCommand = try await stack.run("overlap-cancel-previous")
            let replacing = try await stack.waitForRun(command: replaceCommand, of: "overlap-cancel-previous", Self.dbtStarted)
            let replaced = try await stack.waitForRun("overlap-cancel-previous") { $0.id == firsts["cancel-previous"]?.id && $0.state.isFinished }
            #expect(replaced.state == .cancelled && replaced.cancel?.cause == .overlap, "\(replaced.state) \(String(describing: replaced.cancel))")
            #expect(replaced.cancel?.mode == .stop && replaced.tasks["audit"]?.state == .succeeded, "cancel-previous stops: finally runs")

            // parallel: both run at once.
            let parallelCommand = try await stack.run("overlap-parallel")
            _ = try await stack.waitForRun(command: parallelCommand, of: "overlap-parallel", Self.dbtStarted)
            let both = try await stack.runs("overlap-parallel")
            #expect(both.count == 2 && both.allSatisfy { $0.state == .running }, "\(both.map { "\($0.id) \($0.state)" })")

            // Each started run started its own dbt Cloud run, once; the skipped one none.
            #expect(stack.dbtCloud.runs(31) == 1 && stack.dbtCloud.runs(32) == 2 && stack.dbtCloud.runs(33) == 2 && stack.dbtCloud.runs(34) == 2)

            // Clean up: terminate what still runs, and see it end.
            for policy in policies.keys.sorted() {
                for run in try await stack.runs("overlap-\(policy)") where !run.state.isFinished {
                    try await stack.cancel("overlap-\(policy)", run: run.id, mode: .terminate)
                    _ = try await stack.waitForRun("overlap-\(policy)") { $0.id == run.id && $0.state == .cancelled }
                }
            }
        }
    }
}
