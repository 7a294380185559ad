import Foundation
import JSONSchema

/// A resource manifest: the meta section plus the `resource` section (operator, type, spec).
///
/// ```yaml
/// version: v1beta
/// name: pipeline-01
/// type: resource
/// tags: [hightouch-pipeline]
/// description: hightouch-pipeline resource
/// resource:
///   operator: hightouch-factory
///   type: hightouch
///   spec: { … validated against the type's spec schema … }
/// ```
///
/// Loading checks the shape and the name rule; the `spec` is validated separately against its
/// type's schema (``ResourceTypeRegistry/validate(_:workspace:)``).
public struct ResourceManifest: Sendable, Hashable {
    /// The `resource` section.
    public struct ResourceSection: Sendable, Hashable {
        /// The operator that manages the resource, e.g. `hightouch-factory`.
        public var `operator`: String
        /// The resource type, e.g. `hightouch`; it selects the spec schema.
        public var type: String
        /// The vendor-specific spec, validated against the type's schema.
        public var spec: JSONValue
        /// Other fields of the section, kept as written.
        public var additionalFields: JSONObject

        public init(operator: String, type: String, spec: JSONValue, additionalFields: JSONObject = JSONObject()) {
            self.operator = `operator`
            self.type = type
            self.spec = spec
            self.additionalFields = additionalFields
        }
    }

    /// The meta section (its `name` is also in ``name``, checked against the name rule).
    public var meta: ManifestMeta
    /// The resource name, a valid NATS/KV token.
    public var name: ResourceName
    public var resource: ResourceSection

    public init(name: ResourceName, version: String, tags: [String] = [], description: String? = nil, resource: ResourceSection) {
        self.name = name
        self.meta = ManifestMeta(name: name.rawValue, version: version, type: "resource", tags: tags, description: description)
        self.resource = resource
    }

    // MARK: - Loading

    /// Reads a resource manifest from its JSON form.
    /// - Throws: ``ManifestError`` naming the field (e.g. `/resource/spec`).
    public init(json value: JSONValue) throws(ManifestError) {
        let fields = try ManifestFields(value, at: .root, describedAs: "a resource manifest")
        meta = try ManifestMeta(fields: fields, expectedType: "resource", sectionName: "resource")
        do {
            name = try ResourceName(meta.name)
        } catch {
            throw fields.invalidName("name", error)
        }
        let section = try fields.fields("resource", describedAs: "the resource section")
        let resourceType = try section.string("type")
        do {
            try NameRule.validate(resourceType, as: .resourceType)
        } catch {
            throw section.invalidName("type", error)
        }
        guard let spec = section.value("spec") else { throw section.missing("spec") }
        resource = ResourceSection(
            operator: try section.string("operator"),
            type: resourceType,
            spec: spec,
            additionalFields: section.additionalFields(excluding: ["operator", "type", "spec"]))
    }

    /// Reads a resource manifest from one loaded YAML (or JSON) document; errors carry the
    /// document number and, for YAML, the line and column.
    public init(document: YAMLDocument) throws(ManifestError) {
        do {
            try self.init(json: document.value)
        } catch {
            throw error.located(document: document.number, using: document)
        }
    }

    /// Loads every resource manifest in `text` (YAML, or JSON when `format` is `.json`).
    /// Each document gives its own result, so one bad document does not hide the others.
    public static func loadAll(from text: String, format: ManifestFormat = .yaml) throws(ManifestError) -> [Result<ResourceManifest, ManifestError>] {
        try ManifestLoader.documents(from: text, format: format).map { document in
            Result { () throws(ManifestError) -> ResourceManifest in try ResourceManifest(document: document) }
        }
    }

    /// Loads exactly one resource manifest from `text`.
    public static func load(from text: String, format: ManifestFormat = .yaml) throws(ManifestError) -> ResourceManifest {
        let documents = try ManifestLoader.documents(from: text, format: format)
        guard documents.count == 1, let document = documents.first else {
            throw ManifestError(kind: documents.isEmpty ? .empty : .invalidValue, message: "expected one resource manifest, found \(documents.count) documents")
        }
        return try ResourceManifest(document: document)
    }

    // MARK: - JSON form

    /// The manifest as JSON, meta fields first, then `resource`; extra fields are kept.
    public var jsonValue: JSONValue {
        var meta = self.meta
        meta.name = name.rawValue
        var section: [(String, JSONValue)] = [("operator", .string(resource.operator)), ("type", .string(resource.type)), ("spec", resource.spec)]
        section += resource.additionalFields.map { ($0.key, $0.value) }
        return .object(JSONObject(meta.jsonMembers + [("resource", .object(JSONObject(section)))]))
    }
}
