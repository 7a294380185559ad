import FactoryEngine
import FactoryModel
import Fivetran
import JSONSchema

extension FivetranDriver {
    /// What to do with the connector.
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
        /// Sync, and follow the sync to its end (the default).
        case start = "START"
        /// Read the connector's status; nothing changes at Fivetran.
        case status = "STATUS"
        /// Run the connector's setup tests.
        case test = "TEST"
        /// Re-sync one table (`schema` and `table`), and follow the re-sync to its end.
        case forceResync = "FORCE_RESYNC"

        /// Whether the action starts a sync that is followed until `succeeded_at` or `failed_at`
        /// moves (and so prepares the connector and records a baseline).
        public var syncs: Bool { self == .start || self == .forceResync }
    }

    /// The spec, read and checked.
    public struct Spec: Sendable, Hashable {
        /// Fivetran's connector id (`shrank_paparazzi`).
        public var connectorID: String
        public var action: Action
        /// `FORCE_RESYNC`'s table.
        public var schema: String?
        public var table: String?
        /// Leave `schedule_type` as it is instead of setting it to `manual`.
        public var keepSchedule: Bool
        /// Unpause a paused connector (else it is refused).
        public var unpause: Bool
        /// How long the run may take.
        public var timeout: Duration

        public init(
            connectorID: String, action: Action = .start, schema: String? = nil, table: String? = nil, keepSchedule: Bool = false,
            unpause: Bool = false, timeout: Duration = .seconds(300)
        ) {
            self.connectorID = connectorID
            self.action = action
            self.schema = schema
            self.table = table
            self.keepSchedule = keepSchedule
            self.unpause = unpause
            self.timeout = timeout
        }
    }

    /// Reads a spec that passed the type's JSON schema, with the driver's defaults; refuses what
    /// the schema does not say (or an operator manifest's looser schema lets through), naming the
    /// field and what to write instead.
    static func readSpec(_ spec: JSONValue, defaults: Defaults) throws(VendorFailure) -> Spec {
        guard spec.objectValue != nil else { throw refused("/spec", "must be an object with at least connectorId") }
        guard let id = spec["connectorId"]?.stringValue, !id.isEmpty else {
            throw refused("/spec/connectorId", "is required: Fivetran's connector id, e.g. shrank_paparazzi")
        }
        guard isConnectorID(id) else {
            throw refused(
                "/spec/connectorId",
                "\"\(id.prefix(80))\" is not a Fivetran connector id: ids are lowercase letters, digits and underscores, e.g. shrank_paparazzi"
            )
        }
        var action = Action.start
        if let value = spec["action"] {
            guard let text = value.stringValue, let parsed = Action(rawValue: text) else {
                throw refused("/spec/action", "must be one of \(Action.allCases.map(\.rawValue).joined(separator: ", ")), not \(value.serialized().prefix(40))")
            }
            action = parsed
        }
        let schema = try text(spec, "schema")
        let table = try text(spec, "table")
        if action == .forceResync {
            guard schema != nil, table != nil else {
                throw refused("/spec", "FORCE_RESYNC needs schema and table: the table to re-sync, named as in the source")
            }
        } else if schema != nil || table != nil {
            throw refused(
                schema != nil ? "/spec/schema" : "/spec/table",
                "only FORCE_RESYNC re-syncs a table; remove schema and table, or set action: FORCE_RESYNC (the action is \(action.rawValue))"
            )
        }
        let keepSchedule = try flag(spec, "keepSchedule") ?? defaults.keepSchedule
        let unpause = try flag(spec, "unpause") ?? false
        var timeout = defaults.timeout
        if let value = spec["timeout"] {
            guard let text = value.stringValue, let parsed = parseTimeout(text) else {
                throw refused("/spec/timeout", "must be a duration of at least 1s, like 300s, 10m or 1h30m, not \(value.serialized().prefix(40))")
            }
            timeout = parsed
        }
        return Spec(connectorID: id, action: action, schema: schema, table: table, keepSchedule: keepSchedule, unpause: unpause, timeout: timeout)
    }

    /// Fivetran's id characters: lowercase letters, digits and underscores.
    static func isConnectorID(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    /// A Go-style duration (`300s`, `5m`, `1h30m`), or whole seconds (`300`, as the seed's
    /// FIVETRAN_TIMEOUT may be written); at least one second.
    static func parseTimeout(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters()
        let duration: Duration? = Int(trimmed).map { .seconds($0) } ?? DurationParser.parse(trimmed)
        guard let duration, duration >= .seconds(1) else { return nil }
        return duration
    }

    private static func text(_ spec: JSONValue, _ key: String) throws(VendorFailure) -> String? {
        guard let value = spec[key] else { return nil }
        guard let text = value.stringValue, !text.isEmpty else { throw refused("/spec/\(key)", "must be a non-empty string") }
        return text
    }

    private static func flag(_ spec: JSONValue, _ key: String) throws(VendorFailure) -> Bool? {
        guard let value = spec[key] else { return nil }
        guard let flag = value.boolValue else { throw refused("/spec/\(key)", "must be true or false") }
        return flag
    }

    private static func refused(_ pointer: String, _ message: String) -> VendorFailure {
        VendorFailure(kind: .rejected, reason: "schemaViolation", message: "\(pointer): \(message)")
    }
}
