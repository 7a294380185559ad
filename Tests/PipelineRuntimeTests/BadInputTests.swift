import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Pipelines
import SimulatedVendors
import Testing

/// Bad input across processes: a clear reason, nothing else changed.
@Suite("Pipelines as processes: bad input", .serialized, .timeLimit(.minutes(10)))
struct BadInputTests {
    @Test("a task of a type no operator hosts fails its attempt api_error naming the type; a cancel of the ended run is refused on lastError and changes nothing")
    func unhostedTypeAndCancelOfEndedRun() async throws {
        try await withPipelineStack(replicas: []) { stack in
            try stack.startReplica("replica-a", drivers: "fivetran,pipeline")
            try await stack.waitUntilProvisioned(types: ["fivetran", "pipeline"])
            try stack.fivetran.prepare(3)
            let spec: JSONValue = [
                "stages": [
                    ["name": "ingest", "tasks": [["name": "salesforce", "integration": "fivetran", "job": "fivetran_sync_all", "parameters": ["connectorId": .string(stack.fivetran.connector(3))]]]],
                    ["name": "activate", "dependsOn": ["ingest"], "tasks": [["name": "ads", "integration": "census", "job": "census_sync", "parameters": ["syncId": 7003]]]],
                ]
            ]
            try await stack.apply("unhosted", type: "pipeline", spec: spec)
            try await stack.waitForStatus("unhosted", type: "pipeline") { $0.phase == .active }
            let command = try await stack.run("unhosted")
            let run = try await stack.waitForRun(command: command, of: "unhosted")
            #expect(run.state == .failed, "\(run.state) \(run.reason ?? "")")
            #expect(run.tasks["salesforce"]?.state == .succeeded)
            let ads = try #require(run.tasks["ads"])
            #expect(ads.state == .failed && ads.lastAttempt?.outcome == .apiError, "\(ads)")
            #expect(ads.lastAttempt?.error?.contains("no operator hosts census") == true, "\(String(describing: ads.lastAttempt?.error))")

            // The run has ended: a cancel naming it is refused with the reason, the run unchanged,
            // at once (the driver reads the run document; the engine's follower may not have
            // recorded the end on the status yet).
            let before = try await stack.runs("unhosted")
            try await stack.cancel("unhosted", run: run.id, mode: .stop)
            let status = try await stack.waitForStatus("unhosted", type: "pipeline") { $0.lastError?.reason == "runEnded" }
            #expect(status.lastError?.message.contains(run.id) == true, "\(String(describing: status.lastError))")
            #expect(try await stack.runs("unhosted") == before)
            let refused = try await stack.factoryctl(["cancel", "unhosted", "-w", "public", "--run", run.id])
            #expect(refused.status == 1 && refused.output.contains("already ended"), "\(refused.output)")
        }
    }
}
