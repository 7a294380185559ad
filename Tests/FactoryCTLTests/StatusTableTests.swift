import FactoryModel
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

    @Test("the detail names vendor ids, both runs with rows and ratio, generations, commands and the last error")
    func detail() {
        var view = Self.view("pipeline-01")
        view.vendor = .init(modelId: "10001", modelSlug: "city-retail-01", syncId: "20001", syncSlug: "icebase-excel-01")
        var run = ResourceStatusView.Run(id: "500002", status: "processing", runtime: "inprogress")
        run.completionRatio = 0.5
        run.plannedRows = .init(added: 100, changed: 50, removed: 0)
        run.successfulRows = .init(added: 60, changed: 10, removed: 0)
        run.failedRows = .init(added: 5, changed: 0, removed: 0)
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
        #expect(text.contains("  Planned rows:     added 100, changed 50, removed 0"))
        #expect(text.contains("  Failed rows:      added 5, changed 0, removed 0"))
        #expect(text.contains("Last run:\n  ID:               500001"))
        #expect(text.contains("  Error:            quota exceeded"))
        #expect(text.contains("Generation:         1 (observed 1)"))
        #expect(text.contains("Last command:       apply at sequence 3, id abc"))
        #expect(text.contains("  Reason:           vendorValidation"))
    }

    @Test("progress: bar, percentage and rows done of planned")
    func progress() {
        var run = ResourceStatusView.Run(id: "1", status: "processing", runtime: "inprogress")
        run.completionRatio = 0.38
        run.plannedRows = .init(added: 2500, changed: 0, removed: 0)
        run.successfulRows = .init(added: 947, changed: 0, removed: 0)
        run.failedRows = .init(added: 3, changed: 0, removed: 0)
        #expect(ProgressBar.line(run) == "[#########---------------]  38%  rows 950/2500, 3 failed")
        #expect(ProgressBar.bar(nil) == "[------------------------]")
        #expect(ProgressBar.bar(1.7) == "[########################]")
    }
}
