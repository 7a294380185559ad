import FactoryModel
import Foundation
import JSONSchema
import Testing

@testable import FactoryCTL

@Suite("apply's input: files, standard input, validation, owner")
struct ManifestInputTests {
    static let example = CLIProcess.packageRoot.appendingPathComponent("examples/resource.yaml")

    static func publicWorkspace() throws -> WorkspaceName { try WorkspaceName("public") }

    @Test("the owner is filled in only when the manifest has none")
    func owner() throws {
        let text = try String(contentsOf: Self.example, encoding: .utf8)
        let manifest = try ResourceManifest.load(from: text)
        #expect(ManifestInput.withOwner("bob", manifest).meta.additionalFields["owner"]?.stringValue == "bob")
        #expect(ManifestInput.withOwner(nil, manifest).meta.additionalFields["owner"] == nil)
        let owned = try ResourceManifest.load(from: text.replacingOccurrences(of: "name: pipeline-01", with: "name: pipeline-01\nowner: alice"))
        #expect(ManifestInput.withOwner("bob", owned).meta.additionalFields["owner"]?.stringValue == "alice")
        #expect(ManifestInput.defaultOwner(environment: ["USER": "carol", "LOGNAME": "dave"]) == "carol")
        #expect(ManifestInput.defaultOwner(environment: ["LOGNAME": "dave"]) == "dave")
        #expect(ManifestInput.defaultOwner(environment: [:]) != nil, "falls back to the account name")
    }

    @Test("files and standard input; JSON on standard input; problems carry their origin; an empty input is a problem")
    func sources() throws {
        let text = try String(contentsOf: Self.example, encoding: .utf8)
        let two = text + "\n---\n" + text.replacingOccurrences(of: "name: pipeline-01", with: "name: pipeline-02")
        let fromStandardInput = ManifestInput.load(paths: ["-"], registry: .seedDefault, workspace: try Self.publicWorkspace()) { Data(two.utf8) }
        #expect(fromStandardInput.problems.isEmpty)
        #expect(fromStandardInput.documents.map(\.origin) == ["stdin#1", "stdin#2"])
        #expect(fromStandardInput.documents.map(\.manifest.name.rawValue) == ["pipeline-01", "pipeline-02"])

        let json = try ResourceManifest.load(from: text).jsonValue.serialized()
        let fromJSON = ManifestInput.load(paths: ["-"], registry: .seedDefault, workspace: try Self.publicWorkspace()) { Data(json.utf8) }
        #expect(fromJSON.problems.isEmpty && fromJSON.documents.count == 1)

        let missing = ManifestInput.load(paths: ["/nonexistent/resource.yaml"], registry: .seedDefault, workspace: try Self.publicWorkspace())
        #expect(missing.problems == ["/nonexistent/resource.yaml: no such file"])

        let twice = ManifestInput.load(paths: ["-", "-"], registry: .seedDefault, workspace: try Self.publicWorkspace()) { Data(text.utf8) }
        #expect(twice.problems == ["-f - given twice: standard input can be read once"])

        let empty = ManifestInput.load(paths: ["-"], registry: .seedDefault, workspace: try Self.publicWorkspace()) { Data() }
        #expect(!empty.problems.isEmpty && empty.documents.isEmpty)
    }
}
