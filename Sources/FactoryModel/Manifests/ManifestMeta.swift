import JSONSchema

/// The meta section every manifest starts with: `name`, `version`, `type`, `tags`,
/// `description`, and optionally `layer`.
///
/// Fields the loader does not model are kept in ``additionalFields`` (as written, in order), so a
/// manifest with extra DataOS fields still loads and round-trips.
public struct ManifestMeta: Sendable, Hashable {
    /// The manifest's name, e.g. `pipeline-01` or `hightouch-factory`.
    public var name: String
    /// The manifest format version, e.g. `v1beta`.
    public var version: String
    /// The manifest kind: `resource` or `operator`.
    public var type: String
    public var tags: [String]
    public var description: String?
    /// DataOS layer (`user`, `system`), when given.
    public var layer: String?
    /// Top-level fields other than the meta fields and the kind's own section.
    public var additionalFields: JSONObject

    public init(
        name: String, version: String, type: String, tags: [String] = [], description: String? = nil,
        layer: String? = nil, additionalFields: JSONObject = JSONObject()
    ) {
        self.name = name
        self.version = version
        self.type = type
        self.tags = tags
        self.description = description
        self.layer = layer
        self.additionalFields = additionalFields
    }

    static let fieldNames: Set<String> = ["name", "version", "type", "tags", "description", "layer"]

    /// Reads the meta fields and checks `type` is `expectedType`.
    init(fields: ManifestFields, expectedType: String, sectionName: String) throws(ManifestError) {
        name = try fields.string("name")
        version = try fields.string("version")
        type = try fields.string("type")
        guard type == expectedType else {
            throw ManifestError(
                kind: .invalidValue,
                message: "type is \"\(type)\", but a \(expectedType) manifest must have type \"\(expectedType)\"",
                field: fields.pointer("type"))
        }
        tags = try fields.optionalStringArray("tags") ?? []
        description = try fields.optionalString("description")
        layer = try fields.optionalString("layer")
        additionalFields = fields.additionalFields(excluding: Self.fieldNames.union([sectionName]))
    }

    /// The meta fields as JSON members, in manifest order.
    var jsonMembers: [(String, JSONValue)] {
        var members: [(String, JSONValue)] = [("version", .string(version)), ("name", .string(name)), ("type", .string(type))]
        if let layer { members.append(("layer", .string(layer))) }
        members.append(("tags", .array(tags.map(JSONValue.string))))
        if let description { members.append(("description", .string(description))) }
        members += additionalFields.map { ($0.key, $0.value) }
        return members
    }
}
