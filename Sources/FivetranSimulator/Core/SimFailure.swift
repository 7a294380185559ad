import SimulatorKit

// MARK: - SimFailure

/// An API error answer: a status, Fivetran's `{"code": ..., "message": ...}` body, and for a
/// 429 the `Retry-After` seconds.
struct SimFailure: Error, Sendable {
    let status: Int
    let body: SimJSON
    var retryAfter: Int?

    init(status: Int, code: String, message: String, retryAfter: Int? = nil) {
        self.status = status
        self.body = .object(["code": .string(code), "message": .string(message)])
        self.retryAfter = retryAfter
    }

    /// 400 for a body or parameter Fivetran would refuse.
    static func invalidInput(_ message: String) -> SimFailure {
        SimFailure(status: 400, code: "InvalidInput", message: message)
    }

    /// 404 of an unknown connector (`NotFound_Connector`, or `NotFound_Connection` on the newer paths).
    static func notFound(_ family: SimFamily, _ id: String) -> SimFailure {
        SimFailure(status: 404, code: "NotFound_\(family.noun)", message: "\(family.noun) with id '\(id)' does not exist.")
    }

    /// 401, missing or wrong Basic credentials.
    static func unauthenticated(_ message: String) -> SimFailure {
        SimFailure(status: 401, code: "AuthFailed", message: message)
    }

    /// 5xx injected or "lost".
    static func server(_ status: Int) -> SimFailure {
        SimFailure(status: status, code: status == 500 ? "InternalError" : "ServiceUnavailable", message: "Something went wrong on our side; please try again later.")
    }

    /// 400 for a body that is not JSON.
    static let malformedJSON = SimFailure.invalidInput("The request body is not valid JSON.")
}

// MARK: - SimFamily

/// The two path families serving the same connectors: `/v1/connectors/…` (every stored client)
/// and `/v1/connections/…` (Fivetran's newer name).
enum SimFamily: Sendable {
    case connectors, connections

    var path: String {
        switch self {
        case .connectors: "connectors"
        case .connections: "connections"
        }
    }

    var parameter: String {
        switch self {
        case .connectors: "connectorId"
        case .connections: "connectionId"
        }
    }

    /// `Connector` or `Connection`.
    var noun: String {
        switch self {
        case .connectors: "Connector"
        case .connections: "Connection"
        }
    }
}
