import FactoryModel
import Foundation
import HightouchSimulator
import JSONSchema
import Lineage
import LineageTestKit
import NATSKit
import NATSTestKit
import SimulatorKit
@testable import FactoryEngine
import FactoryState
import Testing

/// The seed resource end to end with lineage: a real nats-server, the Hightouch simulator, two
/// replicas. Every event read back from the lineage stream is validated against the official
/// OpenLineage schemas.
@Suite("Lineage end to end", .serialized, .timeLimit(.minutes(3)))
struct LineageEndToEndTests {
    let workspace = try! WorkspaceName("public")

    /// The seed resource (examples/resource.yaml) with field mappings in its `mappings` shape.
    static func seedWithMappings(name: String = "pipeline-01", modelSlug: String? = nil, syncSlug: String? = nil) throws -> ResourceManifest {
        var text = try String(contentsOf: OperatorHarness.seedResource, encoding: .utf8)
        text = text.replacingOccurrences(of: "name: pipeline-01", with: "name: \(name)")
        if let modelSlug { text = text.replacingOccurrences(of: #"slug: "city-retail-01""#, with: #"slug: "\#(modelSlug)""#) }
        if let syncSlug { text = text.replacingOccurrences(of: #"slug: "icebase-excel-01""#, with: #"slug: "\#(syncSlug)""#) }
        let mappings = #"[{"from": "city_id", "to": "Id", "type": "standard"}, {"from": "city_name", "to": "Name", "type": "standard"}]"#
        text = text.replacingOccurrences(of: #""mappings": [ ]"#, with: #""mappings": \#(mappings)"#)
        return try ResourceManifest.load(from: text)
    }

    @Test("the seed resource applied and run: START and COMPLETE per run, one each, with jobType, datasets, dataSource and column lineage; a forced failure gives FAIL with errorMessage")
    func seedResource() async throws {
        try await withOperator(replicas: 2) { harness in
            try await harness.publish(.apply(try Self.seedWithMappings(), workspace: workspace))
            let applied = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            let firstKey = try #require(applied.lastRun?.key)
            var events = try await harness.waitForLineage(job: "hightouch.pipeline-01", count: 2)
            #expect(events.map(\.eventType) == ["START", "COMPLETE"])
            let runID = LineageRunID.make(commandID: firstKey)
            #expect(events.allSatisfy { $0.json["run"]?["runId"]?.stringValue == runID })
            let complete = events[1].json
            #expect(complete["job"]?["namespace"] == "factory://public")
            #expect(complete["job"]?["facets"]?["jobType"]?["integration"] == "HIGHTOUCH" && complete["job"]?["facets"]?["jobType"]?["jobType"] == "SYNC")
            #expect(complete["job"]?["facets"]?["jobType"]?["processingType"] == "BATCH")
            #expect(complete["inputs"]?[0]?["namespace"] == "factory://hightouch/23474" && complete["inputs"]?[0]?["name"] == "city-retail-01")
            #expect(complete["outputs"]?[0]?["namespace"] == "factory://hightouch/destinations/80565" && complete["outputs"]?[0]?["name"] == "icebase-excel-01")
            let columns = try #require(complete["outputs"]?[0]?["facets"]?["columnLineage"]?["fields"])
            #expect(columns["Id"]?["inputFields"]?[0]?["field"] == "city_id" && columns["Name"]?["inputFields"]?[0]?["field"] == "city_name")
            #expect(columns["Id"]?["inputFields"]?[0]?["namespace"] == "factory://hightouch/23474")
            #expect(complete["outputs"]?[0]?["facets"]?["dataSource"]?["uri"] == "factory://hightouch/destinations/80565")
            #expect(events[0].messageID == "openlineage-\(runID)-START" && events[1].messageID == "openlineage-\(runID)-COMPLETE")
            let finishedAt = try #require(applied.lastRun?.finishedAt)
            #expect(complete["eventTime"]?.stringValue == finishedAt, "the end event's time is the vendor's finish")

            // run: a second run, its own run id, two more events.
            try await harness.publish(.run(ResourceReference(name: try ResourceName("pipeline-01")), workspace: workspace), messageID: "run-1")
            _ = try await harness.waitForStatus("pipeline-01") { $0.lastRun?.key == "run-1" && $0.runtime == "succeeded" }
            events = try await harness.waitForLineage(job: "hightouch.pipeline-01", count: 4)
            #expect(events.map(\.eventType) == ["START", "COMPLETE", "START", "COMPLETE"])
            #expect(events[2].json["run"]?["runId"]?.stringValue == LineageRunID.make(commandID: "run-1"))

            // A forced failure.
            harness.simulator.forceOutcome(.failed, forSyncSlug: "sync-fails", error: "destination rejected 12 rows")
            try await harness.publish(.apply(try Self.seedWithMappings(name: "fails", modelSlug: "model-fails", syncSlug: "sync-fails"), workspace: workspace))
            _ = try await harness.waitForStatus("fails") { $0.runtime == "failed" }
            let failed = try await harness.waitForLineage(job: "hightouch.fails", count: 2)
            #expect(failed.map(\.eventType) == ["START", "FAIL"])
            #expect(failed[1].json["run"]?["facets"]?["errorMessage"]?["message"] == "destination rejected 12 rows")
            #expect(failed[1].json["run"]?["facets"]?["errorMessage"]?["programmingLanguage"] == "HIGHTOUCH")

            // Nothing more arrives later (no event twice across the two replicas' looks).
            try await Task.sleep(for: .seconds(1))
            #expect(try await harness.lineageEvents().count == 6)
        }
    }

    @Test("an oversized event is trimmed of its column lineage with the marker, not lost")
    func oversized() async throws {
        try await withOperator(environment: ["LINEAGE_MAX_EVENT_BYTES": "4096"]) { harness in
            var text = try String(contentsOf: OperatorHarness.seedResource, encoding: .utf8)
            let mappings = (0..<200).map { #"{"from": "source_column_\#($0)", "to": "destination_field_\#($0)", "type": "standard"}"# }.joined(separator: ", ")
            text = text.replacingOccurrences(of: #""mappings": [ ]"#, with: "\"mappings\": [\(mappings)]")
            try await harness.publish(.apply(try ResourceManifest.load(from: text), workspace: workspace))
            let events = try await harness.waitForLineage(job: "hightouch.pipeline-01", count: 2)
            #expect(events.map(\.eventType) == ["START", "COMPLETE"])
            for event in events {
                #expect(event.bytes.count <= 4096)
                #expect(event.json["outputs"]?[0]?["facets"]?["columnLineage"] == nil)
                #expect(event.json["run"]?["facets"]?["factory_trimmed"]?["removed"]?[0] == "columnLineage")
                #expect(event.json["outputs"]?[0]?["name"] == "icebase-excel-01", "the datasets stay")
            }
        }
    }

    @Test("the forwarder on two replicas against an endpoint failing every third request: every event arrives exactly once; factoryctl lineage shows the datasets and columns")
    func forwarder() async throws {
        let receiver = LineageReceiver(failEvery: 3, token: "lineage-token-7f3a")
        let url = try await receiver.start()
        let environment = ["LINEAGE_HTTP_URL": url, "LINEAGE_HTTP_TOKEN": "lineage-token-7f3a", "LINEAGE_HTTP_BACKOFF": "50ms", "LINEAGE_HTTP_MAX_BACKOFF": "400ms"]
        try await withOperator(replicas: 2, environment: environment) { harness in
            for index in 0..<4 {
                try await harness.publish(.apply(try Self.seedWithMappings(name: "fwd-\(index)", modelSlug: "model-fwd-\(index)", syncSlug: "sync-fwd-\(index)"), workspace: workspace))
            }
            for index in 0..<4 { _ = try await harness.waitForStatus("fwd-\(index)") { $0.runtime == "succeeded" } }
            let stored = try await harness.lineageEvents()
            #expect(stored.count == 8)
            let deadline = ContinuousClock.now.advanced(by: .seconds(30))
            while receiver.snapshot.acceptedByIdentity.count < stored.count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .seconds(1))  // anything late would show now
            let state = receiver.snapshot
            let identities = Set(stored.compactMap { event -> String? in
                guard let run = event.json["run"]?["runId"]?.stringValue, let type = event.json["eventType"]?.stringValue else { return nil }
                return "\(run)-\(type)"
            })
            #expect(Set(state.acceptedByIdentity.keys) == identities, "every stored event arrived")
            #expect(state.acceptedByIdentity.values.allSatisfy { $0 == 1 }, "each exactly once: \(state.acceptedByIdentity)")
            #expect(state.failed >= 2, "the endpoint failed some: \(state.failed) of \(state.requests)")
            #expect(state.authorizations == ["Bearer lineage-token-7f3a"])
            for event in state.accepted { #expect(OpenLineageValidator.shared.errors(encoded: event) == []) }

            // factoryctl lineage: the table and the events as JSON.
            let table = try await harness.factoryctl(["lineage", "fwd-0", "-w", "public"])
            #expect(table.status == 0, "\(table.output)")
            for expected in ["hightouch.fwd-0 (HIGHTOUCH SYNC)", "Upstream:", "factory://hightouch/23474  model-fwd-0  columns: city_id, city_name",
                             "Downstream:", "factory://hightouch/destinations/80565  sync-fwd-0", "sync-fwd-0.Id <- model-fwd-0.city_id (DIRECT/IDENTITY)", "START", "COMPLETE"] {
                #expect(table.output.contains(expected), "factoryctl lineage shows no \(expected):\n\(table.output)")
            }
            let json = try await harness.factoryctl(["lineage", "fwd-1", "-w", "public", "-o", "json"])
            #expect(json.status == 0, "\(json.output)")
            let events = try JSONValue(parsing: Array(json.output.utf8))
            #expect(events.arrayValue?.map { $0["eventType"]?.stringValue ?? "" } == ["START", "COMPLETE"])
            #expect(events.arrayValue?.allSatisfy { $0["job"]?["name"] == "hightouch.fwd-1" } == true)
            let missing = try await harness.factoryctl(["lineage", "never-ran", "-w", "public"])
            #expect(missing.status == 1 && missing.output.contains("no lineage events of public/never-ran"), "\(missing.output)")
        }
        await receiver.stop()
    }

    @Test("an unreachable endpoint never delays commands: runs end as fast as without it, events are in the stream")
    func unreachableEndpoint() async throws {
        let closed = LineageReceiver()
        let url = try await closed.start()
        await closed.stop()
        try await withOperator(environment: ["LINEAGE_HTTP_URL": url, "LINEAGE_HTTP_BACKOFF": "50ms"]) { harness in
            let started = ContinuousClock.now
            try await harness.publish(.apply(try Self.seedWithMappings(), workspace: workspace))
            _ = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            #expect(ContinuousClock.now - started < .seconds(8), "a 600 ms run took \(ContinuousClock.now - started)")
            try await harness.publish(.run(ResourceReference(name: try ResourceName("pipeline-01")), workspace: workspace), messageID: "run-while-down")
            _ = try await harness.waitForStatus("pipeline-01") { $0.lastRun?.key == "run-while-down" && $0.runtime == "succeeded" }
            #expect(ContinuousClock.now - started < .seconds(15))
            #expect(try await harness.waitForLineage(job: "hightouch.pipeline-01", count: 4).map(\.eventType) == ["START", "COMPLETE", "START", "COMPLETE"])
            // Nothing is dead-lettered: an endpoint that is down is retried, not refused.
            let info = try await harness.jetStream.streamInfo("factory-lineage-deadletter")
            #expect(info.state.messages == 0)
        }
    }

    @Test("lineage off: no stream, runs as before")
    func off() async throws {
        try await withOperator(environment: ["LINEAGE_ENABLED": "false"]) { harness in
            try await harness.publish(.apply(try Self.seedWithMappings(), workspace: workspace))
            _ = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            await #expect(throws: (any Error).self) { try await harness.jetStream.streamInfo("factory-lineage") }
        }
    }
}

/// One event as stored in the lineage stream.
struct StoredLineageEvent {
    var bytes: [UInt8]
    var json: JSONValue
    var messageID: String?
    var eventType: String { json["eventType"]?.stringValue ?? "" }
}

extension DeploymentHarness {
    /// Every event in the lineage stream, each validated against the official schemas.
    func lineageEvents(stream: String = "factory-lineage", sourceLocation: SourceLocation = #_sourceLocation) async throws -> [StoredLineageEvent] {
        let info = try await jetStream.streamInfo(stream)
        guard info.state.messages > 0 else { return [] }
        var events: [StoredLineageEvent] = []
        for sequence in info.state.firstSequence...info.state.lastSequence {
            guard let message = try? await jetStream.message(stream: stream, sequence: sequence) else { continue }
            let errors = OpenLineageValidator.shared.errors(encoded: message.payload)
            #expect(errors == [], "lineage event \(sequence): \(errors)", sourceLocation: sourceLocation)
            events.append(StoredLineageEvent(bytes: message.payload, json: try JSONValue(parsing: message.payload), messageID: message.headers["Nats-Msg-Id"]))
        }
        return events
    }

    /// The events of one job, once there are at least `count` of them.
    func waitForLineage(job: String, count: Int, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation) async throws -> [StoredLineageEvent] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var last: [StoredLineageEvent] = []
        while ContinuousClock.now < deadline {
            last = try await lineageEvents(sourceLocation: sourceLocation).filter { $0.json["job"]?["name"]?.stringValue == job }
            if last.count >= count { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessTimeout(description: "\(count) lineage events of \(job) did not arrive; got \(last.map(\.eventType))")
    }
}

extension OperatorHarness {
    /// Runs the built `factoryctl` against this harness's server; its exit status and output.
    func factoryctl(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: OperatorProcess.binary("factoryctl"))
        process.arguments = arguments + ["-s", server.url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Read before waiting: a full pipe would block the child.
        let data = try await Task.detached { try output.fileHandleForReading.readToEnd() ?? Data() }.value
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
