@testable import FactoryConsole
import JSONSchema
import Testing

/// The lineage page's model, without a browser: a resource's own datasets, a pipeline's from its
/// tasks.
@Suite("Console: the lineage page's datasets")
struct LineagePageTests {
    static func event(_ job: String, _ type: String, inputs: [String] = [], outputs: [String] = [], runID: String = "r1") -> JSONValue {
        let dataset = { (name: String) -> JSONValue in ["namespace": "factory://x", "name": .string(name)] }
        return [
            "eventType": .string(type), "eventTime": "2026-12-05T09:00:00Z", "job": ["namespace": "factory://public", "name": .string(job)],
            "run": ["runId": .string(runID)], "inputs": .array(inputs.map(dataset)), "outputs": .array(outputs.map(dataset)),
        ]
    }

    @Test("a resource: the datasets of its newest event that names any")
    func resource() {
        let page = LineagePage(events: [Self.event("census.sync", "START", inputs: ["old"]), Self.event("census.sync", "COMPLETE", inputs: ["a"], outputs: ["b"])])
        #expect(page.upstream.map(\.name) == ["a"] && page.downstream.map(\.name) == ["b"] && page.tasks.isEmpty)
    }

    @Test("a pipeline: its tasks' datasets together, each once, its tasks named; a pipeline whose tasks name none says so")
    func pipeline() {
        let own = [Self.event("pipeline.nightly", "START"), Self.event("pipeline.nightly", "COMPLETE")]
        let children = [
            "fivetran.nightly--ingest": [Self.event("fivetran.nightly--ingest", "COMPLETE", inputs: ["crm.accounts"], outputs: ["raw.accounts"])],
            "dbtcloud.nightly--build": [Self.event("dbtcloud.nightly--build", "COMPLETE", inputs: ["raw.accounts"], outputs: ["mart.revenue"])],
            "http.nightly--ping": [Self.event("http.nightly--ping", "COMPLETE")],
        ]
        let page = LineagePage(events: own, children: children)
        #expect(page.job == "pipeline.nightly")
        #expect(page.tasks == ["dbtcloud.nightly--build", "fivetran.nightly--ingest", "http.nightly--ping"])
        #expect(page.upstream.map(\.name) == ["raw.accounts", "crm.accounts"])
        #expect(page.downstream.map(\.name) == ["mart.revenue", "raw.accounts"])
        #expect(page.note == nil)
        let quiet = LineagePage(events: own, children: ["http.nightly--ping": [Self.event("http.nightly--ping", "COMPLETE")]])
        #expect(quiet.upstream.isEmpty && quiet.note == "its tasks' events name no datasets")
    }
}
