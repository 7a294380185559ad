import FactoryModel
import Foundation
import JSONSchema
import Testing

@Suite("YAML to JSON bridge")
struct YAMLBridgeTests {
    private func value(_ yaml: String) throws -> JSONValue? {
        try YAMLLoader.loadDocuments("v: " + yaml + "\n").first?.value["v"]
    }

    @Test(arguments: [
        ("23474", JSONValue(23474)),
        ("\"23474\"", "23474"),
        ("'23474'", "23474"),
        ("0", 0),
        ("-12", -12),
        ("+12", 12),
        ("007", 7),
        ("0x1F", 31),
        ("0o17", 15),
        ("1.5e3", 1500.0),
        (".5", 0.5),
        ("-2.", -2.0),
        ("true", true),
        ("True", true),
        ("FALSE", false),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("~", .null),
        ("null", .null),
        ("", .null),
        ("2024-01-01", "2024-01-01"),
        ("1_000", "1_000"),
        ("0b101", "0b101"),
        ("!!str 12", "12"),
        ("!!int \"12\"", 12),
        ("!!float 1", 1),
        ("! 12", "12"),
        ("|\n  two\n  lines", "two\nlines\n"),
        ("[a, 1, {b: c}]", JSONValue.array(["a", 1, ["b": "c"]])),
    ])
    func scalarsFollowTheYAML12CoreSchema(yaml: String, expected: JSONValue) throws {
        #expect(try value(yaml) == expected, "\(yaml)")
    }

    @Test func integersBeyondInt64KeepTheirDigits() throws {
        #expect(try value("12345678901234567890")?.serialized() == "12345678901234567890")
    }

    @Test(arguments: [
        ("v: .inf\n", ManifestError.Kind.unsupportedYAML),
        ("v: -.Inf\n", .unsupportedYAML),
        ("v: .NaN\n", .unsupportedYAML),
        ("v: !!binary aGVsbG8=\n", .unsupportedYAML),
        ("v: !!timestamp 2001-12-14\n", .unsupportedYAML),
        ("v: !custom x\n", .unsupportedYAML),
        ("v: !!set {a, b}\n", .unsupportedYAML),
        ("? [a, b]\n: c\n", .unsupportedYAML),
        ("base: &b {a: 1}\nv:\n  <<: *b\n", .unsupportedYAML),
        ("?\n: no key\n", .unsupportedYAML),
        ("a: \"x\u{FEFF}y\"\n", .unsupportedYAML),
        ("a: 1\na: 2\n", .syntax),
        ("1: a\n\"1\": b\n", .syntax),
        ("v: !!int abc\n", .invalidValue),
        ("v: [1, 2\n", .syntax),
        ("v: 1e999\n", .invalidValue),
    ])
    func refusesYAMLWithoutAJSONMeaningNamingTheLine(yaml: String, kind: ManifestError.Kind) throws {
        let error = try #require(throws: ManifestError.self) { try YAMLLoader.loadDocuments(yaml) }
        #expect(error.kind == kind, "\(yaml): \(error)")
        #expect(error.line != nil, "\(yaml): \(error)")
    }

    @Test func keysAreTheirSourceTextAndOrderIsKept() throws {
        let document = try #require(try YAMLLoader.loadDocuments("z: 1\n1: a\ntrue: b\nnull: c\n").first)
        #expect(document.value.objectValue?.keys == ["z", "1", "true", "null"])
    }

    @Test func aliasesExpandWithinABudget() throws {
        let document = try #require(try YAMLLoader.loadDocuments("a: &x {k: [1, 2]}\nb: *x\n").first)
        #expect(document.value["b"] == ["k": [1, 2]])
        // "Billion laughs": nine levels of ten aliases would be a billion values.
        var bomb = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let previous = "*l\(level - 1)"
            bomb += "l\(level): &l\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        let error = try #require(throws: ManifestError.self) { try YAMLLoader.loadDocuments(bomb) }
        #expect(error.kind == .tooLarge)
    }

    @Test func deepNestingIsRefusedNotCrashed() throws {
        let nested = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        let error = try #require(throws: ManifestError.self) { try YAMLLoader.loadDocuments("v: " + nested + "\n") }
        #expect(error.kind == .invalidValue)
        // Beyond libyaml's own limit (1,000) the parser refuses first.
        let deeper = String(repeating: "[", count: 5_000)
        #expect(throws: ManifestError.self) { try YAMLLoader.loadDocuments(deeper) }
    }

    @Test func multipleDocumentsAndEmptyOnes() throws {
        let documents = try YAMLLoader.loadDocuments("---\na: 1\n---\n---\nb: 2\n...\n")
        #expect(documents.map(\.value) == [["a": 1], ["b": 2]])
        #expect(documents.map(\.number) == [1, 3])
    }

    @Test func sourcePositionsAndScalarTextAreKept() throws {
        let document = try #require(try YAMLLoader.loadDocuments("a:\n  b: 0x1F\n  c: 'q'\n").first)
        #expect(document.position(of: "/a/b") == YAMLSourcePosition(line: 2, column: 6))
        #expect(document.position(of: "/a/missing") == YAMLSourcePosition(line: 2, column: 3))
        #expect(document.sourceText(of: "/a/b") == "0x1F")
        #expect(document.sourceText(of: "/a/c") == nil)
    }

    @Test func environmentVariablesKeepTheTextAsWritten() throws {
        let yaml = try Fixtures.text("operator.yaml").replacingOccurrences(of: "LOG_LEVEL: info", with: "LOG_LEVEL: 0x1F\n        DEBUG: True\n        RATIO: 1.50")
        let manifest = try OperatorManifest.load(from: yaml)
        let environment = try #require(manifest.operator.components.first?.environmentVars)
        #expect(environment["LOG_LEVEL"] == "0x1F")
        #expect(environment["DEBUG"] == "True")
        #expect(environment["RATIO"] == "1.50")
    }
}

@Suite("Resource and workspace names")
struct NameRuleTests {
    @Test(arguments: ["pipeline-01", "public", "sandbox", "a", "0", "a-b-c", String(repeating: "x", count: 63)])
    func validNames(name: String) throws {
        #expect(try ResourceName(name).rawValue == name)
        #expect(try WorkspaceName(name).rawValue == name)
        #expect(NameRule.violation(in: name) == nil)
    }

    @Test(arguments: [
        ("", "it is empty"),
        ("Pipeline", "uppercase letter 'P'"),
        ("my.pipe", "'.' (a NATS subject separator)"),
        ("a*", "wildcard"),
        ("a>", "wildcard"),
        ("a b", "a space"),
        ("a_b", "'_'"),
        ("-a", "starts with '-'"),
        ("a-", "ends with '-'"),
        ("é", "'é'"),
        ("a\u{0}", "control character"),
        (String(repeating: "x", count: 64), "64 characters long"),
    ])
    func invalidNamesExplainWhy(name: String, reason: String) throws {
        let error = try #require(throws: InvalidNameError.self) { try ResourceName(name) }
        #expect(error.kind == .resource)
        #expect(error.violation.contains(reason), "\(error)")
        #expect(error.description.contains(NameRule.summary))
        let workspaceError = try #require(throws: InvalidNameError.self) { try WorkspaceName(name) }
        #expect(workspaceError.kind == .workspace)
        #expect(workspaceError.description.hasPrefix("invalid workspace name"))
    }
}
