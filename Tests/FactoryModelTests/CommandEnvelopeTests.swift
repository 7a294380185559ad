import FactoryModel
import Foundation
import JSONSchema
import Testing

@Suite("Command envelope")
struct CommandEnvelopeTests {
    static func applyBytes() throws -> [UInt8] {
        CommandEnvelope.apply(try Fixtures.seedResource(), workspace: try WorkspaceName("public")).encoded()
    }

    /// The seed apply command as a JSON object, changed by `edit`.
    static func applyJSON(_ edit: (inout JSONObject) -> Void) throws -> [UInt8] {
        var object = try #require(try JSONValue(parsing: applyBytes()).objectValue)
        edit(&object)
        return JSONValue.object(object).serializedBytes()
    }

    private func rejection(_ bytes: [UInt8], limits: CommandDecodingLimits = .default) throws -> CommandRejection {
        try #require(throws: CommandRejection.self) { try CommandEnvelope(decoding: bytes, limits: limits) }
    }

    private func rejection(_ text: String) throws -> CommandRejection {
        try rejection(Array(text.utf8))
    }

    // MARK: - Round trip

    @Test func applyRoundTripsAndDefaultsToVersion1() throws {
        let manifest = try Fixtures.seedResource()
        let envelope = CommandEnvelope.apply(manifest, workspace: try WorkspaceName("public"))
        let decoded = try CommandEnvelope(decoding: envelope.encoded())
        #expect(decoded == envelope)
        #expect(decoded.operation == .apply)
        #expect(decoded.resource == ResourceReference(name: try ResourceName("pipeline-01"), type: "hightouch"))

        let withoutVersion = try Self.applyJSON { $0["version"] = nil }
        #expect(try CommandEnvelope(decoding: withoutVersion).version == 1)
        let json = envelope.jsonValue
        #expect(json["op"] == "apply")
        #expect(json["workspace"] == "public")
        #expect(json["version"] == 1)
        #expect(json["resource"]?["resource"]?["spec"] == manifest.resource.spec)
    }

    /// `"adopt": true` beside `op` (factoryctl apply --adopt): version 1 still, written only when
    /// set (a plain apply's bytes and message id are unchanged), part of the message id.
    @Test func adoptIsAnOptionalMemberOfApply() throws {
        let workspace = try WorkspaceName("public")
        let plain = CommandEnvelope.apply(try Fixtures.seedResource(), workspace: workspace)
        let adopt = CommandEnvelope.apply(try Fixtures.seedResource(), workspace: workspace, adopt: true)
        #expect(!plain.adopt && adopt.adopt)
        let plainBytes = try Self.applyBytes()
        #expect(plain.jsonValue["adopt"] == nil && plain.encoded() == plainBytes, "a plain apply is what it always was")
        #expect(adopt.jsonValue["adopt"] == true && adopt.jsonValue["version"] == 1)
        #expect(String(decoding: adopt.encoded(), as: UTF8.self).hasPrefix(#"{"version":1,"op":"apply","adopt":true,"workspace":"public","#))
        #expect(adopt.deduplicationID != plain.deduplicationID, "an apply --adopt after a refused apply is not its duplicate")
        let decoded = try CommandEnvelope(decoding: adopt.encoded())
        #expect(decoded == adopt && decoded.adopt)
        // false is accepted and is the plain apply.
        let explicitFalse = try CommandEnvelope(decoding: try Self.applyJSON { $0["adopt"] = false })
        #expect(explicitFalse == plain && explicitFalse.deduplicationID == plain.deduplicationID)
        // Not a boolean: refused, naming the field.
        for bad: JSONValue in ["true", 1, .null] {
            let refused = try rejection(try Self.applyJSON { $0["adopt"] = bad })
            #expect(refused.reason == .wrongType && refused.field == "/adopt", "\(refused)")
        }
        // On another op it means nothing and is dropped (as an older replica drops it on apply).
        let run = try CommandEnvelope(decoding: Array(#"{"op":"run","adopt":true,"workspace":"public","resource":{"name":"p"}}"#.utf8))
        #expect(!run.adopt && run.jsonValue["adopt"] == nil)
        #expect(!CommandEnvelope(workspace: workspace, payload: .run(ResourceReference(name: try ResourceName("p"))), adopt: true).adopt)
    }

    @Test func deleteAndRunNeedOnlyAName() throws {
        let delete = try CommandEnvelope(decoding: Array(#"{"op":"delete","workspace":"public","resource":{"name":"pipeline-01"}}"#.utf8))
        #expect(delete.payload == .delete(ResourceReference(name: try ResourceName("pipeline-01"))))
        #expect(delete.resource.type == nil, "the type of the subject it is sent on")
        let run = try CommandEnvelope(decoding: Array(#"{"version":1,"op":"run","workspace":"sandbox","resource":{"name":"p","type":"fivetran"}}"#.utf8))
        #expect(run.resource.type == "fivetran")
        // A full manifest is accepted for run; the type then comes from resource.type.
        let full = try Self.applyJSON { $0["op"] = "run" }
        #expect(try CommandEnvelope(decoding: full).payload == .run(ResourceReference(name: try ResourceName("pipeline-01"), type: "hightouch")))
        // The encoder writes the short form, and it reads back.
        #expect(try CommandEnvelope(decoding: run.encoded()) == run)
    }

    @Test func deduplicationIDDependsOnlyOnContent() throws {
        let envelope = CommandEnvelope.apply(try Fixtures.seedResource(), workspace: try WorkspaceName("public"))
        var reordered = try #require(envelope.jsonValue.objectValue)
        let workspace = reordered.removeValue(forKey: "workspace")
        reordered["workspace"] = workspace
        let decoded = try CommandEnvelope(decoding: JSONValue.object(reordered).serializedBytes())
        #expect(decoded.deduplicationID == envelope.deduplicationID)
        #expect(envelope.deduplicationID.count == 64)
        let other = CommandEnvelope.apply(try Fixtures.seedResource(), workspace: try WorkspaceName("sandbox"))
        #expect(other.deduplicationID != envelope.deduplicationID)
    }

    // MARK: - Refusals, one per reason

    @Test func refusesOversizeBeforeParsing() throws {
        let limits = CommandDecodingLimits(maxBytes: 100)
        let error = try rejection(Array(repeating: UInt8(ascii: "x"), count: 101), limits: limits)
        #expect(error.reason == .oversize)
        #expect(error.message.contains("101 bytes"))
        #expect(try rejection(Self.applyBytes(), limits: limits).reason == .oversize)
        // The default limit is 1 MiB.
        let padding = String(repeating: " ", count: 1 << 20)
        #expect(try rejection("{}" + padding).reason == .oversize)
    }

    @Test(arguments: [
        ("not json", CommandRejection.Reason.notJSON, ""),
        ("{\"op\":\"apply\",\"op\":\"run\"}", .notJSON, ""),
        ("[1]", .notAnObject, "/"),
        ("{\"version\":2,\"op\":\"apply\"}", .unsupportedVersion, "/version"),
        ("{\"version\":0,\"op\":\"apply\"}", .unsupportedVersion, "/version"),
        ("{\"version\":\"1\",\"op\":\"apply\"}", .wrongType, "/version"),
        ("{\"workspace\":\"public\"}", .missingField, "/op"),
        ("{\"op\":5}", .wrongType, "/op"),
        ("{\"op\":\"upsert\",\"workspace\":\"public\"}", .unknownOp, "/op"),
        ("{\"op\":\"APPLY\"}", .unknownOp, "/op"),
        ("{\"op\":\"delete\"}", .missingField, "/workspace"),
        ("{\"op\":\"delete\",\"workspace\":[\"public\"]}", .wrongType, "/workspace"),
        ("{\"op\":\"delete\",\"workspace\":\"Public.Prod\"}", .invalidName, "/workspace"),
        ("{\"op\":\"delete\",\"workspace\":\"public\"}", .missingField, "/resource"),
        ("{\"op\":\"delete\",\"workspace\":\"public\",\"resource\":\"pipeline-01\"}", .wrongType, "/resource"),
        ("{\"op\":\"delete\",\"workspace\":\"public\",\"resource\":{}}", .missingField, "/resource/name"),
        ("{\"op\":\"delete\",\"workspace\":\"public\",\"resource\":{\"name\":1}}", .wrongType, "/resource/name"),
        ("{\"op\":\"run\",\"workspace\":\"public\",\"resource\":{\"name\":\"a.b\"}}", .invalidName, "/resource/name"),
        ("{\"op\":\"run\",\"workspace\":\"public\",\"resource\":{\"name\":\"a\",\"type\":\"x y\"}}", .invalidName, "/resource/type"),
        ("{\"op\":\"apply\",\"workspace\":\"public\",\"resource\":{\"name\":\"a\"}}", .missingField, "/resource/version"),
    ])
    func refusesMalformedCommandsNamingTheField(text: String, reason: CommandRejection.Reason, field: String) throws {
        let error = try rejection(text)
        #expect(error.reason == reason, "\(text): \(error)")
        #expect((error.field.map { $0.isRoot ? "/" : $0.description } ?? "") == field, "\(text): \(error)")
        #expect(error.description.hasPrefix(reason.rawValue + ": "))
    }

    @Test func applyManifestProblemsAreLocatedInsideTheResource() throws {
        let badName = try rejection(Self.applyJSON { $0.edit("resource") { $0["name"] = "Pipeline 01" } })
        #expect(badName.reason == .invalidName)
        #expect(badName.field?.description == "/resource/name")
        let noSpec = try rejection(Self.applyJSON { $0.edit("resource") { $0.edit("resource") { $0["spec"] = nil } } })
        #expect(noSpec.reason == .missingField)
        #expect(noSpec.field?.description == "/resource/resource/spec")
        let wrongKind = try rejection(Self.applyJSON { $0.edit("resource") { $0["type"] = "operator" } })
        #expect(wrongKind.reason == .invalidManifest)
    }

    // MARK: - The operator's one-call validation

    @Test func validatorAcceptsTheSeedApply() throws {
        let result = CommandValidator().validate(try Self.applyBytes())
        let command = try result.get()
        #expect(command.resourceType.name == "hightouch")
        #expect(command.envelope.workspace.rawValue == "public")
    }

    @Test func validatorRefusesDisabledWorkspacesUnknownTypesAndSchemaViolations() throws {
        let validator = CommandValidator()
        func reason(_ bytes: [UInt8]) -> CommandRejection? {
            if case .failure(let rejection) = validator.validate(bytes) { return rejection }
            return nil
        }
        let foreign = try #require(reason(Self.applyJSON { $0["workspace"] = "prod" }))
        #expect(foreign.reason == .workspaceNotEnabled)
        #expect(foreign.field?.description == "/workspace")

        let unknown = try #require(reason(Array(#"{"op":"delete","workspace":"public","resource":{"name":"p","type":"census"}}"#.utf8)))
        #expect(unknown.reason == .unknownResourceType)

        let invalid = try #require(reason(Self.applyJSON { command in
            command.edit("resource") { manifest in
                manifest.edit("resource") { section in
                    section.edit("spec") { spec in
                        spec.edit("model") { $0["isSchema"] = "false" }
                        spec["trigger"] = "now"
                    }
                }
            }
        }))
        #expect(invalid.reason == .schemaViolation)
        #expect(invalid.violations.map(\.description) == [
            "/spec/model/isSchema: expected boolean, got string", "/spec/trigger: expected object, got string",
        ])

        let many = CommandValidator(maxViolations: 1)
        if case .failure(let capped) = many.validate(try Self.applyJSON { command in
            command.edit("resource") { $0.edit("resource") { $0["spec"] = ["a": 1, "b": 2, "c": 3] } }
        }) {
            #expect(capped.violations.count == 1)
        } else {
            Issue.record("expected a schema violation")
        }
    }

    @Test func validatorRefusesRunOnNonRunnableTypes() throws {
        var definition = try ResourceTypeDefinition.hightouchDefault()
        definition.isRunnable = false
        let validator = CommandValidator(registry: ResourceTypeRegistry(types: [definition], enabledWorkspaces: [try WorkspaceName("public")]))
        guard case .failure(let rejection) = validator.validate(Array(#"{"op":"run","workspace":"public","resource":{"name":"p"}}"#.utf8)) else {
            Issue.record("expected notRunnable")
            return
        }
        #expect(rejection.reason == .notRunnable)
    }

    // MARK: - Identity of invalid commands

    @Test func identifiesWorkspaceAndNameEvenInInvalidCommands() throws {
        let seed = try Self.applyBytes()
        let valid = CommandIdentity.identify(seed)
        #expect(valid == CommandIdentity(workspace: try WorkspaceName("public"), resourceName: try ResourceName("pipeline-01"), operation: .apply))

        // Truncated JSON: the names before the cut are still found.
        let truncated = CommandIdentity.identify(seed.prefix(seed.count - 40))
        #expect(truncated.workspace?.rawValue == "public")
        #expect(truncated.resourceName?.rawValue == "pipeline-01")

        // Oversize: only a prefix is scanned.
        var huge = Array(#"{"op":"apply","workspace":"sandbox","resource":{"name":"big-one","resource":{"spec":{"x":""#.utf8)
        huge += Array(repeating: UInt8(ascii: "a"), count: 3 << 20)
        let oversize = CommandIdentity.identify(huge)
        #expect(oversize.workspace?.rawValue == "sandbox")
        #expect(oversize.resourceName?.rawValue == "big-one")

        // Nested "name" keys elsewhere are not mistaken for the resource name.
        let nested = CommandIdentity.identify(Array(#"{"resource":{"resource":{"name":"inner"},"name":"outer"},"workspace":"public","op":"bogus"#.utf8))
        #expect(nested.resourceName?.rawValue == "outer")
        #expect(nested.operation == nil)

        // Names that break the rule are never returned.
        let unsafe = CommandIdentity.identify(Array(#"{"workspace":"a.b","resource":{"name":"x>"}}"#.utf8))
        #expect(unsafe == CommandIdentity())
        #expect(CommandIdentity.identify([0xFF, 0x00, 0x7B]) == CommandIdentity())
    }
}

@Suite("Command rejection reasons")
struct CommandRejectionCoverageTests {
    /// One command per reason; fails when a reason is added without a way to reach it here.
    @Test func everyReasonIsReachable() throws {
        var definition = try ResourceTypeDefinition.hightouchDefault()
        definition.isRunnable = false
        let strict = CommandValidator(
            registry: ResourceTypeRegistry(types: [definition], enabledWorkspaces: [try WorkspaceName("public")]),
            limits: CommandDecodingLimits(maxBytes: 4_096))
        let apply = String(decoding: try CommandEnvelopeTests.applyBytes(), as: UTF8.self)
        let samples: [CommandRejection.Reason: String] = [
            .oversize: String(repeating: " ", count: 5_000),
            .notJSON: "{",
            .notAnObject: "true",
            .unsupportedVersion: #"{"version": 9}"#,
            .unknownOp: #"{"op": "patch"}"#,
            .missingField: #"{"op": "run"}"#,
            .wrongType: #"{"op": "run", "workspace": 1}"#,
            .invalidName: #"{"op": "run", "workspace": "Public"}"#,
            .invalidManifest: apply.replacingOccurrences(of: #""type":"resource""#, with: #""type":"pipeline""#),
            .workspaceNotEnabled: apply.replacingOccurrences(of: #""workspace":"public""#, with: #""workspace":"sandbox""#),
            .unknownResourceType: #"{"op": "delete", "workspace": "public", "resource": {"name": "p", "type": "dbt"}}"#,
            .schemaViolation: apply.replacingOccurrences(of: #""isSchema":false"#, with: #""isSchema":0"#),
            .notRunnable: #"{"op": "run", "workspace": "public", "resource": {"name": "p"}}"#,
        ]
        #expect(Set(samples.keys) == Set(CommandRejection.Reason.allCases))
        for (reason, text) in samples {
            guard case .failure(let rejection) = strict.validate(Array(text.utf8)) else {
                Issue.record("\(reason) sample was accepted")
                continue
            }
            #expect(rejection.reason == reason, "\(text.prefix(80)): \(rejection)")
        }
    }
}
