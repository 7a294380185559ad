import FactoryModel
import Foundation
import JSONSchema
import Testing

/// SplitMix64: a tiny seeded generator, so every failure is reproducible from the seed printed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Thousands of random mutations of the seed resource go through the envelope decoder and
/// validator, the identity scanner, the YAML loader and the schema validator. None may crash; each
/// must succeed or return an error value; and a few invariants must hold on every input.
@Suite("Fuzzing with mutations of the seed resource")
struct FuzzTests {
    static let seed: UInt64 = 0x5EED_F00D_2026

    static let oddStrings: [String] = [
        "", "\u{0}", "\u{7F}", "é", "e\u{301}", "\u{FFFF}", "\u{10FFFF}", "😀", "\u{202E}rtl", "\u{2028}", "\u{FEFF}",
        "a.b", "*", ">", "Pipeline", String(repeating: "x", count: 64), "\\", "\"", "\n", "\t",
    ]

    // MARK: - Byte-level mutations of the JSON command

    @Test func envelopeDecoderSurvivesByteMutations() throws {
        var random = SeededGenerator(seed: Self.seed)
        let original = try CommandEnvelopeTests.applyBytes()
        let validator = CommandValidator(limits: CommandDecodingLimits(maxBytes: 256 << 10))
        var accepted = 0
        var rejected: [CommandRejection.Reason: Int] = [:]
        for iteration in 0..<4_000 {
            let bytes = Self.mutateBytes(original, using: &random)
            switch validator.validate(bytes) {
            case .success(let command):
                accepted += 1
                // Invariant: what decodes re-encodes to something that decodes to the same command.
                let again = try CommandEnvelope(decoding: command.envelope.encoded())
                #expect(again == command.envelope, "iteration \(iteration) of seed \(Self.seed)")
            case .failure(let rejection):
                rejected[rejection.reason, default: 0] += 1
                #expect(!rejection.message.isEmpty)
            }
            _ = CommandIdentity.identify(bytes)
        }
        let reasons = rejected.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
        print("byte mutations (seed \(Self.seed)): \(accepted) accepted; rejected: \(reasons.joined(separator: ", "))")
        #expect(rejected[.notJSON, default: 0] > 1_000)
    }

    // MARK: - Structural mutations of the resource

    @Test func validatorSurvivesStructuralMutations() throws {
        var random = SeededGenerator(seed: Self.seed &+ 1)
        let manifest = try Fixtures.seedResource()
        let schema = try #require(ResourceTypeRegistry.seedDefault.definition(forType: "hightouch")).specSchema
        let workspace = try WorkspaceName("public")
        let validator = CommandValidator()
        var invalidSpecs = 0
        for iteration in 0..<3_000 {
            var document = manifest.jsonValue
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                if Bool.random(using: &random), case .object(var root) = document {
                    // Half the time aim at the spec, the part the schema judges.
                    root.edit("resource") { section in
                        section["spec"] = Self.mutateValue(section["spec"] ?? .null, using: &random, depth: 0)
                    }
                    document = .object(root)
                } else {
                    document = Self.mutateValue(document, using: &random, depth: 0)
                }
            }
            // Through the schema directly: the fast check and the full listing must agree.
            if let spec = document["resource"]?["spec"] {
                let errors = schema.validate(spec)
                #expect(errors.isEmpty == schema.isValid(spec), "iteration \(iteration) of seed \(Self.seed &+ 1)")
                if !errors.isEmpty { invalidSpecs += 1 }
                #expect(errors.allSatisfy { spec.value(at: $0.instanceLocation) != nil || $0.keyword == "required" })
            }
            // Through the envelope.
            let command: JSONValue = ["op": "apply", "workspace": .string(workspace.rawValue), "resource": document]
            switch validator.validate(command.serializedBytes()) {
            case .success(let validated):
                #expect(schema.isValid(validated.envelope.jsonValue["resource"]?["resource"]?["spec"] ?? .null))
            case .failure(let rejection):
                #expect(!rejection.message.isEmpty)
            }
            // Through the YAML loader: JSON text is YAML too.
            switch Result(catching: { () throws(ManifestError) in try ResourceManifest.load(from: document.serialized()) }) {
            case .success(let loaded):
                #expect(loaded.resource.spec == (document["resource"]?["spec"] ?? .null))
            case .failure(let error):
                #expect(!error.message.isEmpty)
            }
        }
        #expect(invalidSpecs > 500)
    }

    // MARK: - Text mutations of the YAML file

    @Test func yamlLoaderSurvivesTextMutations() throws {
        var random = SeededGenerator(seed: Self.seed &+ 2)
        let original = Array(try Fixtures.text("resource.yaml").utf8)
        let registry = ResourceTypeRegistry.seedDefault
        var loaded = 0
        for _ in 0..<2_000 {
            let bytes = Self.mutateBytes(original, using: &random)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                #expect(throws: ManifestError.self) { try YAMLLoader.loadDocuments(Data(bytes)) }
                continue
            }
            let report = ResourceFileValidator.validate(text: text, format: .yaml, registry: registry, workspace: "public")
            if report.isValid { loaded += 1 }
            #expect(report.problems.allSatisfy { !$0.isEmpty })
        }
        #expect(loaded > 0)
    }

    // MARK: - Mutators

    static func mutateBytes(_ original: [UInt8], using random: inout SeededGenerator) -> [UInt8] {
        var bytes = original
        let position = Int.random(in: 0..<max(1, bytes.count), using: &random)
        switch Int.random(in: 0..<9, using: &random) {
        case 0:  // flip one byte
            bytes[position] = UInt8.random(in: 0...255, using: &random)
        case 1:  // flip one bit in several places
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                bytes[at] ^= 1 << UInt8.random(in: 0...7, using: &random)
            }
        case 2:  // truncate
            bytes = Array(bytes.prefix(position))
        case 3:  // delete a span
            let end = min(bytes.count, position + Int.random(in: 1...40, using: &random))
            bytes.removeSubrange(position..<end)
        case 4:  // duplicate a span (duplicate keys, repeated members)
            let end = min(bytes.count, position + Int.random(in: 1...80, using: &random))
            bytes.insert(contentsOf: bytes[position..<end], at: end)
        case 5:  // insert odd Unicode or escapes
            let insertions = ["\u{0}", "\\ud800", "\\u0000", "😀", "\u{FFFF}", "\u{202E}", "\\", "\"", "{", "[", "}", "]", ",", ":", "NaN", "1e999", "-0", "\t", "\r\n"]
            let text = insertions[Int.random(in: 0..<insertions.count, using: &random)]
            bytes.insert(contentsOf: Array(text.utf8), at: position)
        case 6:  // random garbage
            let garbage = (0..<Int.random(in: 1...16, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            bytes.insert(contentsOf: garbage, at: position)
        case 7:  // deep nesting
            let depth = Int.random(in: 50...2_000, using: &random)
            bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "["), count: depth), at: position)
        default:  // a huge string
            bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "a"), count: Int.random(in: 1_000...30_000, using: &random)), at: position)
        }
        return bytes
    }

    static func mutateValue(_ value: JSONValue, using random: inout SeededGenerator, depth: Int) -> JSONValue {
        // Descend into a random member or element most of the time; otherwise replace here.
        if depth < 8, Int.random(in: 0..<4, using: &random) != 0 {
            switch value {
            case .object(var object) where !object.isEmpty:
                let position = Int.random(in: 0..<object.count, using: &random)
                let key = object[position].key
                if Int.random(in: 0..<6, using: &random) == 0 {
                    // Rename a key (possibly onto an existing one, which replaces it).
                    let member = object.removeValue(forKey: key) ?? .null
                    object[Self.randomString(using: &random)] = member
                } else {
                    object[key] = mutateValue(object[position].value, using: &random, depth: depth + 1)
                }
                return .object(object)
            case .array(var array) where !array.isEmpty:
                let position = Int.random(in: 0..<array.count, using: &random)
                array[position] = mutateValue(array[position], using: &random, depth: depth + 1)
                return .array(array)
            default:
                break
            }
        }
        return randomReplacement(for: value, using: &random)
    }

    static func randomReplacement(for value: JSONValue, using random: inout SeededGenerator) -> JSONValue {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .number(JSONNumber(Int64.random(in: Int64.min...Int64.max, using: &random)))
        case 3: return JSONNumber(Double.random(in: -1e300...1e300, using: &random)).map(JSONValue.number) ?? .null
        case 4: return .string(randomString(using: &random))
        case 5: return .string(String(repeating: "long", count: Int.random(in: 250...5_000, using: &random)))
        case 6: return [value, value]
        case 7: return ["wrapped": value]
        case 8:
            var nested = value
            for _ in 0..<Int.random(in: 10...100, using: &random) { nested = [nested] }
            return nested
        default:
            // Same value as a string (type swap true → "true", 0 → "0").
            return .string(value.serialized())
        }
    }

    static func randomString(using random: inout SeededGenerator) -> String {
        oddStrings[Int.random(in: 0..<oddStrings.count, using: &random)]
    }
}
