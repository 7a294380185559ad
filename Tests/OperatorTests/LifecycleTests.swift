import FactoryModel
import Foundation
import HightouchSimulator
import NATSKit
@testable import OperatorCore
import Testing

@Suite("Apply, run, delete", .serialized, .timeLimit(.minutes(3)))
struct LifecycleTests {
    @Test("the seed resource: model and sync created, one run triggered, runtime succeeded")
    func seedResourceSucceeds() async throws {
        try await withOperator { harness in
            let manifest = try OperatorHarness.seedManifest()
            let ack = try await harness.publish(.apply(manifest, workspace: try WorkspaceName("public")))
            #expect(ack.duplicate == false)
            let view = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            #expect(view.status == "active")
            #expect(view.type == "resource")
            #expect(view.version == "v1beta")
            #expect(view.workspace == "public")
            #expect(view.vendor?.modelSlug == "city-retail-01")
            #expect(view.vendor?.syncSlug == "icebase-excel-01")
            #expect(view.vendor?.modelId != nil && view.vendor?.syncId != nil)
            let run = try #require(view.lastRun)
            #expect(run.status == "success")
            #expect(run.completionRatio == 1)
            #expect(run.finishedAt != nil)
            #expect(view.currentRun == nil)
            #expect(view.generation == 1 && view.observedGeneration == 1)
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1)
            let log = harness.simulator.triggerLog()
            #expect(log.count == 1)
            #expect(try await harness.commandsLeft() == 0, "the command was acknowledged and removed")
        }
    }
}
