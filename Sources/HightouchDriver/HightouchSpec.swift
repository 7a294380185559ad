import FactoryEngine
import Hightouch
import JSONSchema
import VendorHTTP

/// Reads a validated `hightouch` resource spec (the seed's schema) into Hightouch request types.
/// The schema has already been checked; these functions still refuse a missing required field
/// clearly, because an operator manifest may supply a looser schema.
enum HightouchSpec {
    static func model(in spec: JSONValue) throws(VendorFailure) -> HightouchModelCreate {
        guard let model = spec["model"], model.objectValue != nil else { throw missing("/spec/model") }
        func string(_ key: String) throws(VendorFailure) -> String {
            guard let value = model[key]?.stringValue, !value.isEmpty else { throw missing("/spec/model/\(key)") }
            return value
        }
        return HightouchModelCreate(
            name: try string("name"),
            slug: try string("slug"),
            queryType: HightouchQueryType(rawValue: try string("queryType")),
            sourceID: HightouchID(try string("sourceId")),
            isSchema: model["isSchema"]?.boolValue ?? false,
            primaryKey: try string("primaryKey"),
            raw: model["raw"]?["sql"]?.stringValue.map { HightouchModel.RawSQL(sql: $0) },
            table: model["table"]?["name"]?.stringValue.map { HightouchModel.Table(name: $0) },
            visual: model["visual"].map(vendorJSON),
            custom: model["custom"].map(vendorJSON),
            dbt: model["dbt"].map(vendorJSON),
            folderID: model["folderId"]?.stringValue
        )
    }

    static func sync(in spec: JSONValue) throws(VendorFailure) -> HightouchSyncCreate {
        guard let sync = spec["sync"], sync.objectValue != nil else { throw missing("/spec/sync") }
        guard let slug = sync["slug"]?.stringValue, !slug.isEmpty else { throw missing("/spec/sync/slug") }
        guard let destination = sync["destinationId"]?.stringValue, !destination.isEmpty else { throw missing("/spec/sync/destinationId") }
        var schedule: HightouchSchedule?
        if let value = sync["schedule"], let type = value["type"]?.stringValue {
            schedule = HightouchSchedule(type: type, schedule: vendorJSON(value["schedule"] ?? .null))
        }
        return HightouchSyncCreate(
            slug: slug,
            configuration: vendorJSON(sync["configuration"] ?? .object(JSONObject())),
            destinationID: HightouchID(destination),
            modelID: HightouchID(""),  // set once the model exists
            schedule: schedule,
            disabled: sync["disabled"]?.boolValue ?? false
        )
    }

    /// The trigger flags, always explicit (never the server's defaults).
    static func trigger(in spec: JSONValue) -> HightouchTriggerOptions {
        HightouchTriggerOptions(
            fullResync: spec["trigger"]?["fullResync"]?.boolValue ?? false,
            resetCDC: spec["trigger"]?["resetCDC"]?.boolValue ?? false
        )
    }

    static func vendorJSON(_ value: JSONValue) -> VendorJSON {
        switch value {
        case .null: return .null
        case .bool(let bool): return .bool(bool)
        case .number(let number): return .number(number.doubleValue)
        case .string(let string): return .string(string)
        case .array(let array): return .array(array.map(vendorJSON))
        case .object(let object):
            var members: [String: VendorJSON] = [:]
            for member in object { members[member.key] = vendorJSON(member.value) }
            return .object(members)
        }
    }

    private static func missing(_ pointer: String) -> VendorFailure {
        VendorFailure(kind: .rejected, reason: "schemaViolation", message: "\(pointer): required for a Hightouch resource")
    }
}
