import FactoryModel
import FactoryState
import DBTCloudSimulator
import SimulatedVendors
import Foundation
import JSONSchema
import Pipelines
import Testing

/// A pipeline across vendors end to end: a real nats-server, every simulator, two
/// `factory-operator` replicas hosting every type and `pipeline`.
@Suite("Pipelines as processes: stages across vendors", .serialized, .timeLimit(.minutes(10)))
struct ThreeStageTests {
    /// Fivetran → dbt Cloud → Hightouch + Census, each task an inline job on its own target.
    static func threeStages(_ stack: PipelineStack, index: Int, slug: String) -> JSONValue {
        [
            "stages": [
                ["name": "ingest", "tasks": [["name": "salesforce", "integration": "fivetran", "job": "fivetran_sync_all", "parameters": ["connectorId": .string(stack.fivetran.connector(index))]]]],
                [
                    "name": "transform", "dependsOn": ["ingest"],
                    "tasks": [["name": "dbt-build", "integration": "dbtcloud", "job": "dbt_runjob", "parameters": ["jobId": .number(JSONNumber(stack.dbtCloud.job(index))), "cause": "run ${run.id}"]]],
                ],
                [
                    "name": "activate", "dependsOn": ["transform"],
                    "tasks": [
                        ["name": "crm", "integration": "hightouch", "job": "hightouch_sync", "parameters": PipelineStack.hightouchSpec(slug)],
                        ["name": "ads", "integration": "census", "job": "census_sync", "parameters": ["syncId": .number(JSONNumber(stack.census.sync(index)))]],
                    ],
                ],
            ]
        ]
    }

    @Test("Fivetran → dbt Cloud → Hightouch + Census succeeds, one vendor run per task attempt; a second run runs each task again, once")
    func threeStagesSucceed() async throws {
        try await withPipelineStack { stack in
            try stack.fivetran.prepare(1)
            try stack.dbtCloud.prepare(1)
            try stack.census.prepare(1)
            try await stack.apply("revenue", type: "pipeline", spec: Self.threeStages(stack, index: 1, slug: "revenue-crm"))
            try await stack.waitForStatus("revenue", type: "pipeline") { $0.phase == .active }

            let first = try await stack.run("revenue")
            let run = try await stack.waitForRun(command: first, of: "revenue")
            #expect(run.state == .succeeded, "\(run.reason ?? "")")
            for task in ["salesforce", "dbt-build", "crm", "ads"] {
                #expect(run.tasks[task]?.state == .succeeded, "\(task): \(String(describing: run.tasks[task]))")
                #expect(run.tasks[task]?.attempts.count == 1)
                #expect(run.tasks[task]?.lastAttempt?.vendorRunID != nil || task == "salesforce", "\(task) has no vendor run id")
            }
            // Stages in order: each stage's tasks started after the one before ended.
            let ingestEnd = try #require(run.tasks["salesforce"]?.lastAttempt?.finishedAt)
            let transformStart = try #require(run.tasks["dbt-build"]?.lastAttempt?.queuedAt)
            #expect(transformStart >= ingestEnd)
            #expect(stack.fivetran.runs(1) == 1 && stack.dbtCloud.runs(1) == 1 && stack.census.runs(1) == 1 && stack.hightouchRuns("revenue-crm") == 1)
            // The dbt Cloud job's cause carries the run id (a template filled from the run).
            #expect(stack.dbtCloud.simulator.triggerLog().last?.cause.contains("run \(run.id)") == true, "\(String(describing: stack.dbtCloud.simulator.triggerLog().last))")

            // Again: the owned resources exist with the same spec now, so each attempt is a run
            // (but dbt Cloud's, whose cause names the run: a changed spec, applied).
            let second = try await stack.run("revenue")
            let again = try await stack.waitForRun(command: second, of: "revenue")
            #expect(again.state == .succeeded, "\(again.reason ?? "")")
            #expect(stack.fivetran.runs(1) == 2 && stack.dbtCloud.runs(1) == 2 && stack.census.runs(1) == 2 && stack.hightouchRuns("revenue-crm") == 2)

            // factoryctl: the pipeline table, the history, one run's DAG.
            let table = try await stack.factoryctl(["get", "-t", "pipeline", "-w", "public"])
            #expect(table.status == 0 && table.output.contains("revenue") && table.output.contains(again.id) && table.output.contains("succeeded"), "\(table.output)")
            let history = try await stack.factoryctl(["runs", "revenue", "-w", "public"])
            #expect(history.status == 0, "\(history.output)")
            let lines = history.output.split(separator: "\n").map(String.init)
            #expect(lines.count == 4 && lines[2].contains(again.id) && lines[3].contains(run.id), "newest first:\n\(history.output)")
            let dag = try await stack.factoryctl(["get", "revenue", "--run", run.id, "-w", "public", "-d"])
            #expect(dag.status == 0, "\(dag.output)")
            for text in ["stage ingest", "stage transform", "stage activate", "salesforce", "dbt-build", "crm", "ads", "attempt 1"] {
                #expect(dag.output.contains(text), "get --run shows no \(text):\n\(dag.output)")
            }
            let detail = try await stack.factoryctl(["get", "revenue", "-w", "public", "-d"])
            #expect(detail.status == 0 && detail.output.contains("Stage activate:"), "\(detail.output)")

            // factoryctl run --watch: prints the run id, follows it to its end.
            let watched = try await stack.factoryctl(["run", "revenue", "-w", "public", "--watch"])
            #expect(watched.status == 0, "\(watched.output)")
            #expect(watched.output.contains("run ") && watched.output.contains("succeeded"), "\(watched.output)")
        }
    }
}
