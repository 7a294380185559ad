import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import NATSKit
import NATSTestKit
import Testing

@testable import PipelineDriver
@testable import Pipelines

/// A retried attempt of an inline task whose owned resource has the spec applied already must be
/// a `run` (an `apply` of an unchanged spec is answered "unchanged" and triggers nothing). The
/// advancer's read model follows watches and can lag behind the KV (a replica just restarted):
/// where it says "not applied", the command is made from the KV's documents instead. Found by
/// `scripts/chaos pipelines` (a retried Census task stuck `queued`).
@Suite("Attempt commands from a lagging read model")
struct StaleReadModelTests {
    @Test("the read model knows nothing of the owned resource: the KV's documents make the retry a run, not an unchanged apply")
    func retryAfterRestart() async throws {
        let server = try await NATSServerProcess.start(.init())
        let client = try await NATSConnection.connect(NATSConfiguration(servers: [server.url], name: "stale-read-model"))
        do {
            let bucket = try await client.jetStream().createOrUpdateKeyValue(KeyValueConfiguration(bucket: "http-operator-state", history: 5))
            let registry = ResourceTypeRegistry(types: [try ResourceTypeDefinition.httpDefault()], enabledWorkspaces: [try WorkspaceName("public")])
            let specJSON = try JSONValue(parsing: #"""
                {"stages": [{"name": "notify", "tasks": [{"name": "page", "integration": "http", "job": "http_request",
                  "parameters": {"baseUrl": "https://pager.example.com", "method": "POST", "endpoint": "/page"},
                  "retries": {"limit": 1, "on": ["job_failed"]}}]}]}
                """#)
            let spec = try PipelineSpec.decode(specJSON, context: PipelineValidationContext(pipelineName: "p", resourceTypes: ["http"])).get()
            let task = try #require(spec.task(named: "page"))
            let now = Date()
            let run = PipelineRun(id: "20261205-120000-abcdef", workspace: "public", pipeline: "p", specDigest: "d", trigger: RunTrigger(kind: .manual, commandID: "c1"), createdAt: now, tasks: ["page": TaskRun()], state: .running)
            let attempt = Attempt(number: 2, commandID: "20261205-120000-abcdef/page/2", resourceType: "http", resource: "p--page", queuedAt: now, deadline: nil)

            // Nothing known and nothing in the KV: the first attempt applies the resource.
            #expect(AttemptCommands.needsFreshRead(task: task, run: run, known: nil))
            #expect(try await AttemptCommands.ownedDocuments(in: bucket, workspace: "public", resource: "p--page") == nil)
            let first = try AttemptCommands.envelope(for: task, attempt: attempt, run: run, owned: nil, registry: registry)
            guard case .apply = first.payload else {
                Issue.record("with nothing applied, the attempt is not an apply: \(first.payload)")
                return
            }

            // The first attempt's apply took effect: the KV holds the entity (the rendered spec's
            // digest) and an active status, which this replica's watches have not delivered.
            let rendered = try #require(try AttemptCommands.renderedSpec(for: task, run: run))
            let manifest: JSONValue = ["name": "p--page", "version": "v1beta", "resource": ["operator": "factory", "type": "http", "spec": rendered]]
            let entity = EntityRecord(
                workspace: "public", name: "p--page", type: "http", owner: "pipeline/p", manifest: manifest,
                specDigest: SHA256.hexDigest(rendered.serializedBytes(sortedKeys: true)), generation: 1, deleted: false,
                lastCommand: nil, activeCommand: nil, createdAt: now, updatedAt: now
            )
            _ = try await bucket.put(StateKeys.entity(workspace: "public", name: "p--page"), StateCodec.encode(entity))
            var status = StatusRecord(workspace: "public", name: "p--page", type: "http", phase: .active, at: now)
            status.observedGeneration = 1
            _ = try await bucket.put(StateKeys.status(workspace: "public", name: "p--page"), StateCodec.encode(status))

            // The stale view (nothing known) is read again from the KV, and the retry is a run.
            #expect(AttemptCommands.needsFreshRead(task: task, run: run, known: nil))
            let fresh = try #require(try await AttemptCommands.ownedDocuments(in: bucket, workspace: "public", resource: "p--page"))
            #expect(fresh.entity?.specDigest == entity.specDigest && fresh.status?.phase == .active)
            #expect(!AttemptCommands.needsFreshRead(task: task, run: run, known: fresh), "a view that shows the spec applied is read again")
            let retry = try AttemptCommands.envelope(for: task, attempt: attempt, run: run, owned: fresh, registry: registry)
            guard case .run(let reference) = retry.payload else {
                Issue.record("with the spec applied and active, the retry is not a run: \(retry.payload)")
                return
            }
            #expect(reference.name.rawValue == "p--page" && reference.type == "http")
            #expect(retry.options.parent?.name == "p")

            // A `resource:` task's command is the resource's run whatever the view: never read again.
            let named = try PipelineSpec.decode(
                try JSONValue(parsing: #"{"stages": [{"name": "s", "tasks": [{"name": "t", "resource": "r", "type": "http"}]}]}"#),
                context: PipelineValidationContext(pipelineName: "p", resourceTypes: ["http"])
            ).get()
            #expect(!AttemptCommands.needsFreshRead(task: try #require(named.task(named: "t")), run: run, known: nil))
        } catch {
            await client.close()
            await server.stop()
            throw error
        }
        await client.close()
        await server.stop()
    }
}
