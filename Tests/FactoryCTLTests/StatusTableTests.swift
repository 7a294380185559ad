import FactoryModel
import JSONSchema
import Testing

@testable import FactoryCTL

@Suite("The resource table and the detail")
struct StatusTableTests {
    static func view(_ name: String, status: String = "active", runtime: String = "inprogress", owner: String? = "iamgroot") -> ResourceStatusView {
        ResourceStatusView(
            name: name, version: "v1beta", workspace: "public", status: status, runtime: runtime, owner: owner,
            resourceType: "hightouch", generation: 1, observedGeneration: 1)
    }

    @Test("DESIGN.md's table: centred headers, dashed separator, left-aligned cells, | between columns")
    func designTable() {
        // Widths as in DESIGN.md's sample: its NAME column fits a 15-character name, its OWNER
        // column a 9-character owner.
        let table = StatusTable.render([Self.view("pipeline-01"), Self.view("pipeline-000015", owner: "iamgroot9")])
        let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "      NAME       | VERSION |   TYPE   | WORKSPACE | STATUS |  RUNTIME   |   OWNER")
        #expect(lines[1] == "-----------------|---------|----------|-----------|--------|------------|-----------")
        #expect(lines[2] == " pipeline-01     | v1beta  | resource | public    | active | inprogress | iamgroot")
        #expect(lines[3] == " pipeline-000015 | v1beta  | resource | public    | active | inprogress | iamgroot9")
        #expect(lines[4] == "")
        #expect(lines.count == 5)
    }

    @Test("columns grow to the longest cell; no line ends in spaces; a missing owner is blank")
    func widthsFollowContent() {
        let table = StatusTable.render([Self.view("pipeline-01", status: "active", runtime: "succeeded", owner: nil)])
        #expect(
            table == """
                    NAME     | VERSION |   TYPE   | WORKSPACE | STATUS |  RUNTIME  | OWNER
                -------------|---------|----------|-----------|--------|-----------|-------
                 pipeline-01 | v1beta  | resource | public    | active | succeeded |

                """)
        #expect(!table.split(separator: "\n").contains { $0.hasSuffix(" ") })
    }

    @Test("the detail shows the driver's rows for vendor objects and runs, progress, generations, commands and the last error")
    func detail() {
        var view = Self.view("pipeline-01")
        view.vendor = ["modelID": "10001", "modelSlug": "city-retail-01", "syncID": "20001", "syncSlug": "icebase-excel-01"]
        view.vendorRows = [DetailRow("Model", "10001 (city-retail-01)"), DetailRow("Sync", "20001 (icebase-excel-01)")]
        var run = ResourceStatusView.Run(id: "500002", status: "processing", runtime: "inprogress")
        run.progress = 0.5
        run.summary = "rows 75/150, 5 failed"
        run.rows = [DetailRow("Planned rows", "added 100, changed 50, removed 0"), DetailRow("Failed rows", "added 5, changed 0, removed 0")]
        view.currentRun = run
        var last = ResourceStatusView.Run(id: "500001", status: "failed", runtime: "failed")
        last.error = "quota exceeded"
        view.lastRun = last
        view.lastError = .init(reason: "vendorValidation", message: "bad sync", commandId: "abc", at: "2026-11-21T10:00:00.000Z")
        view.lastCommand = .init(id: "abc", sequence: 3, operation: "apply", receivedAt: "2026-11-21T10:00:00.000Z")
        let text = StatusDetail.render(view)
        #expect(text.contains("Model:            10001 (city-retail-01)"))
        #expect(text.contains("Sync:             20001 (icebase-excel-01)"))
        #expect(text.contains("Current run:\n  ID:               500002"))
        #expect(text.contains("  Progress:         [############------------] 50%"))
        #expect(text.contains("  Summary:          rows 75/150, 5 failed"))
        #expect(text.contains("  Planned rows:     added 100, changed 50, removed 0"))
        #expect(text.contains("  Failed rows:      added 5, changed 0, removed 0"))
        #expect(text.contains("Last run:\n  ID:               500001"))
        #expect(text.contains("  Error:            quota exceeded"))
        #expect(text.contains("Generation:         1 (observed 1)"))
        #expect(text.contains("Last command:       apply at sequence 3, id abc"))
        #expect(text.contains("  Reason:           vendorValidation"))
        #expect(!text.contains("Last run:\n  ID:               500001\n  Status:           failed (failed)\n  Progress"), "no progress line where none is known")
    }

    @Test("without the driver's rows (a type this operator does not host), the vendor's JSON is shown as it is")
    func detailWithoutRows() {
        var view = Self.view("job-01")
        view.vendor = ["jobID": "7", "account": 1]
        var run = ResourceStatusView.Run(id: "70001", status: "Running", runtime: "inprogress")
        run.details = ["step": 2, "href": "https://cloud.example/run/70001"]
        view.lastRun = run
        let text = StatusDetail.render(view)
        #expect(text.contains("  jobID:            7"))
        #expect(text.contains("  account:          1"))
        #expect(text.contains("  href:             https://cloud.example/run/70001"))
    }

    @Test("progress: bar, percentage and the driver's summary")
    func progress() {
        var run = ResourceStatusView.Run(id: "1", status: "processing", runtime: "inprogress")
        run.progress = 0.38
        run.summary = "rows 950/2500, 3 failed"
        #expect(ProgressBar.line(run) == "[#########---------------]  38%  rows 950/2500, 3 failed")
        #expect(ProgressBar.bar(nil) == "[------------------------]")
        #expect(ProgressBar.bar(1.7) == "[########################]")
    }
}
