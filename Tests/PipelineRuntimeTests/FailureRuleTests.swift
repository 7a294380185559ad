import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Pipelines
import SimulatedVendors
import Testing

/// A failure across processes: a core task's vendor run fails, its dependants never start, a
/// `one_failed` stage notifies over HTTP.
@Suite("Pipelines as processes: failure and trigger rules", .serialized, .timeLimit(.minutes(10)))
struct FailureRuleTests {
    /// The HTTP target's task spec as pipeline parameters: its own `${response./id}` written
    /// `$${…}`, so the pipeline leaves it to the HTTP driver.
    static func httpParameters(_ stack: PipelineStack, index: Int) -> JSONValue {
        let spec = stack.http.spec(index, serviceURL: stack.urls["http"] ?? "", timeout: nil)
        let text = String(decoding: spec.serializedBytes(sortedKeys: true), as: UTF8.self).replacingOccurrences(of: "${", with: "$${")
        return (try? JSONValue(parsing: Array(text.utf8))) ?? spec
    }

    @Test("a failed core task fails its stage: the dependent stage is upstream_failed and never runs, the one_failed stage's HTTP task runs once, the run fails")
    func coreFailure() async throws {
        try await withPipelineStack { stack in
            try stack.fivetran.prepare(2)
            try stack.dbtCloud.prepare(2)
            try stack.http.prepare(2)
            stack.fivetran.failNextRun(2)
            let spec: JSONValue = [
                "stages": [
                    ["name": "ingest", "tasks": [["name": "salesforce", "integration": "fivetran", "job": "fivetran_sync_all", "parameters": ["connectorId": .string(stack.fivetran.connector(2))]]]],
                    [
                        "name": "transform", "dependsOn": ["ingest"],
                        "tasks": [["name": "dbt-build", "integration": "dbtcloud", "job": "dbt_runjob", "parameters": ["jobId": .number(JSONNumber(stack.dbtCloud.job(2)))]]],
                    ],
                    [
                        "name": "notify", "dependsOn": ["ingest", "transform"], "triggerRule": "one_failed",
                        "tasks": [["name": "page", "integration": "http", "job": "http_request", "parameters": Self.httpParameters(stack, index: 2)]],
                    ],
                ]
            ]
            try await stack.apply("failing", type: "pipeline", spec: spec)
            try await stack.waitForStatus("failing", type: "pipeline") { $0.phase == .active }
            let command = try await stack.run("failing")
            let run = try await stack.waitForRun(command: command, of: "failing")
            #expect(run.state == .failed, "\(run.state) \(run.reason ?? "")")
            #expect(run.reason?.contains("stage ingest failed") == true, "\(run.reason ?? "")")
            #expect(run.tasks["salesforce"]?.state == .failed && run.tasks["salesforce"]?.attempts.count == 1, "job_failed is not retried by default")
            #expect(run.tasks["dbt-build"]?.state == .upstreamFailed && run.tasks["dbt-build"]?.attempts.isEmpty == true)
            #expect(run.tasks["page"]?.state == .succeeded, "\(String(describing: run.tasks["page"]))")
            #expect(stack.fivetran.runs(2) == 1 && stack.dbtCloud.runs(2) == 0 && stack.http.runs(2) == 1)
        }
    }
}
