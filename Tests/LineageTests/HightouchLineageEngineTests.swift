import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Foundation
import Hightouch
import HightouchSimulator
import InMemoryLogging
import JSONSchema
import Lineage
import LineageTestKit
import Logging
import Testing
import VendorHTTP

@testable import HightouchDriver

/// The seed resource through the engine in memory against the Hightouch simulator, with mappings
/// the driver cannot read: the run succeeds, its events name the datasets without columns, and
/// the log says why.
@Suite("Hightouch lineage through the engine")
struct HightouchLineageEngineTests {
    @Test("bad input: unreadable mappings give lineage without columns and a warning in the log, never a failed run")
    func unreadableMappings() async throws {
        var configuration = HightouchSimulator.Configuration(tokens: ["lineage-test-token"])
        configuration.knobs.runDuration = .milliseconds(200)
        try await withHightouchSimulator(configuration: configuration) { simulator in
            let port = try #require(simulator.port)
            let client = HightouchClient(
                configuration: .init(token: VendorSecret("lineage-test-token"), baseURL: "http://127.0.0.1:\(port)", timeout: .seconds(5)),
                logger: InMemoryEngine.quietLogger)
            let engine = InMemoryEngine(driver: AnyResourceDriver(HightouchDriver(client: client)))
            let handler = InMemoryLogHandler()
            var logger = Logger(label: "lineage-test", factory: { _ in handler })
            logger.logLevel = .info
            let lineage = RecordingLineage()
            let emitter = engine.lineageEmitter(lineage, logger: logger)

            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("examples/resource.yaml")
            let text = try String(contentsOf: url, encoding: .utf8)
                .replacingOccurrences(of: #""mappings": [ ]"#, with: #""mappings": {"from": "city_id", "to": "Id"}"#)
            let manifest = try ResourceManifest.load(from: text)
            let result = await engine.processor(lineage: emitter).process(engine.delivery(.apply(manifest, workspace: try WorkspaceName("public"))))
            #expect(result.outcome == "triggered")
            _ = await engine.follow(with: engine.follower(lineage: emitter))
            #expect(try await engine.status("pipeline-01")?.lastRun?.phase == .succeeded, "the run is not affected")
            #expect(lineage.eventTypes == ["START", "COMPLETE"])
            for event in lineage.events {
                #expect(OpenLineageValidator.shared.errors(event.json) == [])
                #expect(event.json["outputs"]?[0]?["name"] == "icebase-excel-01" && event.json["inputs"]?[0]?["name"] == "city-retail-01", "the datasets stay")
                #expect(event.json["outputs"]?[0]?["facets"]?["columnLineage"] == nil, "no columns")
            }
            let warnings = handler.entries.filter { $0.level == .warning && "\($0.message)".contains("Lineage without some of what the spec declares") }
            #expect(!warnings.isEmpty, "no warning logged: \(handler.entries.map { "\($0.message)" })")
            #expect(warnings.first.map { "\($0.metadata["detail"] ?? "")".contains("mappings is not a list") } == true)
        }
    }
}
