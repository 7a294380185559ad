import SimulatorKit

// MARK: - SimSource

/// A source or destination (both read-only through the API).
struct SimConnection: Sendable {
    let id: Int
    var name: String
    var slug: String
    var type: String
    let createdAt: Double
    var updatedAt: Double
}

// MARK: - SimModel

struct SimModel: Sendable {
    let id: Int
    var name: String
    let slug: String
    var description: String
    var primaryKey: String
    let sourceID: Int
    let queryType: String
    var tags: [(String, String)]
    var isSchema: Bool
    /// The query objects by their API name (`raw`, `table`, `visual`, `custom`, `dbt`, `dbt_cloud`).
    var queries: SimObject
    var folderID: String?
    let createdAt: Double
    var updatedAt: Double
}

// MARK: - SimSync

struct SimSync: Sendable {
    let id: Int
    let slug: String
    let destinationID: Int
    let modelID: Int
    var configuration: SimJSON
    /// `null` or `{"type": ..., "schedule": {...}}`.
    var schedule: SimJSON
    var disabled: Bool
    let createdAt: Double
    var updatedAt: Double

    /// Model columns the mapping reads (`from` of each mapping), as the API reports them.
    var referencedColumns: [String] {
        guard case .object(let configuration) = self.configuration, case .array(let mappings)? = configuration["mappings"]
        else { return [] }
        return mappings.compactMap { $0.objectValue?["from"]?.stringValue }
    }
}

// MARK: - SimTriggerRecord

/// One accepted trigger, kept for `/_admin/triggers` so tests can check what was asked.
struct SimTriggerRecord: Sendable {
    let runID: Int
    let syncID: Int
    let syncSlug: String
    /// `syncs/{id}/trigger`, or `syncs/trigger` by `syncId` or `syncSlug`.
    let route: String
    let flags: SimTriggerFlags
    let at: Double

    var json: SimJSON {
        func flag(_ value: Bool?) -> SimJSON { value.map { .bool($0) } ?? .null }
        return .object([
            "runId": .int(self.runID),
            "syncId": .int(self.syncID),
            "syncSlug": .string(self.syncSlug),
            "route": .string(self.route),
            "fullResync": flag(self.flags.fullResync),
            "resetCDC": flag(self.flags.resetCDC),
            "clearAndFill": flag(self.flags.clearAndFill),
            "at": .string(SimTimestamp.format(self.at)),
        ])
    }
}

// MARK: - SimForcedOutcome

/// An outcome imposed by a test instead of the weighted draw.
struct SimForcedOutcome: Sendable {
    var outcome: HightouchSimulator.RunOutcome
    var error: String?
    var remaining: Int
}

// MARK: - SimFailure

/// An API error answer: a status and the body the API documents for it.
struct SimFailure: Error, Sendable {
    let status: Int
    let body: SimJSON

    /// 422 `ValidateErrorJSON`.
    static func validation(_ details: SimObject) -> SimFailure {
        SimFailure(status: 422, body: .object(["message": "Validation failed", "details": .object(details)]))
    }

    /// 409 `ValidateErrorJSON` for a slug that is taken.
    static func duplicateSlug(_ kind: String, _ slug: String) -> SimFailure {
        SimFailure(
            status: 409,
            body: .object([
                "message": "Validation failed",
                "details": .object([
                    "requestBody.slug": .object([
                        "message": .string("A \(kind) with slug \"\(slug)\" already exists in this workspace"),
                        "value": .string(slug),
                    ])
                ]),
            ])
        )
    }

    /// 404 of the CRUD endpoints.
    static func notFound(_ kind: String, _ id: String) -> SimFailure {
        SimFailure(status: 404, body: .object(["message": "Not found", "details": .string("\(kind) \(id) does not exist")]))
    }

    /// `TriggerErrorResponse` (`{"error": ...}`) of the trigger family.
    static func trigger(_ status: Int, _ message: String) -> SimFailure {
        SimFailure(status: status, body: .object(["error": .string(message)]))
    }

    /// 400 for a body that is not JSON.
    static let malformedJSON = SimFailure(
        status: 400,
        body: .object(["message": "Bad request", "details": "The request body is not valid JSON"])
    )

    /// 400 for a form-encoded body that cannot be read.
    static func malformedForm(_ problem: String) -> SimFailure {
        SimFailure(
            status: 400,
            body: .object([
                "message": "Bad request",
                "details": .string("The request body is not valid form data (application/x-www-form-urlencoded): \(problem)"),
            ])
        )
    }

    /// 500 `InternalServerError`: the JSON string `"Internal Server Error"`.
    static func server(_ status: Int) -> SimFailure {
        SimFailure(status: status, body: status == 500 ? "Internal Server Error" : .string("Service Unavailable"))
    }

    /// 401 as observed live.
    static func unauthenticated(_ details: String) -> SimFailure {
        SimFailure(status: 401, body: .object(["message": "Authentication error", "details": .string(details)]))
    }
}
