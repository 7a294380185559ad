@testable import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Foundation
import HightouchDriver
import HightouchSimulator
import JSONSchema
import Logging
import NATSKit
import Testing

/// Several resource types in one replica, each on its own deployment, through the same engine:
/// the shipped Hightouch driver beside a toy driver that exists only in the tests.
@Suite("Drivers side by side", .serialized, .timeLimit(.minutes(3)))
struct DriversTests {
    static let toyNames = DeploymentNames.standard(type: "toy")

    static func toyApply(_ name: String, job: String) throws -> CommandEnvelope {
        .apply(try InMemoryEngine.toyManifest(name: name, job: job), workspace: try WorkspaceName("public"))
    }

    @Test("a toy second driver runs end to end beside Hightouch, on its own subjects and bucket, with no change to the engine")
    func toyBesideHightouch() async throws {
        let harness = try await OperatorHarness.start(replicas: 0, runDuration: .milliseconds(400))
        let vendor = ScriptedVendor()
        do {
            let toy = HostedDriver(driver: AnyResourceDriver(ScriptedDriver(vendor: vendor)))
            try await harness.addReplica(named: "replica-a", alongside: [toy])
            try await harness.addReplica(named: "replica-b", alongside: [toy])

            // The toy resource, on toy.pipeline.run.
            let envelope = try Self.toyApply("toy-01", job: "nightly")
            let ack = try await harness.jetStream.publish(envelope.encoded(), to: Self.toyNames.commandSubject, options: JetStreamPublishOptions(messageID: envelope.deduplicationID))
            #expect(ack.stream == "dataos-toy-entities")
            let running = try await harness.waitForStatus("toy-01", subject: Self.toyNames.querySubject) { $0.runtime == "inprogress" }
            #expect(running.resourceType == "toy")
            #expect(running.vendorRows == [DetailRow("Job", "\(vendor.jobs["nightly"] ?? "?") (nightly)")])
            #expect(running.currentRun?.rows == [DetailRow("Marker", envelope.deduplicationID)])
            let runID = try #require(vendor.runs.first?.id)
            vendor.setPhase(.succeeded, ofRun: runID)
            let done = try await harness.waitForStatus("toy-01", subject: Self.toyNames.querySubject) { $0.runtime == "succeeded" }
            #expect(done.lastRun?.id == runID && done.lastRun?.phase == "succeeded" && done.lastRun?.status == "toy-succeeded")
            #expect(vendor.calls(.trigger) == 1)

            // A run without a type, on the toy subject, is a toy run.
            let run = CommandEnvelope.run(ResourceReference(name: try ResourceName("toy-01")), workspace: try WorkspaceName("public"))
            try await harness.jetStream.publish(run.encoded(), to: Self.toyNames.commandSubject, options: JetStreamPublishOptions(messageID: "toy-run-1"))
            try await harness.waitForStatus("toy-01", subject: Self.toyNames.querySubject) { $0.currentRun?.key == "toy-run-1" }
            #expect(vendor.runs.count == 2)

            // Hightouch beside it, unchanged.
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try WorkspaceName("public")))
            try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1)

            // Each type in its own bucket.
            let toyBucket = try await harness.jetStream.keyValue("toy-operator-state")
            #expect(try await toyBucket.get("entity.public.toy-01") != nil)
            #expect(try await toyBucket.get("entity.public.pipeline-01") == nil)
            #expect(try await harness.jetStream.keyValue("hightouch-operator-state").get("entity.public.toy-01") == nil)
            #expect(try await harness.query(StatusQuery(workspace: "public"), subject: Self.toyNames.querySubject).resources?.map(\.name) == ["toy-01"])
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test("a command on another type's subject, or of a type this process does not host, is refused with where it belongs; nothing is triggered")
    func wrongSubjectAndUnhostedType() async throws {
        let harness = try await OperatorHarness.start(replicas: 0)
        let vendor = ScriptedVendor()
        do {
            try await harness.addReplica(named: "replica-a", alongside: [HostedDriver(driver: AnyResourceDriver(ScriptedDriver(vendor: vendor)))])
            // A toy manifest sent to Hightouch's subject.
            try await harness.publish(try Self.toyApply("misrouted", job: "x"))
            let misrouted = try await harness.waitForStatus("misrouted") { $0.lastError != nil }
            #expect(misrouted.lastError?.reason == "wrongSubject")
            #expect(misrouted.lastError?.message.contains("toy.pipeline.run") == true, "\(String(describing: misrouted.lastError))")
            // A type no driver here serves.
            let census = CommandEnvelope.apply(try InMemoryEngine.toyManifest(name: "elsewhere", job: "x", type: "census"), workspace: try WorkspaceName("public"))
            try await harness.publish(census)
            let unhosted = try await harness.waitForStatus("elsewhere") { $0.lastError != nil }
            #expect(unhosted.lastError?.reason == "unknownResourceType")
            #expect(unhosted.lastError?.message.contains("not hosted by this operator") == true)
            let letters = try await harness.deadLetters()
            #expect(Set(letters.compactMap { $0.headers[DeadLetters.reasonHeader] }) == ["wrongSubject", "unknownResourceType"])
            #expect(vendor.calls(.trigger) == 0 && harness.simulator.triggerLog().isEmpty)
            #expect(try await harness.commandsLeft() == 0)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test("factory-operator hosts the drivers whose secret is set; OPERATOR_DRIVERS naming an unknown type stops start-up with one line")
    func factoryOperatorProcess() async throws {
        let harness = try await OperatorHarness.start(replicas: 0, runDuration: .milliseconds(300))
        do {
            let bad = try harness.startProcess(named: "bad", ["OPERATOR_DRIVERS": "hightouch,bogus"], executable: "factory-operator")
            #expect(await bad.waitForExit() == 2)
            let line = bad.log.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(line.hasPrefix("factory-operator: OPERATOR_DRIVERS=\"hightouch,bogus\" is not valid") && !line.contains("\n"), "\(line)")

            let replica = try harness.startProcess(named: "factory", executable: "factory-operator")
            try await harness.waitForQueryable()
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try WorkspaceName("public")))
            let view = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            #expect(view.resourceType == "hightouch")
            #expect(replica.log.contains("hightouch on hightouch.pipeline.run"), "the start-up line names the hosted driver")
            replica.terminate()
            #expect(await replica.waitForExit() == 0)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}

/// A replica of this build starts on a bucket the release before drivers wrote (state version 1):
/// it answers for every resource, follows the run that was going, and writes version 2 with its
/// next change of each document.
@Suite("Upgrade from state version 1", .serialized, .timeLimit(.minutes(3)))
struct StateUpgradeTests {
    static let fixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EngineTests/Resources/state-v1.json")

    @Test("a bucket written by the previous release: read, followed, upgraded on the next write; its last commands still recognised")
    func upgradesAReleaseBucket() async throws {
        let fixture = try JSONValue(parsing: Array(try Data(contentsOf: Self.fixtureURL)))
        let entries = try #require(fixture["entries"]?.arrayValue)
        let harness = try await OperatorHarness.start(replicas: 0, runDuration: .seconds(2))
        do {
            // The vendor as the release left it: the same objects and runs, created in the same
            // order (the simulator numbers them in order): pipeline-01 and its first run,
            // pipeline-02 and its run, pipeline-01's second run, pipeline-04 and its run.
            let driver = try HightouchDriver(configuration: harness.hightouch, logger: .init(label: "replay"))
            func spec(_ name: String) throws -> HightouchDriver.Spec {
                let entity = try #require(entries.first { $0["key"]?.stringValue == "entity.public.\(name)" }?["value"])
                return try driver.decodeSpec(try #require(entity["manifest"]?["resource"]?["spec"]))
            }
            var objects: [String: HightouchDriver.Objects] = [:]
            var runIDs: [String] = []
            for name in ["pipeline-01", "pipeline-02", "pipeline-01", "pipeline-04"] {
                let spec = try spec(name)
                if objects[name] == nil { objects[name] = try await driver.ensure(spec, known: nil) }
                let run = try await driver.trigger(spec, objects: try #require(objects[name]), context: TriggerContext(commandID: "replay", intentAt: Date()))
                runIDs.append(run.reference.runID)
            }
            #expect(runIDs == ["500001", "500002", "500003", "500004"], "the replay numbered the runs as the release saw them")
            #expect(objects["pipeline-04"]?.syncID == "20003")

            // Its bucket and its follow-up of the run still going.
            let configuration = harness.baseConfiguration
            _ = try await harness.jetStream.provision(OperatorTopology.make(configuration, deployments: [(harness.names, "Hightouch")]))
            let bucket = try await harness.jetStream.keyValue(harness.names.stateBucket)
            for entry in entries {
                let key = try #require(entry["key"]?.stringValue)
                _ = try await bucket.put(key, try #require(entry["value"]).serializedBytes())
            }
            // The command stream goes on from where the release's ended (its last command was
            // sequence 6): commands keep taking effect in stream order across the upgrade.
            for filler in 1...6 {
                try await harness.jetStream.publish(Array("{}".utf8), to: harness.names.commandSubject, options: JetStreamPublishOptions(messageID: "filler-\(filler)"))
            }
            try await harness.jetStream.purgeStream(harness.names.commandStream)
            for followUp in fixture["followUps"]?.arrayValue ?? [] {
                try await harness.jetStream.publish(
                    try #require(followUp["payload"]).serializedBytes(), to: harness.names.followUpSubject,
                    options: JetStreamPublishOptions(messageID: followUp["messageID"]?.stringValue)
                )
            }

            try await harness.addReplica(named: "upgraded")
            // Answers for every resource, from version-1 documents.
            let done = try #require(try await harness.status("pipeline-01"))
            #expect(done.status == "active" && done.runtime == "succeeded" && done.lastRun?.id == "500003")
            #expect(done.vendorRows == [DetailRow("Model", "10001 (model-01)"), DetailRow("Sync", "20001 (sync-01)")])
            #expect(done.lastRun?.rows?.contains { $0.label == "Planned rows" && $0.value.hasPrefix("added ") } == true, "Hightouch's rows from version-1 details")
            #expect(try await harness.status("pipeline-02")?.status == "deleted")
            #expect(try await harness.status("pipeline-03")?.lastError?.reason == "schemaViolation")

            // The run that was going is followed to its end through the version-1 follow-up.
            let followed = try await harness.waitForStatus("pipeline-04") { $0.runtime == "succeeded" }
            #expect(followed.lastRun?.id == "500004" && followed.lastRun?.status == "success")
            #expect(try await Self.version(of: "status.public.pipeline-04", in: bucket) == 2, "written back as version 2")
            #expect(try await Self.version(of: "entity.public.pipeline-01", in: bucket) == 1, "untouched documents stay as they are")

            // A command on an upgraded resource: one new run, and the entity is version 2.
            let run = CommandEnvelope.run(ResourceReference(name: try ResourceName("pipeline-01")), workspace: try WorkspaceName("public"))
            try await harness.publish(run, messageID: "after-upgrade")
            let rerun = try await harness.waitForStatus("pipeline-01") { $0.lastRun?.key == "after-upgrade" && $0.runtime == "succeeded" }
            #expect(rerun.lastRun?.id == "500005")
            #expect(harness.triggers(syncSlug: "sync-01") == 3, "two replayed, one new")
            #expect(try await Self.version(of: "entity.public.pipeline-01", in: bucket) == 2)

            // The release's last command of pipeline-04, published again, is recognised.
            let entity = try #require(entries.first { $0["key"]?.stringValue == "entity.public.pipeline-04" }?["value"])
            let lastID = try #require(entity["lastCommand"]?["id"]?.stringValue)
            let manifest = try ResourceManifest(json: try #require(entity["manifest"]))
            try await harness.publish(.apply(manifest, workspace: try WorkspaceName("public")), messageID: lastID)
            try await Task.sleep(for: .seconds(1))
            #expect(try await harness.commandsLeft() == 0)
            #expect(harness.triggers(syncSlug: "sync-04") == 1, "a duplicate of the release's own command triggered nothing")
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    static func version(of key: String, in bucket: KeyValueBucket) async throws -> Int? {
        guard let entry = try await bucket.get(key) else { return nil }
        return StateCodec.version(of: entry.value)
    }
}
