import DBTCloud
import DBTCloudSimulator
import Foundation
import Testing
import VendorHTTP

/// Every endpoint of the client against the simulator.
@Suite("dbt Cloud client: endpoints", .timeLimit(.minutes(1)))
struct DBTCloudClientTests {
    @Test("a job: its name, steps, project and environment; an unknown job is notFound with the envelope's message")
    func job() async throws {
        try await withDBTCloud { simulator, client in
            let job = try await client.job(account: testAccount, id: dailyJob)
            #expect(job.id == dailyJob && job.name == "Daily run" && job.accountID == testAccount)
            #expect(job.executeSteps == ["dbt seed", "dbt run", "dbt test"])
            #expect(job.project?.name == "Analytics" && job.environment?.name == "Production")
            #expect(job.projectID == 70_001 && job.environmentID == 80_001 && !job.isDeleted)

            let error = try await expectVendorError(.notFound) { _ = try await client.job(account: testAccount, id: 999) }
            #expect(error.status == 404 && error.attempts == 1)
            #expect(error.message == "The requested resource was not found. Please check that you have the proper permissions.")
            #expect(error.route == "GET /accounts/{accountId}/jobs/{jobId}/")
            #expect(error.path == "/api/v2/accounts/\(testAccount)/jobs/999/")
            #expect(simulator.counters().requests("GET /accounts/{accountId}/jobs/{jobId}/", status: 404) == 1)
        }
    }

    @Test("trigger: the run comes back queued; the body carries the cause and the overrides, as the simulator received them")
    func trigger() async throws {
        try await withDBTCloud { simulator, client in
            let run = try await client.triggerRun(
                account: testAccount, jobID: dailyJob,
                DBTCloudTriggerRequest(cause: "Nightly refresh", gitBranch: "release", stepsOverride: ["dbt run -s orders"], threadsOverride: 8)
            )
            #expect(run.status == .queued && run.statusHumanized == "Queued" && run.inProgress && !run.isComplete)
            #expect(run.jobDefinitionID == dailyJob && run.accountID == testAccount && run.gitBranch == "release")
            #expect(run.href?.hasSuffix("/deploy/\(testAccount)/projects/70001/runs/\(run.id)/") == true)
            let record = try #require(simulator.triggerLog().last)
            #expect(record.runID == run.id && record.kind == "run" && record.cause == "Nightly refresh")
            #expect(record.gitBranch == "release" && record.stepsOverride == ["dbt run -s orders"] && record.threadsOverride == 8)
            #expect(simulator.counters().runsTriggeredByJob[dailyJob] == 1)
            #expect(simulator.counters().causesByJob[dailyJob] == ["Nightly refresh"])

            // With the trigger related: the cause read back; with steps: setup steps, then the override.
            let read = try await client.run(account: testAccount, id: run.id, including: [.trigger, .runSteps])
            #expect(read.trigger?.cause == "Nightly refresh" && read.trigger?.stepsOverride == ["dbt run -s orders"])
            #expect(read.runSteps?.map(\.name) == ["Clone git repository", "Create profile from connection", "Invoke dbt with `dbt run -s orders`"])
        }
    }

    @Test("a cause over 255 characters or an empty steps override is refused before sending")
    func triggerArguments() async throws {
        try await withDBTCloud { simulator, client in
            let long = String(repeating: "x", count: 256)
            let error = try await expectVendorError(.invalidArgument) {
                _ = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: long))
            }
            #expect(error.message?.contains("255") == true)
            _ = try await expectVendorError(.invalidArgument) {
                _ = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "c", stepsOverride: []))
            }
            // 255 code points exactly is fine, also when they are not ASCII.
            _ = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: String(repeating: "é", count: 255)))
            #expect(simulator.counters().totalRuns == 1)
        }
    }

    @Test("a run goes 1 → 2 → 3 → 10 over simulated time, its steps one after another")
    func runProgresses() async throws {
        // 10 s on an idle job: queued 1 s, starting 1 s, then five steps of 1.6 s each. The clock
        // is frozen: only the test moves it, so each look lands where the test says, however
        // long the requests take.
        try await withDBTCloud(knobs: { $0.runDuration = .seconds(10) }) { simulator, client in
            simulator.freezeClock()
            let run = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "progress"))
            var seen: [Int] = []
            var runningSteps: [Int] = []
            for step in [Duration.zero, .milliseconds(1_500), .milliseconds(1_000), .milliseconds(1_600), .milliseconds(1_600), .milliseconds(5_000)] {
                simulator.advanceClock(by: step)
                let current = try await client.run(account: testAccount, id: run.id)
                if seen.last != current.status.rawValue { seen.append(current.status.rawValue) }
                runningSteps += current.runSteps?.filter { $0.status == .running }.map(\.index) ?? []
                #expect(current.inProgress == !current.status.isTerminal && current.isComplete == current.status.isTerminal)
            }
            #expect(seen == [1, 2, 3, 10], "statuses seen: \(seen)")
            #expect(runningSteps == [1, 2, 3], "one step at a time: \(runningSteps)")
            let ended = try await client.run(account: testAccount, id: run.id)
            #expect(ended.isSuccess && ended.finishedAt != nil && ended.statusMessage == nil && ended.statusHumanized == "Success")
            #expect(ended.runSteps?.count == 5 && ended.runSteps?.allSatisfy { $0.status == .success } == true)
            #expect(ended.runSteps?.map(\.index) == [1, 2, 3, 4, 5])
            let waited = try await client.waitForRun(account: testAccount, id: run.id, pollInterval: .milliseconds(10), timeout: .seconds(5))
            #expect(waited.status == .success)
        }
    }

    @Test("an error run: status 20, its status_message, the failing step in error and the later ones skipped")
    func errorRun() async throws {
        try await withDBTCloud { simulator, client in
            simulator.forceOutcome(.error, nextRuns: 1, statusMessage: "Compilation Error in model orders")
            let run = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "fails"))
            finishRuns(simulator)
            let ended = try await client.waitForRun(account: testAccount, id: run.id, pollInterval: .milliseconds(20), timeout: .seconds(30))
            #expect(ended.status == .error && ended.isError && !ended.isSuccess && ended.statusHumanized == "Error")
            #expect(ended.statusMessage == "Compilation Error in model orders")
            let steps = try #require(ended.runSteps)
            let failing = try #require(steps.firstIndex { $0.status == .error })
            #expect(failing >= 2, "a dbt command fails, not a set-up step")
            #expect(steps[..<failing].allSatisfy { $0.status == .success })
            #expect(steps[(failing + 1)...].allSatisfy { $0.statusHumanized == "Skipped" })
        }
    }

    @Test("list runs: filtered by job, newest first with order_by=-id, paged by limit and offset with extra.pagination; every page followed")
    func listAndPaging() async throws {
        try await withDBTCloud(client: { $0.pageSize = 2 }) { simulator, client in
            var ids: [Int] = []
            for index in 0..<5 {
                ids.append(try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "run \(index)")).id)
            }
            _ = try await client.triggerRun(account: testAccount, jobID: hourlyJob, DBTCloudTriggerRequest(cause: "other job"))

            let first = try await client.listRunsPage(account: testAccount, DBTCloudRunFilter(jobDefinitionID: dailyJob), limit: 2, offset: 0)
            #expect(first.data.map(\.id) == [ids[4], ids[3]] && first.totalCount == 5 && first.hasMore)
            let last = try await client.listRunsPage(account: testAccount, DBTCloudRunFilter(jobDefinitionID: dailyJob), limit: 2, offset: 4)
            #expect(last.data.map(\.id) == [ids[0]] && !last.hasMore)
            let ascending = try await client.listRunsPage(account: testAccount, DBTCloudRunFilter(jobDefinitionID: dailyJob, orderBy: "id"), limit: 100)
            #expect(ascending.data.map(\.id) == ids)

            let all = try await client.runs(account: testAccount, DBTCloudRunFilter(jobDefinitionID: dailyJob, includeRelated: [.trigger]))
            #expect(all.map(\.id) == ids.reversed())
            #expect(all.map { $0.trigger?.cause } == (0..<5).reversed().map { "run \($0)" })
            let recent = try await client.runs(account: testAccount, DBTCloudRunFilter(jobDefinitionID: dailyJob), maxRuns: 3)
            #expect(recent.map(\.id) == Array(ids.reversed().prefix(3)))
            #expect(simulator.counters().requests("GET /accounts/{accountId}/runs/") == 3 + 3 + 2)

            let everyJob = try await client.runs(account: testAccount, DBTCloudRunFilter(orderBy: "-id"))
            #expect(everyJob.count == 6)
        }
    }

    @Test("status__in selects active runs; cancel ends a run as 30 and its queued successor moves up; cancelling an ended run answers it as it is")
    func statusFilterAndCancel() async throws {
        try await withDBTCloud { simulator, client in
            let first = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "first"))
            let second = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "second"))
            let active = try await client.runs(account: testAccount, DBTCloudRunFilter(jobDefinitionID: dailyJob, statuses: DBTCloudRunStatus.active))
            #expect(Set(active.map(\.id)) == [first.id, second.id])

            let cancelled = try await client.cancelRun(account: testAccount, id: first.id)
            #expect(cancelled.status == .cancelled && cancelled.isCancelled && cancelled.isComplete && cancelled.statusMessage != nil)
            let stillActive = try await client.runs(account: testAccount, DBTCloudRunFilter(jobDefinitionID: dailyJob, statuses: DBTCloudRunStatus.active))
            #expect(stillActive.map(\.id) == [second.id])
            let ended = try await client.runs(account: testAccount, DBTCloudRunFilter(jobDefinitionID: dailyJob, statuses: [.cancelled]))
            #expect(ended.map(\.id) == [first.id])

            let again = try await client.cancelRun(account: testAccount, id: first.id)
            #expect(again.status == .cancelled)
            #expect(simulator.counters().cancels == 1)
            _ = try await expectVendorError(.notFound) { _ = try await client.cancelRun(account: testAccount, id: 1) }
        }
    }

    @Test("rerun: after an error, a new run of the failed step onward; after a success, a new run of the whole job")
    func rerun() async throws {
        try await withDBTCloud { simulator, client in
            simulator.forceOutcome(.error, forJob: dailyJob, runs: 1)
            let failed = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "fails"))
            finishRuns(simulator)
            let ended = try await client.waitForRun(account: testAccount, id: failed.id, pollInterval: .milliseconds(20), timeout: .seconds(30))
            let failedStep = try #require(ended.runSteps?.first { $0.status == .error })

            let rerun = try await client.rerun(account: testAccount, jobID: dailyJob)
            #expect(rerun.id > failed.id && rerun.status == .queued)
            let steps = try #require(try await client.run(account: testAccount, id: rerun.id).runSteps)
            #expect(steps.first { $0.name.hasPrefix("Invoke") }?.name == failedStep.name, "it starts again at the failed command")
            #expect(steps.count == 2 + (5 - failedStep.index + 1))
            #expect(simulator.triggerLog().last?.kind == "rerun")

            finishRuns(simulator)
            _ = try await client.waitForRun(account: testAccount, id: rerun.id, pollInterval: .milliseconds(20), timeout: .seconds(30))
            let full = try await client.rerun(account: testAccount, jobID: dailyJob)
            #expect(try await client.run(account: testAccount, id: full.id).runSteps?.count == 5)
            #expect(simulator.counters().reruns == 2)
        }
    }

    @Test("artifacts: run_results.json of a finished run (a model in error for an error run); 404 while the run goes on")
    func artifacts() async throws {
        try await withDBTCloud { simulator, client in
            let run = try await client.triggerRun(account: testAccount, jobID: hourlyJob, DBTCloudTriggerRequest(cause: "artifacts"))
            _ = try await expectVendorError(.notFound) { _ = try await client.artifact(account: testAccount, runID: run.id, path: "run_results.json") }
            finishRuns(simulator)
            _ = try await client.waitForRun(account: testAccount, id: run.id, pollInterval: .milliseconds(20), timeout: .seconds(30))
            let results = try await client.artifact(account: testAccount, runID: run.id, path: "run_results.json")
            #expect(results["metadata"]?["dbt_schema_version"]?.stringValue?.contains("run-results") == true)
            #expect(results["results"]?.arrayValue?.allSatisfy { $0["status"]?.stringValue == "success" } == true)
            let manifest = try await client.artifact(account: testAccount, runID: run.id, path: "manifest.json", step: 3)
            #expect(manifest["nodes"]?.objectValue?.isEmpty == false)
            // Shaped like dbt's: each model's depends_on.nodes and relation_name, the sources with theirs.
            #expect(manifest["nodes"]?["model.analytics.customers"]?["depends_on"]?["nodes"]?.arrayValue?.compactMap(\.stringValue) == ["model.analytics.stg_customers", "model.analytics.stg_orders"])
            #expect(manifest["nodes"]?["model.analytics.stg_orders"]?["depends_on"]?["nodes"]?.arrayValue?.compactMap(\.stringValue) == ["source.analytics.shop.orders"])
            #expect(manifest["nodes"]?["model.analytics.orders"]?["relation_name"]?.stringValue == "\"analytics\".\"prod\".\"orders\"")
            #expect(manifest["sources"]?["source.analytics.shop.orders"]?["relation_name"]?.stringValue == "\"raw\".\"shop\".\"orders\"")
            #expect(manifest["sources"]?.objectValue?.count == 2)
            _ = try await expectVendorError(.notFound) { _ = try await client.artifact(account: testAccount, runID: run.id, path: "catalog.json") }

            simulator.forceOutcome(.error, nextRuns: 1)
            let failed = try await client.triggerRun(account: testAccount, jobID: hourlyJob, DBTCloudTriggerRequest(cause: "fails"))
            finishRuns(simulator)
            _ = try await client.waitForRun(account: testAccount, id: failed.id, pollInterval: .milliseconds(20), timeout: .seconds(30))
            let failedResults = try await client.artifact(account: testAccount, runID: failed.id, path: "run_results.json")
            #expect(failedResults["results"]?.arrayValue?.contains { $0["status"]?.stringValue == "error" } == true)
        }
    }
}
