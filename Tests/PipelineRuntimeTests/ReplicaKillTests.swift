import FactoryModel
import DBTCloudSimulator
import FactoryState
import Foundation
import JSONSchema
import Pipelines
import SimulatedVendors
import Testing

/// A replica SIGKILLed mid-run: the other one carries the run to its end, each task attempt
/// triggered once at its vendor.
@Suite("Pipelines as processes: a replica killed mid-run", .serialized, .timeLimit(.minutes(10)))
struct ReplicaKillTests {
    @Test("the replica that handles the running dbt Cloud attempt is SIGKILLed: the run still succeeds, one attempt and one vendor run per task, the document consistent")
    func replicaKilledMidRun() async throws {
        try await withPipelineStack { stack in
            try stack.fivetran.prepare(41)
            try stack.dbtCloud.prepare(41)
            try stack.census.prepare(41)
            stack.dbtCloud.simulator.updateKnobs { $0.runDuration = .seconds(4) }
            let spec: JSONValue = [
                "stages": [
                    ["name": "ingest", "tasks": [["name": "salesforce", "integration": "fivetran", "job": "fivetran_sync_all", "parameters": ["connectorId": .string(stack.fivetran.connector(41))]]]],
                    [
                        "name": "transform", "dependsOn": ["ingest"],
                        "tasks": [["name": "dbt-build", "integration": "dbtcloud", "job": "dbt_runjob", "parameters": ["jobId": .number(JSONNumber(stack.dbtCloud.job(41)))]]],
                    ],
                    ["name": "activate", "dependsOn": ["transform"], "tasks": [["name": "ads", "integration": "census", "job": "census_sync", "parameters": ["syncId": .number(JSONNumber(stack.census.sync(41)))]]]],
                ]
            ]
            try await stack.apply("survivor", type: "pipeline", spec: spec)
            try await stack.waitForStatus("survivor", type: "pipeline") { $0.phase == .active }
            let command = try await stack.run("survivor")
            let midway = try await stack.waitForRun(command: command, of: "survivor") { $0.tasks["dbt-build"]?.lastAttempt?.vendorRunID != nil }
            // The replica whose log names the dbt Cloud attempt's command handled it (it logs the
            // command once triggered, a moment after the run document shows the vendor run).
            let attempt = Attempt.commandID(run: midway.id, task: "dbt-build", attempt: 1)
            func handler() -> String? { stack.replicas.keys.sorted().first { stack.replicas[$0]?.log.contains(attempt) == true } }
            let named = ContinuousClock.now.advanced(by: .seconds(3))
            while handler() == nil, ContinuousClock.now < named { try await Task.sleep(for: .milliseconds(50)) }
            let victim = handler() ?? "replica-a"
            #expect(stack.dbtCloud.runLog().last?.phase == nil, "the dbt Cloud run is still running when the replica is killed")
            await stack.kill(victim)

            let run = try await stack.waitForRun(command: command, of: "survivor", timeout: .seconds(120))
            #expect(run.state == .succeeded, "\(run.state) \(run.reason ?? "") (killed \(victim))")
            for task in ["salesforce", "dbt-build", "ads"] {
                let taskRun = try #require(run.tasks[task])
                #expect(taskRun.state == .succeeded && taskRun.attempts.count == 1, "\(task): \(taskRun)")
                #expect(taskRun.lastAttempt?.publishedAt != nil && taskRun.lastAttempt?.finishedAt != nil, "\(task): \(taskRun)")
            }
            #expect(run.finishedAt != nil && run.startedAt != nil)
            #expect(stack.fivetran.runs(41) == 1 && stack.dbtCloud.runs(41) == 1 && stack.census.runs(41) == 1,
                    "fivetran \(stack.fivetran.runs(41)) dbt \(stack.dbtCloud.runs(41)) census \(stack.census.runs(41))")
            #expect(try await stack.runs("survivor").count == 1)
        }
    }
}
