import Foundation
import FuzzTargets
import Testing

/// Replays, through the fuzz targets (`Sources/FuzzTargets`), every input `scripts/fuzz` ever
/// found a problem with (`Fuzz/regressions/TARGET/*`), plus the hostile corpus and the examples:
/// none may crash or break a target's invariants. A failure here stops the test process with
/// the target's precondition message, naming the input file printed just before.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func files(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted().map { directory.appendingPathComponent($0) }
    }

    @Test("every saved regression input passes its target", arguments: FuzzTargets.names)
    func regressions(target: String) throws {
        let run = try #require(FuzzTargets.all[target])
        let directory = Self.root.appendingPathComponent("Fuzz/regressions/\(target)")
        for file in Self.files(in: directory) {
            print("replaying \(target) \(file.lastPathComponent)")
            run(Array(try Data(contentsOf: file)))
        }
    }

    @Test("the hostile corpus and the examples pass every target that reads them")
    func seeds() throws {
        let corpus = try String(contentsOf: Self.root.appendingPathComponent("Tests/HostileInput/corpus.jsonl"), encoding: .utf8)
        var payloads: [[UInt8]] = []
        for line in corpus.split(separator: "\n") {
            let entry = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            if let text = entry["payload"] as? String {
                payloads.append(Array(text.utf8))
            } else if let encoded = entry["payload_b64"] as? String, let data = Data(base64Encoded: encoded) {
                payloads.append(Array(data))
            }
        }
        #expect(payloads.count > 200)
        let targets = FuzzTargets.all
        for payload in payloads {
            for name in ["envelope", "json", "resource-json", "schema-validate", "schema-compile"] {
                targets[name]?(payload)
            }
        }
        for path in ["examples/resource.yaml", "examples/operator.yaml", "Tests/FactoryModelTests/Resources/operator.published.yaml"] {
            let bytes = Array(try Data(contentsOf: Self.root.appendingPathComponent(path)))
            targets["resource-yaml"]?(bytes)
            targets["operator-yaml"]?(bytes)
        }
    }
}
