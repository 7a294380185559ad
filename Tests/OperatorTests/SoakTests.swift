import FactoryModel
import Foundation
import NATSKit
@testable import FactoryEngine
import FactoryState
import Testing

@Suite("Soak: state stays bounded", .serialized, .timeLimit(.minutes(3)))
struct SoakTests {
    @Test("steady create/delete traffic on fresh names: maintenance keeps the bucket bounded and purges finished state")
    func bucketStaysBounded() async throws {
        try await withOperator(workers: 8, runDuration: .milliseconds(150), configure: {
            $0.purgeStateStoreBefore = .seconds(2)
            $0.maintenanceInterval = .milliseconds(500)
        }) { harness in
            let workspace = try WorkspaceName("public")
            let bucket = try await harness.jetStream.keyValue(harness.names.stateBucket)
            var samples: [(second: Int, keys: Int, values: UInt64)] = []
            var created = 0
            let seconds = 15
            for second in 0..<seconds {
                let tick = ContinuousClock.now
                for index in 0..<8 {
                    let name = "soak-\(second)-\(index)"
                    try await harness.publish(.apply(try OperatorHarness.seedManifest(name: name, modelSlug: "m-\(name)", syncSlug: "s-\(name)"), workspace: workspace))
                    created += 1
                    if second >= 2 {
                        try await harness.publish(.delete(ResourceReference(name: try ResourceName("soak-\(second - 2)-\(index)")), workspace: workspace))
                    }
                }
                let keys = try await bucket.keys().count
                samples.append((second, keys, try await bucket.status().values))
                try await Task.sleep(until: tick.advanced(by: .seconds(1)))
            }
            // Without purging, entity and status keys would grow with every resource ever created.
            let unbounded = created * 2
            let peak = samples.map(\.keys).max() ?? 0
            let late = samples.suffix(5).map(\.keys).max() ?? 0
            let early = samples.dropFirst(4).prefix(5).map(\.keys).max() ?? 0
            print("SOAK created \(created) resources; keys per second \(samples.map(\.keys)); stored values \(samples.map(\.values))")
            #expect(peak < unbounded / 2, "peak \(peak) keys, unbounded would reach \(unbounded)")
            #expect(late <= early + 24, "keys stopped growing: \(early) early, \(late) late")

            // After the traffic: the last ones are deleted too; everything deleted is purged.
            for index in 0..<8 {
                for second in (seconds - 2)..<seconds {
                    try await harness.publish(.delete(ResourceReference(name: try ResourceName("soak-\(second)-\(index)")), workspace: workspace))
                }
            }
            let deadline = ContinuousClock.now.advanced(by: .seconds(20))
            var remaining = Int.max
            while ContinuousClock.now < deadline {
                remaining = try await bucket.keys().count
                if remaining == 0 { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(remaining == 0, "every deleted resource was purged; \(remaining) keys left")
            #expect(try await harness.commandsLeft() == 0)
        }
    }
}
