import Foundation
import Testing

@testable import JSONSchema

/// Runs every case of the official JSON Schema Test Suite (draft 2020-12, required files) that
/// ships in `Resources/draft2020-12` and prints passed / failed / refused per file.
///
/// - Files of supported keywords: every group must compile and every case must pass, except the
///   groups listed in ``expectedRefusals``, which use an unsupported feature and must be refused
///   at compile time with that kind of error.
/// - Files of unsupported features (``unsupportedFiles``): every group that uses a refused
///   keyword must be refused at compile time; a group that compiles must pass all its cases.
@Suite("JSON Schema Test Suite, draft 2020-12")
struct ConformanceSuiteTests {
    /// Files whose subject this validator does not implement.
    static let unsupportedFiles: Set<String> = [
        "dynamicRef.json", "refRemote.json", "unevaluatedItems.json", "unevaluatedProperties.json", "vocabulary.json",
    ]

    /// Groups in otherwise supported files that need an unsupported feature.
    static let expectedRefusals: [String: [String: SchemaCompilationError.Kind]] = [
        "ref.json": [
            "remote ref, containing refs itself": .remoteReference,
            "ref creates new scope when adjacent to keywords": .unsupportedKeyword,
        ],
        "not.json": [
            "collect annotations inside a 'not', even if collection is disabled": .unsupportedKeyword,
        ],
        "defs.json": [
            "validate definition against metaschema": .remoteReference,
        ],
    ]

    static let refusalKinds: Set<SchemaCompilationError.Kind> = [.unsupportedKeyword, .remoteReference, .unsupportedDialect]

    struct FileResult {
        var file: String
        var passed = 0
        var failed = 0
        var refusedGroups = 0
        var refusedCases = 0
        var failures: [String] = []
    }

    static func suiteDirectory() throws -> URL {
        // Where SwiftPM puts copied resources differs between platforms; look in both places.
        let candidates = [Bundle.module.resourceURL, Bundle.module.bundleURL].compactMap { $0 }.flatMap { base in
            [base.appendingPathComponent("Resources/draft2020-12"), base.appendingPathComponent("draft2020-12")]
        }
        return try #require(candidates.first { FileManager.default.fileExists(atPath: $0.path) }, "suite files not found in the test bundle")
    }

    static func run(file: String, in directory: URL) throws -> FileResult {
        var result = FileResult(file: file)
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        let groups = try #require(try JSONValue(parsing: data).arrayValue, "\(file) is not an array of groups")
        let refusalsForFile = expectedRefusals[file] ?? [:]
        let fileUnsupported = unsupportedFiles.contains(file)

        for group in groups {
            let description = group["description"]?.stringValue ?? "?"
            let schemaValue = try #require(group["schema"])
            let tests = group["tests"]?.arrayValue ?? []
            let schema: JSONSchema
            do {
                schema = try JSONSchema(schemaValue)
            } catch {
                if let expectedKind = refusalsForFile[description], expectedKind == error.kind {
                    result.refusedGroups += 1
                    result.refusedCases += tests.count
                } else if fileUnsupported, refusalKinds.contains(error.kind) {
                    result.refusedGroups += 1
                    result.refusedCases += tests.count
                } else {
                    result.failed += tests.count
                    result.failures.append("\(file) › \(description): schema refused unexpectedly: \(error)")
                }
                continue
            }
            if refusalsForFile[description] != nil {
                result.failures.append("\(file) › \(description): expected the schema to be refused, but it compiled")
            }
            if fileUnsupported, let keyword = firstRefusedKeyword(in: schemaValue) {
                result.failures.append("\(file) › \(description): schema uses \(keyword) but compiled (it must be refused)")
            }
            for test in tests {
                let testDescription = test["description"]?.stringValue ?? "?"
                let expected = test["valid"]?.boolValue ?? false
                let instance = test["data"] ?? .null
                let errors = schema.validate(instance)
                let fastValid = schema.isValid(instance)
                if errors.isEmpty == expected, fastValid == expected {
                    result.passed += 1
                } else {
                    result.failed += 1
                    result.failures.append(
                        "\(file) › \(description) › \(testDescription): expected \(expected ? "valid" : "invalid"), "
                            + "validate gave \(errors.isEmpty ? "valid" : "invalid \(errors)"), isValid gave \(fastValid)")
                }
            }
        }
        return result
    }

    /// A refused keyword used anywhere as an object key in `value`, if any.
    static func firstRefusedKeyword(in value: JSONValue) -> String? {
        var stack = [value]
        while let next = stack.popLast() {
            switch next {
            case .object(let object):
                for member in object {
                    if SchemaKeywords.refused[member.key] != nil { return member.key }
                    stack.append(member.value)
                }
            case .array(let array):
                stack.append(contentsOf: array)
            default:
                continue
            }
        }
        return nil
    }

    @Test("every case of every file passes or is refused as documented")
    func conformance() throws {
        let directory = try Self.suiteDirectory()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }
            .sorted()
        #expect(files.count == 46, "expected the 46 required files of the suite")

        var results: [FileResult] = []
        for file in files {
            results.append(try Self.run(file: file, in: directory))
        }

        var table = "\nJSON Schema Test Suite draft 2020-12\n"
        table += "file                             passed  failed  refused (groups/cases)\n"
        for result in results {
            let name = result.file.padding(toLength: 32, withPad: " ", startingAt: 0)
            let passed = String(result.passed).leftPadded(6)
            let failed = String(result.failed).leftPadded(7)
            let refused = result.refusedGroups == 0 ? "" : "  \(result.refusedGroups)/\(result.refusedCases)"
            let note = Self.unsupportedFiles.contains(result.file) ? "  (unsupported: refused at compile time)" : ""
            table += "\(name)\(passed)\(failed)\(refused)\(note)\n"
        }
        let passed = results.map(\.passed).reduce(0, +)
        let failed = results.map(\.failed).reduce(0, +)
        let refused = results.map(\.refusedCases).reduce(0, +)
        table += "total: \(passed) passed, \(failed) failed, \(refused) cases in refused schemas\n"
        print(table)

        for failure in results.flatMap(\.failures) {
            Issue.record(Comment(rawValue: failure))
        }
        #expect(failed == 0)
        #expect(passed > 1_000)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
