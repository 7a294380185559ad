import FactoryModel
import Foundation
import JSONSchema
import Testing

@Suite("Resource and operator manifests")
struct ManifestTests {
    // MARK: - Seed resource

    @Test func seedResourceLoadsAsIs() throws {
        let manifest = try Fixtures.seedResource()
        #expect(manifest.name.rawValue == "pipeline-01")
        #expect(manifest.meta.version == "v1beta")
        #expect(manifest.meta.type == "resource")
        #expect(manifest.meta.tags == ["hightouch-pipeline", "hightouch-operator"])
        #expect(manifest.meta.description == "hightouch-pipeline resource")
        #expect(manifest.resource.operator == "hightouch-factory")
        #expect(manifest.resource.type == "hightouch")
        let spec = manifest.resource.spec
        #expect(spec["model"]?["sourceId"] == "23474")  // quoted: stays a string
        #expect(spec["model"]?["isSchema"] == false)
        #expect(spec["sync"]?["configuration"]?["configVersion"] == 0)
        #expect(spec["sync"]?["configuration"]?["mappings"] == [])
        #expect(spec["sync"]?["schedule"]?["schedule"]?["expression"] == "*/5 * * * *")
        #expect(spec["trigger"] == ["resetCDC": false, "fullResync": false])
        #expect(spec.objectValue?.keys == ["model", "sync", "trigger"])
        // The JSON form reads back to the same manifest.
        #expect(try ResourceManifest(json: manifest.jsonValue) == manifest)
    }

    @Test func seedSpecValidatesAgainstTheBuiltInSchema() throws {
        let manifest = try Fixtures.seedResource()
        #expect(ResourceTypeRegistry.seedDefault.validate(manifest, workspace: try WorkspaceName("public")).isEmpty)
        #expect(ResourceTypeRegistry.seedDefault.validate(manifest, workspace: try WorkspaceName("sandbox")).isEmpty)
    }

    @Test func jsonResourceManifestLoadsToo() throws {
        let manifest = try Fixtures.seedResource()
        let reloaded = try ResourceManifest.load(from: manifest.jsonValue.serialized(), format: .json)
        #expect(reloaded == manifest)
    }

    // MARK: - Published operator manifest (tabs)

    @Test func publishedOperatorManifestLoadsAndTheTabLinesChangeNothing() throws {
        let published = try Fixtures.text("operator.published.yaml")
        #expect(published.contains("\n\t# NATS cluster configuration"))

        let documents = try YAMLLoader.loadDocuments(published)
        #expect(documents.count == 1)
        #expect(documents[0].repairedTabLines == [13, 14, 20, 60, 184])

        // Same documents as the copy with the tabs replaced by spaces, member order included.
        let tabFree = try YAMLLoader.loadDocuments(Fixtures.text("operator.yaml"))
        #expect(tabFree[0].repairedTabLines.isEmpty)
        #expect(documents[0].value.serialized() == tabFree[0].value.serialized())

        let manifest = try OperatorManifest.load(from: published)
        #expect(manifest.meta.name == "hightouch-factory")
        #expect(manifest.operator.enabledWorkspaces.map(\.rawValue) == ["public", "sandbox"])
    }

    @Test func publishedOperatorManifestIsRefusedWithLineAndColumnWhenRepairIsOff() throws {
        let published = try Fixtures.text("operator.published.yaml")
        let error = try #require(throws: ManifestError.self) {
            try OperatorManifest.load(from: published, yamlOptions: YAMLLoadingOptions(tabs: .refuse))
        }
        #expect(error.kind == .tabCharacter)
        #expect(error.line == 13)
        #expect(error.column == 1)
        #expect(error.description.hasPrefix("line 13, column 1: "))
        #expect(error.message.contains("replace the tab with spaces"))
    }

    @Test func tabsThatArePartOfAValueAreNeverRewritten() throws {
        // A tab-only line inside a literal block scalar is a blank line of the value: deleting it
        // would change the string, so the loader refuses instead of guessing.
        let yaml = "key: |\n  line one\n\t\n  line three\nother: 1\n"
        let error = try #require(throws: ManifestError.self) { try YAMLLoader.loadDocuments(yaml) }
        #expect(error.kind == .tabCharacter)
        #expect(error.line == 3)
        #expect(error.message.contains("part of a value"))
        // A tab that indents content (not a blank or comment line) is never touched.
        let content = try #require(throws: ManifestError.self) { try YAMLLoader.loadDocuments("a:\n\tb: 1\n") }
        #expect(content.kind == .syntax)
        #expect(content.line == 2)
        #expect(content.message.contains("tab"))
    }

    @Test func tabFreeOperatorManifestYieldsSubjectsEnvironmentAndWorkspaces() throws {
        let manifest = try OperatorManifest.load(fromFile: Fixtures.url("operator.yaml").path)
        #expect(manifest.meta.version == "v1alpha")
        #expect(manifest.meta.layer == "user")
        #expect(manifest.meta.tags == ["operator", "hightouch"])
        #expect(manifest.operator.natsClusterConfig == NATSClusterConfig(name: "hightouchnats", compute: "runnable-default", runAsUser: "minerva-cluster"))

        let component = try #require(manifest.operator.components.first)
        #expect(manifest.operator.components.count == 1)
        #expect(component.name == "hightouch-controller")
        #expect(component.type == "worker")
        #expect(component.image == "docker.io/rubiklabs/hightouch-operator:0.0.3-dev")
        #expect(component.imagePullSecret == "dataos-container-registry")
        #expect(component.command == ["/opt/tmdc-io/hightouch-operator"])
        #expect(component.arguments == ["operator", "sync", "--electionStateFile", "/opt/tmdc-io/leader-election.log"])
        #expect(component.replicas == 1)
        #expect(component.ports == [ComponentPort(name: "metrics", servicePort: 30001, targetPort: 30001)])
        let environment = component.environmentVars
        #expect(environment.count == 18)
        #expect(environment["LOG_LEVEL"] == "info")
        #expect(environment["METRIC_PORT"] == "30001")
        #expect(environment["ELECTION_CLUSTER_SIZE"] == "1")
        #expect(environment["MESSAGE_DURABILITY"] == "true")
        #expect(environment["OPERATOR_RECONCILE_WORKERS_INTERVAL"] == "10s")
        #expect(environment["ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT"] == "hightouch.pipeline.run")
        #expect(environment["HIGHTOUCH_SERVICE_BASE_PATH"] == "/api/v1")

        let hightouch = try #require(manifest.resourceType(named: "hightouch"))
        #expect(hightouch.isRunnable)
        #expect(hightouch.natsAPI == NATSAPIConfig.hightouchDefault)
        #expect(hightouch.natsAPI.command.stream == "dataos-hightouch-entities")
        #expect(hightouch.natsAPI.command.subject == "hightouch.pipeline.run")
        #expect(hightouch.natsAPI.query.subject == "hightouch.pipeline.run.query")
        #expect(hightouch.natsAPI.query.replySubject == "dataos.operator.hightouch.reply")
        #expect(manifest.operator.enabledWorkspaces.map(\.rawValue) == ["public", "sandbox"])

        // The built-in default schema is the seed's schema.
        #expect(try JSONValue(parsing: hightouch.specSchemaText) == JSONValue(parsing: BuiltInSchemas.hightouchSpecJSONSchema))

        let registry = ResourceTypeRegistry(operatorManifest: manifest)
        #expect(registry.validate(try Fixtures.seedResource(), workspace: try WorkspaceName("public")).isEmpty)
    }

    @Test func examplesFolderMatchesTheFixtures() throws {
        let examples = Fixtures.packageRoot.appendingPathComponent("examples")
        #expect(try String(contentsOf: examples.appendingPathComponent("resource.yaml"), encoding: .utf8) == Fixtures.text("resource.yaml"))
        #expect(try String(contentsOf: examples.appendingPathComponent("operator.yaml"), encoding: .utf8) == Fixtures.text("operator.yaml"))
        #expect(try Fixtures.text("operator.published.yaml").replacingOccurrences(of: "\t", with: "  ") == Fixtures.text("operator.yaml"))
    }

    // MARK: - Spec validation

    @Test func invalidSpecsGiveThePointerKeywordAndMessage() throws {
        let registry = ResourceTypeRegistry.seedDefault
        func problems(_ edit: (inout JSONObject) -> Void) throws -> [ResourceValidationError] {
            var manifest = try Fixtures.seedResource()
            manifest.resource.spec = try Fixtures.seedSpec(edit)
            return registry.validate(manifest)
        }

        let wrongType = try problems { $0.edit("model") { $0["isSchema"] = "false" } }
        #expect(wrongType.map(\.description) == ["/spec/model/isSchema: expected boolean, got string"])
        #expect(wrongType.first?.keyword == "type")
        #expect(wrongType.first?.reason == .schemaViolation)

        let missing = try problems { $0["sync"] = nil }
        #expect(missing.map(\.description) == ["/spec: missing required property \"sync\""])
        #expect(missing.first?.keyword == "required")

        let extra = try problems { $0.edit("trigger") { $0["runNow"] = true } }
        #expect(extra.first?.description.hasPrefix("/spec/trigger/runNow: property \"runNow\" is not allowed") == true)
        #expect(extra.first?.keyword == "additionalProperties")

        let nullSchedule = try problems { $0.edit("sync") { $0["schedule"] = .null } }
        #expect(nullSchedule.map(\.description) == ["/spec/sync/schedule: expected object, got null"])

        let notAnObject = try problems { $0 = ["model": "x"] }
        #expect(notAnObject.map(\.description).contains("/spec/model: expected object, got string"))
    }

    @Test func everyErrorIsListedAndCapped() throws {
        var manifest = try Fixtures.seedResource()
        manifest.resource.spec = try Fixtures.seedSpec { spec in
            spec.edit("model") {
                $0["isSchema"] = "no"
                $0["sourceId"] = 23474
                $0["slug"] = nil
                $0["colour"] = "red"
            }
            spec.edit("sync") { $0["disabled"] = "false" }
            spec.edit("trigger") { $0["fullResync"] = 1 }
        }
        let all = ResourceTypeRegistry.seedDefault.validate(manifest)
        #expect(all.map(\.description) == [
            "/spec/model/sourceId: expected string, got integer",
            "/spec/model/isSchema: expected boolean, got string",
            "/spec/model/colour: property \"colour\" is not allowed; allowed properties are name, slug, queryType, sourceId, isSchema, primaryKey, visual, custom, table, raw, folderId, dbt",
            "/spec/model: missing required property \"slug\"",
            "/spec/sync/disabled: expected boolean, got string",
            "/spec/trigger/fullResync: expected boolean, got integer",
        ])
        #expect(ResourceTypeRegistry.seedDefault.validate(manifest, maxErrors: 2).count == 2)
    }

    @Test func unknownTypeAndDisabledWorkspaceAreReported() throws {
        var manifest = try Fixtures.seedResource()
        manifest.resource.type = "fivetran"
        let problems = ResourceTypeRegistry.seedDefault.validate(manifest, workspace: try WorkspaceName("prod"))
        #expect(problems.map(\.reason) == [.workspaceNotEnabled, .unknownResourceType])
        #expect(problems.map(\.description) == [
            "workspace \"prod\" is not enabled; enabled workspaces: public, sandbox",
            "/type: unknown resource type \"fivetran\"; known types: hightouch",
        ])
    }

    // MARK: - Manifest shape errors

    @Test(arguments: [
        ("version: v1\ntype: resource\nresource: {operator: o, type: hightouch, spec: {}}\n", ManifestError.Kind.missingField, "/name"),
        ("name: p\nversion: v1\ntype: operator\nresource: {operator: o, type: hightouch, spec: {}}\n", .invalidValue, "/type"),
        ("name: Pipeline\nversion: v1\ntype: resource\nresource: {operator: o, type: hightouch, spec: {}}\n", .invalidName, "/name"),
        ("name: p\nversion: v1\ntype: resource\ntags: x\nresource: {operator: o, type: hightouch, spec: {}}\n", .wrongType, "/tags"),
        ("name: p\nversion: v1\ntype: resource\nresource: {operator: o, type: hightouch}\n", .missingField, "/resource/spec"),
        ("name: p\nversion: v1\ntype: resource\nresource: [1]\n", .wrongType, "/resource"),
        ("name: p\nversion: 1\ntype: resource\nresource: {operator: o, type: hightouch, spec: {}}\n", .wrongType, "/version"),
        ("- just\n- a list\n", .wrongType, ""),
    ])
    func malformedResourceManifestsNameTheField(yaml: String, kind: ManifestError.Kind, field: String) throws {
        let error = try #require(throws: ManifestError.self) { try ResourceManifest.load(from: yaml) }
        #expect(error.kind == kind, "\(error)")
        #expect((error.field ?? .root).description == field)
        #expect(error.line != nil)
    }

    @Test func operatorManifestErrorsNameTheField() throws {
        let base = try Fixtures.text("operator.yaml")
        func error(_ replace: String, with replacement: String) throws -> ManifestError {
            #expect(base.contains(replace))
            return try #require(throws: ManifestError.self) {
                try OperatorManifest.load(from: base.replacingOccurrences(of: replace, with: replacement))
            }
        }
        let schema = try error(#""type": "object","#, with: #""type": "object", "unevaluatedProperties": false,"#)
        #expect(schema.kind == .invalidSchema)
        #expect(schema.field?.description == "/operator/resources/0/specSchema/jsonSchema")
        #expect(schema.message.contains("unevaluatedProperties"))

        let port = try error("servicePort: 30001", with: "servicePort: 70000")
        #expect(port.kind == .invalidValue)
        #expect(port.field?.description == "/operator/components/0/ports/0/servicePort")
        #expect(port.line == 57)

        let workspace = try error("    - sandbox", with: "    - Sand.Box")
        #expect(workspace.kind == .invalidName)
        #expect(workspace.field?.description == "/operator/enabledWorkspaces/1")

        let environment = try error("LOG_LEVEL: info", with: "LOG_LEVEL:")
        #expect(environment.field?.description == "/operator/components/0/environmentVars/LOG_LEVEL")

        let subject = try error("subject: hightouch.pipeline.run.query", with: "subject: hightouch.*.query")
        #expect(subject.field?.description == "/operator/resources/0/natsApi/query/subject")
    }

    @Test func multipleResourceDocumentsLoadIndependently() throws {
        let seed = try Fixtures.text("resource.yaml")
        let second = seed.replacingOccurrences(of: "name: pipeline-01", with: "name: pipeline-02")
        let broken = seed.replacingOccurrences(of: "name: pipeline-01", with: "name: Pipeline_03")
        let results = try ResourceManifest.loadAll(from: seed + "\n---\n" + second + "\n---\n" + broken + "\n---\n")
        #expect(results.count == 3)
        #expect(try results[0].get().name.rawValue == "pipeline-01")
        #expect(try results[1].get().name.rawValue == "pipeline-02")
        guard case .failure(let error) = results[2] else {
            Issue.record("the third document should fail")
            return
        }
        #expect(error.document == 3)
        #expect(error.kind == .invalidName)
    }

    // MARK: - factoryctl validate's logic

    @Test func resourceFileValidatorReportsLikeTheCommandLine() throws {
        let seed = try Fixtures.text("resource.yaml")
        let registry = ResourceTypeRegistry.seedDefault
        #expect(ResourceFileValidator.validate(text: seed, format: .yaml, registry: registry).isValid)
        #expect(ResourceFileValidator.validate(text: seed, format: .yaml, registry: registry, workspace: "public").isValid)

        let invalid = seed.replacingOccurrences(of: "isSchema: false", with: "isSchema: \"false\"")
        let report = ResourceFileValidator.validate(text: invalid, format: .yaml, registry: registry)
        #expect(report.problems == ["/spec/model/isSchema: expected boolean, got string"])

        let twoDocuments = ResourceFileValidator.validate(text: seed + "---\n" + invalid, format: .yaml, registry: registry, workspace: "prod")
        #expect(twoDocuments.problems == [
            "workspace \"prod\" is not enabled; enabled workspaces: public, sandbox",
            "document 2 (pipeline-01): /spec/model/isSchema: expected boolean, got string",
        ])
        let syntax = ResourceFileValidator.validate(text: "a: [1,\n", format: .yaml, registry: registry)
        #expect(syntax.problems.count == 1)
        #expect(syntax.problems[0].hasPrefix("line 2, column 1: "))
    }
}
