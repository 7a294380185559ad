import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Lineage
import LineageTestKit
import Testing

/// The `parent` facet at runtime: a command's `parent` (a pipeline's task attempt names its
/// pipeline run) is kept on the run record, and every event of the run names it, whichever
/// replica builds the event. Every event is validated against the official schemas.
@Suite("Lineage parent: a task's run names its pipeline run")
struct LineageParentTests {
    static let workspace: WorkspaceName = {
        do { return try WorkspaceName("public") } catch { preconditionFailure("\(error)") }
    }()

    /// The pipeline `nightly`'s run started by the command `manual-7`, as the advancer names it.
    static let pipelineRun = RunParent(type: "pipeline", name: "nightly", commandID: "manual-7")

    func taskApply(_ name: String, parent: RunParent?) throws -> CommandEnvelope {
        var envelope = CommandEnvelope.apply(try InMemoryEngine.toyManifest(name: name, job: "j"), workspace: Self.workspace)
        envelope.options.parent = parent
        return envelope
    }

    func validate(_ lineage: RecordingLineage, sourceLocation: SourceLocation = #_sourceLocation) {
        for event in lineage.attempts {
            let errors = OpenLineageValidator.shared.errors(encoded: event.bytes)
            #expect(errors == [], "\(event.identity): \(errors)", sourceLocation: sourceLocation)
        }
    }

    @Test("the resolver: a recorded parent becomes job pipeline.<name> in the run's workspace, run id derived from the pipeline run's command id")
    func resolver() throws {
        var run = RunRecord(key: "20261121-020000-3fa2c1/load/1", vendorRunID: "9", reference: nil, phase: .running, vendorStatus: "running", recordedAt: Date(), checkedAt: Date())
        #expect(LineageEmitter.recordedParent(run, "public") == nil, "a run of no other run has no parent")
        run.parent = Self.pipelineRun
        let parent = try #require(LineageEmitter.recordedParent(run, "public"))
        #expect(parent.jobNamespace == "factory://public")
        #expect(parent.jobName == "pipeline.nightly")
        #expect(parent.runID == LineageRunID.make(commandID: "manual-7"))
        #expect(parent.runID != LineageRunID.make(commandID: "20261121-020000-3fa2c1"), "the command's id, not the pipeline run id: the pipeline run's own events use it")
        #expect(parent.root == nil)
        #expect(LineageEmitter.recordedParent(run, "sales")?.jobNamespace == "factory://sales")
        // The pipeline run's own events, as the generic emitter builds them, share that run id and job.
        let pipelineContext = LineageRunContext(workspace: "public", resource: "nightly", type: "pipeline", integration: "FACTORY", jobType: "DAG", commandID: "manual-7")
        #expect(pipelineContext.runID == parent.runID && pipelineContext.jobName == parent.jobName && pipelineContext.jobNamespace == parent.jobNamespace)
    }

    @Test("the facet: run.facets.parent names the pipeline run and job; valid against ParentRunFacet")
    func facet() throws {
        let parent = LineageParent(Self.pipelineRun, workspace: "public")
        let context = LineageRunContext(
            workspace: "public", resource: "nightly--load", type: "toy", integration: "TOY", jobType: "RUN", commandID: "20261121-020000-3fa2c1/load/1", parent: parent)
        let json = LineageRunEvent(.start, context: context, at: Date(timeIntervalSince1970: 1_700_000_000), datasets: nil).json
        let facet = try #require(json["run"]?["facets"]?["parent"])
        #expect(facet["run"]?["runId"]?.stringValue == LineageRunID.make(commandID: "manual-7"))
        #expect(facet["job"]?["namespace"] == "factory://public" && facet["job"]?["name"] == "pipeline.nightly")
        #expect(facet["_schemaURL"]?.stringValue == OpenLineage.FacetSchema.parent)
        #expect(OpenLineageValidator.shared.errors(json) == [])
    }

    @Test("the parent travels on run and apply commands, is read back, and a malformed one is refused naming its member")
    func commandOption() throws {
        for envelope in [
            try taskApply("p", parent: Self.pipelineRun),
            CommandEnvelope.run(ResourceReference(name: try ResourceName("p"), type: "toy"), workspace: Self.workspace, parent: Self.pipelineRun),
        ] {
            let text = String(decoding: envelope.encoded(), as: UTF8.self)
            #expect(text.contains(#""parent":{"#), "\(text)")
            let decoded = try CommandEnvelope(decoding: envelope.encoded())
            #expect(decoded.options.parent == Self.pipelineRun)
        }
        let plain = CommandEnvelope.run(ResourceReference(name: try ResourceName("p")), workspace: Self.workspace, parent: nil)
        #expect(!String(decoding: plain.encoded(), as: UTF8.self).contains("parent"), "no parent: the bytes (and message id) are what they were")
        let bad: [(String, String)] = [
            (#""parent":"nightly""#, "/parent"),
            (#""parent":{"type":"pipeline","name":"nightly"}"#, "/parent/command"),
            (#""parent":{"type":"pipeline","name":"Nightly","command":"c"}"#, "/parent/name"),
            (#""parent":{"type":"pipe line","name":"nightly","command":"c"}"#, "/parent/type"),
            (#""parent":{"type":"pipeline","name":"nightly","command":""}"#, "/parent/command"),
            (#""parent":{"type":"pipeline","name":"nightly","command":"a b"}"#, "/parent/command"),
        ]
        for (member, field) in bad {
            let command = #"{"op":"run","workspace":"public","resource":{"name":"p"},"# + member + "}"
            do {
                _ = try CommandEnvelope(decoding: Array(command.utf8))
                Issue.record("\(member) was accepted")
            } catch {
                #expect(error.field?.description == field, "\(member): \(error.message)")
            }
        }
    }

    @Test("the run record keeps the parent: written only when set, read back, a garbled one read as none")
    func recordCodec() throws {
        var status = StatusRecord(workspace: "public", name: "p", type: "toy", phase: .active, at: Date(timeIntervalSince1970: 1_700_000_000))
        var run = RunRecord(key: "k/t/1", vendorRunID: "1", reference: nil, phase: .running, vendorStatus: "running", recordedAt: status.createdAt, checkedAt: status.createdAt)
        status.currentRun = run
        let without = StateCodec.encode(status)
        #expect(!String(decoding: without, as: UTF8.self).contains("parent"))
        #expect(try StateCodec.decode(StatusRecord.self, without, key: "status.public.p").currentRun?.parent == nil)
        run.parent = Self.pipelineRun
        status.currentRun = run
        let with = StateCodec.encode(status)
        #expect(String(decoding: with, as: UTF8.self).contains(#""parent":{"command":"manual-7","name":"nightly","type":"pipeline"}"#) || String(decoding: with, as: UTF8.self).contains(#""parent":{"type":"pipeline","name":"nightly","command":"manual-7"}"#))
        #expect(try StateCodec.decode(StatusRecord.self, with, key: "status.public.p").currentRun?.parent == Self.pipelineRun)
        let garbled = String(decoding: with, as: UTF8.self).replacingOccurrences(of: #""command":"manual-7""#, with: #""command":7"#)
        #expect(try StateCodec.decode(StatusRecord.self, Array(garbled.utf8), key: "status.public.p").currentRun?.parent == nil)
    }

    @Test("a task's run: START and COMPLETE both name the pipeline run, the end built by another replica's follower from the record")
    func eventsNameTheParent() async throws {
        let vendor = ScriptedVendor()
        let engine = InMemoryEngine(vendor: vendor)
        let lineage = RecordingLineage()
        let delivery = engine.delivery(try taskApply("nightly--load", parent: Self.pipelineRun))
        #expect(await engine.processor(lineage: engine.lineageEmitter(lineage)).process(delivery).outcome == "triggered")
        #expect(try await engine.status("nightly--load")?.currentRun?.parent == Self.pipelineRun, "kept on the run record")
        // Another replica (a new emitter, nothing in memory) sees the run end.
        let follower = engine.follower(lineage: engine.lineageEmitter(lineage))
        vendor.setPhase(.succeeded, ofRun: try #require(vendor.runs.first?.id))
        _ = await engine.follow(with: follower)
        #expect(lineage.attempts.map(\.eventType) == ["START", "COMPLETE"])
        for event in lineage.events {
            let json = event.json
            #expect(json["run"]?["runId"]?.stringValue == LineageRunID.make(commandID: delivery.commandID))
            #expect(json["run"]?["facets"]?["parent"]?["run"]?["runId"]?.stringValue == LineageRunID.make(commandID: "manual-7"), "\(event.eventType)")
            #expect(json["run"]?["facets"]?["parent"]?["job"]?["name"] == "pipeline.nightly")
            #expect(json["run"]?["facets"]?["parent"]?["job"]?["namespace"] == "factory://public")
        }
        validate(lineage)

        // A run no pipeline caused has no parent.
        let plain = RecordingLineage()
        #expect(await engine.processor(lineage: engine.lineageEmitter(plain)).process(engine.delivery(try taskApply("solo", parent: nil))).outcome == "triggered")
        #expect(plain.events.count == 1 && plain.events[0].json["run"]?["facets"]?["parent"] == nil)
    }
}
