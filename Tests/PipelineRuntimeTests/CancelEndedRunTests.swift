import FactoryEngine
import FactoryModel
import Foundation
import JSONSchema
import NATSKit
import NATSTestKit
import Testing

@testable import PipelineDriver
@testable import Pipelines

/// The pipeline driver's `cancel` reads the run document itself: a run that ended is refused with
/// `runEnded` (the engine answers it so), even when the engine's status has not recorded the end
/// yet; a running one gets the cancel recorded.
@Suite("The pipeline driver's cancel of an ended run")
struct CancelEndedRunTests {
    @Test("cancel of a run whose document has ended throws runEnded and leaves the document as it was; of a running run, records the cancel")
    func cancelOfEndedRun() async throws {
        let server = try await NATSServerProcess.start(.init())
        let client = try await NATSConnection.connect(NATSConfiguration(servers: [server.url], name: "cancel-ended-run"))
        do {
            let bucket = try await client.jetStream().createOrUpdateKeyValue(KeyValueConfiguration(bucket: "pipeline-cancel-ended", history: 5))
            let runtime = PipelineRuntime()
            runtime.connect(bucket: bucket)
            let driver = PipelineDriver(runtime: runtime)
            let spec: JSONValue = ["stages": [["name": "work", "tasks": [["name": "t", "resource": "r", "type": "http"]]]]]
            let objects = PipelineDriver.Objects(specDigest: "d", stages: 1, tasks: 1, inputs: [])
            func store(_ id: String, _ state: RunState) async throws -> String {
                var run = PipelineRun(id: id, workspace: "public", pipeline: "p", specDigest: "d", trigger: RunTrigger(kind: .manual, commandID: "c-\(id)"), createdAt: Date(), tasks: ["t": TaskRun()], state: state)
                if state.isFinished { run.finishedAt = Date() }
                let key = PipelineNames.runKey(workspace: "public", pipeline: "p", run: id)
                _ = try await bucket.put(key, PipelineRunDocument(run: run, spec: spec).encoded())
                return key
            }

            let endedKey = try await store("20261205-080000-aaaaaa", .succeeded)
            let before = try #require(try await bucket.get(endedKey))
            do {
                try await driver.cancel(PipelineDriver.RunReference(workspace: "public", pipeline: "p", run: "20261205-080000-aaaaaa"), objects: objects, mode: .stop)
                Issue.record("a cancel of an ended run was accepted")
            } catch {
                #expect(error.reason == VendorFailure.runEndedReason && error.kind == .rejected, "\(error)")
                #expect(error.message.contains("20261205-080000-aaaaaa") && error.message.contains("already ended (succeeded)"), "\(error.message)")
            }
            let after = try #require(try await bucket.get(endedKey))
            #expect(after.revision == before.revision, "the ended run's document was written")

            let runningKey = try await store("20261205-080000-bbbbbb", .running)
            try await driver.cancel(PipelineDriver.RunReference(workspace: "public", pipeline: "p", run: "20261205-080000-bbbbbb"), objects: objects, mode: .terminate)
            let running = try PipelineRunDocument.decode(try #require(try await bucket.get(runningKey)).value, key: runningKey)
            #expect(running.run.cancel?.mode == .terminate && running.run.cancel?.cause == .command, "\(String(describing: running.run.cancel))")
        } catch {
            await client.close()
            await server.stop()
            throw error
        }
        await client.close()
        await server.stop()
    }
}
