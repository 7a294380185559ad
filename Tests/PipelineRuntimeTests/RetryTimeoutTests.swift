import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Pipelines
import SimulatedVendors
import Testing

/// Retries and attempt timeouts across processes: each attempt is a new command
/// `<runId>/<task>/<attempt>` with one vendor run, a cause not in `retries.on` is not retried, and
/// a dbt Cloud run past its task's timeout is cancelled at dbt Cloud.
@Suite("Pipelines as processes: retries and timeouts", .serialized, .timeLimit(.minutes(10)))
struct RetryTimeoutTests {
    @Test("a job_failed attempt is retried per retries.on as a new command with one vendor run; job_failed not in on is not retried; api_error is retried until the job exists")
    func retries() async throws {
        try await withPipelineStack { stack in
            try stack.fivetran.prepare(11)
            try stack.census.prepare(11)
            stack.fivetran.failNextRun(11)
            stack.census.failNextRun(11)
            let spec: JSONValue = [
                "stages": [
                    [
                        "name": "ingest",
                        "tasks": [
                            [
                                "name": "salesforce", "integration": "fivetran", "job": "fivetran_sync_all", "parameters": ["connectorId": .string(stack.fivetran.connector(11))],
                                "retries": ["limit": 2, "delay": "200ms", "backoff": "constant", "on": ["job_failed"]],
                            ],
                            [
                                "name": "ads", "integration": "census", "job": "census_sync", "parameters": ["syncId": .number(JSONNumber(stack.census.sync(11)))],
                                "failureIsWarning": true, "retries": ["limit": 2, "delay": "200ms", "on": ["api_error"]],
                            ],
                        ],
                    ],
                    [
                        "name": "transform", "dependsOn": ["ingest"],
                        "tasks": [
                            [
                                "name": "dbt-build", "integration": "dbtcloud", "job": "dbt_runjob", "parameters": ["jobId": .number(JSONNumber(stack.dbtCloud.job(11)))],
                                "retries": ["limit": 4, "delay": "1s", "backoff": "constant", "on": ["api_error"]],
                            ]
                        ],
                    ],
                ]
            ]
            try await stack.apply("retrying", type: "pipeline", spec: spec)
            try await stack.waitForStatus("retrying", type: "pipeline") { $0.phase == .active }
            // dbt Cloud has no job 60011 yet: the dbt Cloud command is refused without a run
            // (api_error), and retried; the job is made once an attempt failed.
            let command = try await stack.run("retrying")
            let failing = try await stack.waitForRun(command: command, of: "retrying") { run in
                run.tasks["dbt-build"]?.attempts.first?.outcome != nil
            }
            let first = try #require(failing.tasks["dbt-build"]?.attempts.first)
            #expect(first.outcome == .apiError, "\(first)")
            #expect(first.error?.isEmpty == false, "an api_error attempt says why: \(first)")
            try stack.dbtCloud.prepare(11)

            let run = try await stack.waitForRun(command: command, of: "retrying")
            #expect(run.state == .warning, "\(run.state) \(run.reason ?? "")")

            // Fivetran: attempt 1 failed at the vendor (job_failed, in `on`), attempt 2 succeeded;
            // each attempt its own command and exactly one sync.
            let salesforce = try #require(run.tasks["salesforce"])
            #expect(salesforce.state == .succeeded, "\(salesforce)")
            #expect(salesforce.attempts.map(\.outcome) == [.failed, .succeeded], "\(salesforce.attempts)")
            #expect(salesforce.attempts.map(\.commandID) == [1, 2].map { Attempt.commandID(run: run.id, task: "salesforce", attempt: $0) })
            #expect(stack.fivetran.runs(11) == 2, "one sync per attempt, got \(stack.fivetran.runs(11))")
            if salesforce.attempts.count == 2, let failedAt = salesforce.attempts[0].finishedAt {
                #expect(salesforce.attempts[1].queuedAt >= failedAt.addingTimeInterval(0.2), "the retry waits its delay")
            }

            // Census: job_failed is not in `on: [api_error]`: one attempt, failed, a warning.
            let ads = try #require(run.tasks["ads"])
            #expect(ads.state == .failed && ads.attempts.count == 1 && ads.attempts.first?.outcome == .failed, "\(ads)")
            #expect(stack.census.runs(11) == 1)

            // dbt Cloud: every attempt before the last one an api_error without a run, the last one
            // succeeded with the only run dbt Cloud started.
            let dbt = try #require(run.tasks["dbt-build"])
            #expect(dbt.state == .succeeded, "\(dbt)")
            #expect(dbt.attempts.count >= 2 && dbt.attempts.count <= 5, "\(dbt.attempts.count) attempts")
            #expect(dbt.attempts.dropLast().allSatisfy { $0.outcome == .apiError && $0.vendorRunID == nil }, "\(dbt.attempts)")
            #expect(dbt.attempts.last?.outcome == .succeeded && dbt.attempts.last?.vendorRunID != nil)
            #expect(dbt.attempts.map(\.commandID) == (1...dbt.attempts.count).map { Attempt.commandID(run: run.id, task: "dbt-build", attempt: $0) })
            #expect(stack.dbtCloud.runs(11) == 1, "one dbt Cloud run, for the attempt that succeeded; got \(stack.dbtCloud.runs(11))")
        }
    }

    @Test("a dbt Cloud task past its timeout is cancelled at dbt Cloud, ends timed_out, and the stages follow the trigger rules")
    func timeoutCancelledAtDBTCloud() async throws {
        try await withPipelineStack { stack in
            try stack.dbtCloud.prepare(12)
            try stack.http.prepare(12)
            try stack.fivetran.prepare(12)
            stack.dbtCloud.makeRunsEndless(12)
            let spec: JSONValue = [
                "stages": [
                    [
                        "name": "transform",
                        "tasks": [["name": "dbt-build", "integration": "dbtcloud", "job": "dbt_runjob", "timeout": "3s", "parameters": ["jobId": .number(JSONNumber(stack.dbtCloud.job(12)))]]],
                    ],
                    [
                        "name": "load", "dependsOn": ["transform"],
                        "tasks": [["name": "salesforce", "integration": "fivetran", "job": "fivetran_sync_all", "parameters": ["connectorId": .string(stack.fivetran.connector(12))]]],
                    ],
                    [
                        "name": "notify", "dependsOn": ["transform"], "triggerRule": "one_failed",
                        "tasks": [["name": "page", "integration": "http", "job": "http_request", "parameters": FailureRuleTests.httpParameters(stack, index: 12)]],
                    ],
                ]
            ]
            try await stack.apply("slow", type: "pipeline", spec: spec)
            try await stack.waitForStatus("slow", type: "pipeline") { $0.phase == .active }
            let command = try await stack.run("slow")
            let run = try await stack.waitForRun(command: command, of: "slow")
            #expect(run.state == .failed, "\(run.state) \(run.reason ?? "")")
            let dbt = try #require(run.tasks["dbt-build"])
            #expect(dbt.state == .timedOut && dbt.attempts.count == 1, "\(dbt)")
            #expect(dbt.lastAttempt?.outcome == .timedOut && dbt.lastAttempt?.cancelRequested == true, "\(String(describing: dbt.lastAttempt))")
            #expect(dbt.lastAttempt?.vendorRunID != nil, "the run had started at dbt Cloud")
            #expect(run.tasks["salesforce"]?.state == .upstreamFailed && run.tasks["salesforce"]?.attempts.isEmpty == true)
            #expect(run.tasks["page"]?.state == .succeeded, "\(String(describing: run.tasks["page"]))")
            #expect(stack.fivetran.runs(12) == 0 && stack.http.runs(12) == 1)
            // dbt Cloud itself records the cancel of its one run.
            let deadline = ContinuousClock.now.advanced(by: .seconds(30))
            while !stack.dbtCloud.lastRunCancelled(12), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(150)) }
            #expect(stack.dbtCloud.lastRunCancelled(12), "dbt Cloud's run was not cancelled: \(stack.dbtCloud.runLog())")
            #expect(stack.dbtCloud.runs(12) == 1)
        }
    }
}
