import Foundation
import Testing

/// `factoryctl validate` knows every built-in resource type from its schema alone (no manifest, no
/// NATS): each example is valid, and a spec missing what its type requires is refused, naming it.
@Suite("factoryctl validate: every built-in type")
struct BuiltInTypesTests {
    static func example(_ name: String) -> String {
        CLIProcess.packageRoot.appendingPathComponent("examples/\(name)").path
    }

    @Test("each example of each type is valid without a manifest", arguments: ["resource.yaml", "http.yaml", "fivetran.yaml", "dbtcloud.yaml", "census.yaml"])
    func examplesValid(file: String) async throws {
        let outcome = try await CLIProcess.run(["validate", "-f", Self.example(file)])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.output.contains("valid"), "\(outcome)")
    }

    @Test("a spec without its type's required field is refused, naming the field", arguments: [
        ("fivetran.yaml", "connectorId"),
        ("dbtcloud.yaml", "jobId"),
        ("census.yaml", "syncId"),
    ])
    func requiredFieldRefused(file: String, field: String) async throws {
        let text = try String(contentsOfFile: Self.example(file), encoding: .utf8)
        let broken = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("\(field):") }
            .joined(separator: "\n")
        #expect(broken != text, "the example has a \(field) line to remove")
        let outcome = try await CLIProcess.run(["validate", "-f", "-"], standardInput: Data(broken.utf8))
        #expect(outcome.status != 0, "\(outcome)")
        #expect((outcome.output + outcome.errorOutput).contains(field), "\(outcome)")
    }
}
