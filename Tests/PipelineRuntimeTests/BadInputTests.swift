import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import NATSKit
import NATSTestKit
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

    @Test("a nats input on a stream the operator's NATS user may not read: the pipeline's status says so (inputUnavailable, naming the stream and the violation), the pipeline stays active")
    func inputTheOperatorMayNotRead() async throws {
        let server = NATSServerProcess.Configuration(extraConfiguration: """
            authorization {
              users = [
                {user: admin, password: admin-pw}
                {user: operator, password: operator-pw, permissions: {
                  publish: {allow: [">"], deny: ["$JS.API.CONSUMER.*.FORBIDDEN", "$JS.API.CONSUMER.*.FORBIDDEN.>", "$JS.API.CONSUMER.DURABLE.CREATE.FORBIDDEN.>"]}
                  subscribe: {allow: [">"]}
                }}
              ]
            }
            """)
        try await withPipelineStack(
            replicas: [], environment: ["NATS_USER": "operator", "NATS_PASSWORD": "operator-pw"], server: server,
            clientAuthentication: .userPassword(user: "admin", password: "admin-pw")
        ) { stack in
            try stack.startReplica("replica-a", drivers: "http,pipeline")
            try await stack.waitUntilProvisioned(types: ["http", "pipeline"])
            _ = try await stack.jetStream.createOrUpdateStream(StreamConfiguration(name: "FORBIDDEN", subjects: ["forbidden.>"]))
            let spec: JSONValue = [
                "inputs": [["name": "landed", "nats": ["stream": "FORBIDDEN", "subject": "forbidden.landed"]]],
                "stages": [["name": "notify", "tasks": [["name": "ping", "integration": "http", "job": "http_request", "parameters": ["baseUrl": "http://127.0.0.1:9", "method": "GET"]]]]],
            ]
            try await stack.apply("forbidden-input", type: "pipeline", spec: spec)
            let status = try await stack.waitForStatus("forbidden-input", type: "pipeline") { $0.lastError?.reason == "inputUnavailable" }
            let message = status.lastError?.message ?? ""
            #expect(message.contains("may not read forbidden.landed on FORBIDDEN") && message.contains("Permissions Violation"), "\(message)")
            #expect(status.phase == .active)
            #expect(try await stack.runs("forbidden-input").isEmpty)
        }
    }
}
