import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Lineage
import LineageTestKit
import NATSKit
import Pipelines
import SimulatedVendors
import Testing

/// Lineage of a pipeline run end to end: two `factory-operator` replicas hosting every type, a
/// pipeline of a Hightouch task and an HTTP task after it, the events read back from the
/// `factory.lineage` stream and validated against the official OpenLineage schemas.
@Suite("Pipelines as processes: lineage of a pipeline run", .serialized, .timeLimit(.minutes(10)))
struct PipelineLineageTests {
    /// One event as stored in the lineage stream.
    struct Stored {
        var json: JSONValue
        var messageID: String?
        var eventType: String { json["eventType"]?.stringValue ?? "" }
        var job: String { json["job"]?["name"]?.stringValue ?? "" }
        var runID: String { json["run"]?["runId"]?.stringValue ?? "" }
    }

    /// Every event in the lineage stream, in stream order, each validated against the official schemas.
    static func events(_ stack: PipelineStack, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [Stored] {
        let info = try await stack.jetStream.streamInfo("factory-lineage")
        guard info.state.messages > 0 else { return [] }
        var events: [Stored] = []
        for sequence in info.state.firstSequence...info.state.lastSequence {
            guard let message = try? await stack.jetStream.message(stream: "factory-lineage", sequence: sequence) else { continue }
            let errors = OpenLineageValidator.shared.errors(encoded: message.payload)
            #expect(errors == [], "lineage event \(sequence): \(errors)", sourceLocation: sourceLocation)
            events.append(Stored(json: try JSONValue(parsing: message.payload), messageID: message.headers["Nats-Msg-Id"]))
        }
        return events
    }

    @Test("pipeline START, each task's START and COMPLETE naming the pipeline run as parent, pipeline COMPLETE: once each, all valid")
    func pipelineRunLineage() async throws {
        try await withPipelineStack { stack in
            try stack.http.prepare(3)
            let spec: JSONValue = [
                "stages": [
                    ["name": "activate", "tasks": [["name": "sync", "integration": "hightouch", "job": "hightouch_sync", "parameters": PipelineStack.hightouchSpec("lineage-crm")]]],
                    [
                        "name": "notify", "dependsOn": ["activate"],
                        "tasks": [["name": "hook", "integration": "http", "job": "http_request", "parameters": FailureRuleTests.httpParameters(stack, index: 3)]],
                    ],
                ]
            ]
            try await stack.apply("lineage-demo", type: "pipeline", spec: spec)
            try await stack.waitForStatus("lineage-demo", type: "pipeline") { $0.phase == .active }
            let command = try await stack.run("lineage-demo")
            let run = try await stack.waitForRun(command: command, of: "lineage-demo")
            #expect(run.state == .succeeded, "\(run.state) \(run.reason ?? "")")

            let pipelineRunID = LineageRunID.make(commandID: command)
            let sync = LineageRunID.make(commandID: Attempt.commandID(run: run.id, task: "sync", attempt: 1))
            let hook = LineageRunID.make(commandID: Attempt.commandID(run: run.id, task: "hook", attempt: 1))
            let jobs = ["pipeline.lineage-demo", "hightouch.lineage-demo--sync", "http.lineage-demo--hook"]
            // The pipeline's COMPLETE comes once its engine's follower sees the run document end;
            // wait for all six (a few seconds at most).
            let deadline = ContinuousClock.now.advanced(by: .seconds(30))
            var events: [Stored] = []
            while ContinuousClock.now < deadline {
                events = try await Self.events(stack).filter { jobs.contains($0.job) }
                if events.count >= 6 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            // Let a late duplicate (a republish by another look) show up if there were one.
            try await Task.sleep(for: .seconds(1))
            events = try await Self.events(stack).filter { jobs.contains($0.job) }

            // Exactly these events, one per transition, each stored once under its identity.
            let expected: Set<String> = [
                "\(pipelineRunID) START", "\(pipelineRunID) COMPLETE", "\(sync) START", "\(sync) COMPLETE", "\(hook) START", "\(hook) COMPLETE",
            ]
            #expect(events.count == 6, "\(events.map { "\($0.job) \($0.eventType)" })")
            #expect(Set(events.map { "\($0.runID) \($0.eventType)" }) == expected)
            for event in events {
                #expect(event.messageID == LineageRunEvent.identity(runID: event.runID, eventType: LineageEventType(rawValue: event.eventType) ?? .other))
            }
            // Per run, in stream order: START, then its end. (Across runs, the replicas publish
            // independently: a task's START may be stored before its pipeline's.)
            for (job, runID) in zip(jobs, [pipelineRunID, sync, hook]) {
                let ofJob = events.filter { $0.job == job }
                #expect(ofJob.map(\.eventType) == ["START", "COMPLETE"], "\(job)")
                #expect(ofJob.allSatisfy { $0.runID == runID }, "\(job)")
                #expect(ofJob.allSatisfy { $0.json["job"]?["namespace"] == "factory://public" }, "\(job)")
            }

            // The pipeline run's own events: job pipeline.<name>, FACTORY DAG, no parent.
            for event in events where event.job == "pipeline.lineage-demo" {
                #expect(event.json["job"]?["facets"]?["jobType"]?["integration"] == "FACTORY" && event.json["job"]?["facets"]?["jobType"]?["jobType"] == "DAG")
                #expect(event.json["run"]?["facets"]?["parent"] == nil)
            }
            // Each task's events name the pipeline run: same namespace, job pipeline.<name>, the pipeline run's run id.
            for event in events where event.job != "pipeline.lineage-demo" {
                let parent = event.json["run"]?["facets"]?["parent"]
                #expect(parent?["run"]?["runId"]?.stringValue == pipelineRunID, "\(event.job) \(event.eventType)")
                #expect(parent?["job"]?["name"] == "pipeline.lineage-demo" && parent?["job"]?["namespace"] == "factory://public", "\(event.job) \(event.eventType)")
            }
            let syncStart = try #require(events.first { $0.job == "hightouch.lineage-demo--sync" })
            #expect(syncStart.json["job"]?["facets"]?["jobType"]?["integration"] == "HIGHTOUCH")
            #expect(syncStart.json["outputs"]?[0]?["namespace"] == "factory://hightouch/destinations/80565", "the task's datasets as any Hightouch run's")

            // factoryctl lineage of the pipeline: its runs, its tasks' jobs and their datasets.
            let table = try await stack.factoryctl(["lineage", "lineage-demo", "-w", "public", "--resource-type", "pipeline"])
            #expect(table.status == 0, "\(table.output)")
            for expected in [
                "Job:         factory://public pipeline.lineage-demo (FACTORY DAG)", pipelineRunID, "Tasks:", "  hightouch.lineage-demo--sync (HIGHTOUCH SYNC)  runs: 1",
                "  http.lineage-demo--hook (HTTP TASK)  runs: 1", "Upstream:\n  factory://hightouch/23474", "Downstream:\n  factory://hightouch/destinations/80565",
            ] {
                #expect(table.output.contains(expected), "factoryctl lineage shows no \(expected):\n\(table.output)")
            }
        }
    }
}
