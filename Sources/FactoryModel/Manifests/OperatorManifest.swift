import Foundation
import JSONSchema

/// An operator manifest: the meta section plus the `operator` section, e.g. the published
/// Hightouch Factory Operator manifest.
///
/// Loading checks every field it models and compiles each resource type's
/// `specSchema.jsonSchema`; fields it does not model are kept in `additionalFields`.
/// The published file's tab-indented blank and comment lines are repaired when that provably
/// changes nothing (see ``YAMLLoader``).
public struct OperatorManifest: Sendable {
    /// The `operator` section.
    public struct OperatorSection: Sendable {
        public var natsClusterConfig: NATSClusterConfig?
        public var components: [OperatorComponent]
        /// The resource types this operator manages.
        public var resources: [ResourceTypeDefinition]
        /// Workspaces commands may target.
        public var enabledWorkspaces: [WorkspaceName]
        /// Other fields of the section, kept as written.
        public var additionalFields: JSONObject

        public init(
            natsClusterConfig: NATSClusterConfig? = nil, components: [OperatorComponent] = [],
            resources: [ResourceTypeDefinition], enabledWorkspaces: [WorkspaceName], additionalFields: JSONObject = JSONObject()
        ) {
            self.natsClusterConfig = natsClusterConfig
            self.components = components
            self.resources = resources
            self.enabledWorkspaces = enabledWorkspaces
            self.additionalFields = additionalFields
        }
    }

    public var meta: ManifestMeta
    public var `operator`: OperatorSection

    public init(meta: ManifestMeta, operator: OperatorSection) {
        self.meta = meta
        self.operator = `operator`
    }

    // MARK: - Loading

    /// Reads an operator manifest from one loaded document.
    /// - Throws: ``ManifestError`` naming the field, and the line and column for YAML.
    public init(document: YAMLDocument) throws(ManifestError) {
        do {
            try self.init(json: document.value, source: document)
        } catch {
            throw error.located(document: document.number, using: document)
        }
    }

    /// Reads an operator manifest from its JSON form.
    public init(json value: JSONValue) throws(ManifestError) {
        try self.init(json: value, source: nil)
    }

    private init(json value: JSONValue, source: YAMLDocument?) throws(ManifestError) {
        let fields = try ManifestFields(value, at: .root, describedAs: "an operator manifest")
        meta = try ManifestMeta(fields: fields, expectedType: "operator", sectionName: "operator")
        let section = try fields.fields("operator", describedAs: "the operator section")

        let natsClusterConfig = try section.optionalFields("natsClusterConfig", describedAs: "natsClusterConfig").map { fields throws(ManifestError) in
            try NATSClusterConfig(fields: fields)
        }
        var components: [OperatorComponent] = []
        for component in try section.list("components", describedAs: "a component") {
            components.append(try OperatorComponent(fields: component, source: source))
        }

        let resourceList = try section.list("resources", describedAs: "a resource type")
        guard !resourceList.isEmpty else {
            throw ManifestError(kind: .missingField, message: "the operator declares no resource types; add at least one under resources", field: section.pointer("resources"))
        }
        var resources: [ResourceTypeDefinition] = []
        for resource in resourceList {
            let definition = try ResourceTypeDefinition(fields: resource)
            if resources.contains(where: { $0.name == definition.name }) {
                throw ManifestError(kind: .invalidValue, message: "resource type \(definition.name) is declared twice", field: resource.location.appending("name"))
            }
            resources.append(definition)
        }

        let workspaceNames = try section.stringArray("enabledWorkspaces")
        guard !workspaceNames.isEmpty else {
            throw ManifestError(kind: .invalidValue, message: "enabledWorkspaces is empty; list the workspaces this operator serves", field: section.pointer("enabledWorkspaces"))
        }
        var workspaces: [WorkspaceName] = []
        for (index, name) in workspaceNames.enumerated() {
            do {
                workspaces.append(try WorkspaceName(name))
            } catch {
                throw section.invalidName("enabledWorkspaces", error, field: section.pointer("enabledWorkspaces").appending(index: index))
            }
        }

        self.operator = OperatorSection(
            natsClusterConfig: natsClusterConfig, components: components, resources: resources,
            enabledWorkspaces: workspaces,
            additionalFields: section.additionalFields(excluding: ["natsClusterConfig", "components", "resources", "enabledWorkspaces"]))
    }

    /// Loads the operator manifest in `text` (YAML, or JSON when `format` is `.json`). The text
    /// must hold exactly one document.
    public static func load(
        from text: String, format: ManifestFormat = .yaml, yamlOptions: YAMLLoadingOptions = YAMLLoadingOptions()
    ) throws(ManifestError) -> OperatorManifest {
        let documents = try ManifestLoader.documents(from: text, format: format, yamlOptions: yamlOptions)
        guard documents.count == 1, let document = documents.first else {
            throw ManifestError(kind: documents.isEmpty ? .empty : .invalidValue, message: "expected one operator manifest, found \(documents.count) documents")
        }
        return try OperatorManifest(document: document)
    }

    /// Loads the operator manifest in the file at `path`.
    public static func load(fromFile path: String, yamlOptions: YAMLLoadingOptions = YAMLLoadingOptions()) throws(ManifestError) -> OperatorManifest {
        try load(from: try ManifestLoader.readText(fromFile: path), format: ManifestFormat.forFile(path: path), yamlOptions: yamlOptions)
    }

    /// The resource type named `name`, if declared.
    public func resourceType(named name: String) -> ResourceTypeDefinition? {
        self.operator.resources.first { $0.name == name }
    }
}
