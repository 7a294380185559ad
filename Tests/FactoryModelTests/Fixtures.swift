import FactoryModel
import Foundation
import JSONSchema
import Testing

/// The seed manifests shipped in `Resources/`: `resource.yaml` and `operator.published.yaml` as
/// published, and `operator.yaml`, the published manifest with its tabs replaced by spaces.
enum Fixtures {
    static func url(_ name: String) throws -> URL {
        let candidates = [Bundle.module.resourceURL, Bundle.module.bundleURL].compactMap { $0 }.flatMap { base in
            [base.appendingPathComponent("Resources/\(name)"), base.appendingPathComponent(name)]
        }
        return try #require(candidates.first { FileManager.default.fileExists(atPath: $0.path) }, "fixture \(name) not found")
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: url(name), encoding: .utf8)
    }

    static func seedResource() throws -> ResourceManifest {
        try ResourceManifest.load(from: text("resource.yaml"))
    }

    /// The seed spec with `edit` applied.
    static func seedSpec(_ edit: (inout JSONObject) -> Void = { _ in }) throws -> JSONValue {
        var spec = try #require(seedResource().resource.spec.objectValue)
        edit(&spec)
        return .object(spec)
    }

    /// The repository root (for `examples/` and the built `factoryctl`).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

extension JSONObject {
    /// Edits the object member `key` in place (no-op when it is not an object).
    mutating func edit(_ key: String, _ change: (inout JSONObject) -> Void) {
        guard case .object(var member)? = self[key] else { return }
        change(&member)
        self[key] = .object(member)
    }
}
