import FactoryModel
import Foundation
import HightouchSimulator
import NATSKit
@testable import FactoryEngine
import FactoryState
import Testing

@Suite("Many resources, several replicas", .serialized, .timeLimit(.minutes(5)))
struct ScaleTests {
    @Test("50 resources applied at once across two replicas: all succeed, exactly 50 triggers")
    func fiftyAcrossTwoReplicas() async throws {
        try await withOperator(replicas: 2, workers: 8, runDuration: .milliseconds(800)) { harness in
            let workspace = try WorkspaceName("public")
            let names = (1...50).map { String(format: "pipeline-%02d", $0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for name in names {
                    group.addTask {
                        let manifest = try OperatorHarness.seedManifest(name: name, modelSlug: "model-\(name)", syncSlug: "sync-\(name)")
                        try await harness.publish(.apply(manifest, workspace: workspace))
                    }
                }
                try await group.waitForAll()
            }
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            var succeeded: [String] = []
            while ContinuousClock.now < deadline {
                let list = try await harness.query(StatusQuery(workspace: "public"))
                succeeded = (list.resources ?? []).filter { $0.runtime == "succeeded" }.map(\.name)
                if succeeded.count == names.count { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(Set(succeeded) == Set(names), "missing: \(Set(names).subtracting(succeeded).sorted())")
            let counters = harness.simulator.counters()
            #expect(counters.triggersBySyncSlug.values.reduce(0, +) == 50)
            #expect(names.allSatisfy { counters.triggersBySyncSlug["sync-\($0)"] == 1 }, "one trigger per command")
            #expect(try await harness.commandsLeft() == 0)
            // Both replicas did work (the shared durable consumer spread it).
            let owners = try await harness.query(StatusQuery(workspace: "public")).resources?.compactMap(\.lastCommand) ?? []
            #expect(owners.count == 50)
        }
    }
}
