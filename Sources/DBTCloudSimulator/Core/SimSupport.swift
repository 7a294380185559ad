import JSONSchema
import SimulatorKit

// MARK: - SimFailure

/// An API error answer: a status, the body dbt Cloud sends for it, and extra headers.
struct SimFailure: Error, Sendable {
    let status: Int
    let body: JSONValue
    /// `Retry-After` in seconds (429).
    var retryAfter: Int?
    /// A plain-text body (a gateway's page), instead of JSON.
    var text: String?

    /// The envelope of every dbt Cloud error: `{"status": {...}, "data": ...}`.
    static func envelope(_ status: Int, _ userMessage: String, developerMessage: JSONValue = .string(""), data: JSONValue = .null) -> SimFailure {
        SimFailure(status: status, body: SimEnvelope.wrap(data, code: status, isSuccess: false, userMessage: userMessage, developerMessage: developerMessage))
    }

    /// 400 with Django REST framework's field errors in `data` (`{"cause": ["..."]}`).
    static func invalid(_ fields: JSONObject) -> SimFailure {
        .envelope(400, "The request was invalid. Please double check the provided data and try again.", data: .object(fields))
    }

    static func invalid(_ field: String, _ message: String) -> SimFailure {
        .invalid([field: .array([.string(message)])])
    }

    /// 404, as dbt Cloud answers an id it does not know (or the token may not see).
    static let notFound = SimFailure.envelope(404, "The requested resource was not found. Please check that you have the proper permissions.")

    /// 401 without credentials (Django REST framework's words) or with a token it does not know.
    static let noCredentials = SimFailure.envelope(401, "Authentication credentials were not provided.", developerMessage: .null)
    static let invalidToken = SimFailure.envelope(401, "Invalid token.", developerMessage: .null)

    /// 403 for a path naming an account the token is not scoped to (captured from the live API).
    static let notScoped = SimFailure.envelope(403, "Access denied: Token is not scoped to account.", developerMessage: .null)

    /// 405 for a method the route does not take: Django REST framework's bare body.
    static func methodNotAllowed(_ method: String) -> SimFailure {
        SimFailure(status: 405, body: .object(["detail": .string("Method \"\(method)\" not allowed.")]))
    }

    /// 400 for a body that is not JSON (Django REST framework's parse error, in the envelope).
    static let malformedJSON = SimFailure.envelope(400, "JSON parse error - the request body is not valid JSON.")

    /// 429 with `Retry-After`, as Django REST framework's throttling answers.
    static func throttled(retryAfter seconds: Int) -> SimFailure {
        var failure = SimFailure.envelope(429, "Request was throttled. Expected available in \(seconds) second\(seconds == 1 ? "" : "s").", developerMessage: .null)
        failure.retryAfter = seconds
        return failure
    }

    /// An injected 5xx: the envelope for a 500, a gateway's plain text for 502, 503 and 504.
    static func server(_ status: Int) -> SimFailure {
        if status == 500 { return .envelope(500, "An unexpected error occurred. Please try again later.", developerMessage: .null) }
        var failure = SimFailure(status: status, body: .null)
        failure.text = status == 504 ? "upstream request timeout" : "upstream connect error or disconnect/reset before headers"
        return failure
    }
}

// MARK: - SimEnvelope

enum SimEnvelope {
    /// `{"status": {"code", "is_success", "user_message", "developer_message"}, "data": data}`.
    static func wrap(
        _ data: JSONValue, code: Int = 200, isSuccess: Bool = true, userMessage: String = "Success!", developerMessage: JSONValue = .string(""),
        extra: JSONValue? = nil
    ) -> JSONValue {
        var object: JSONObject = [
            "status": .object([
                "code": .int(code),
                "is_success": .bool(isSuccess),
                "user_message": .string(userMessage),
                "developer_message": developerMessage,
            ]),
            "data": data,
        ]
        if let extra { object["extra"] = extra }
        return .object(object)
    }
}

// MARK: - SimTime

/// Simulated time as seconds since 1970, written as dbt Cloud writes it.
enum SimTime {
    /// `2021-12-07 10:32:24.326116+00:00`: Python's `str()` of an aware datetime, as runs carry.
    static func format(_ seconds: Double) -> String {
        SimTimestamp.format(seconds, .python)
    }

    /// `00:01:50`.
    static func clock(_ seconds: Double) -> String {
        let whole = max(0, Int(seconds.rounded(.down)))
        return "\(String(whole / 3_600).leftPadded(to: 2)):\(String(whole / 60 % 60).leftPadded(to: 2)):\(String(whole % 60).leftPadded(to: 2))"
    }

    /// `1 minute, 50 seconds`, `12 seconds`, `0 seconds`.
    static func humanized(_ seconds: Double) -> String {
        let whole = max(0, Int(seconds.rounded(.down)))
        let parts = [("hour", whole / 3_600), ("minute", whole / 60 % 60), ("second", whole % 60)]
            .filter { $0.1 > 0 }
            .map { "\($0.1) \($0.0)\($0.1 == 1 ? "" : "s")" }
        return parts.isEmpty ? "0 seconds" : parts.joined(separator: ", ")
    }
}

// MARK: - Randomness

extension SimRandomStream {
    static let outcome = SimRandomStream(1)
    static let failingStep = SimRandomStream(2)
    static let fault = SimRandomStream(3)
    static let sha = SimRandomStream(4)
}

extension SimRandom {
    /// 40 hex digits (a git SHA), derived from the seed and the index.
    static func sha(seed: UInt64, _ index: UInt64) -> String {
        var text = ""
        for part in 0..<3 {
            let value = Self.bits(seed: seed, .sha, index &* 3 &+ UInt64(part))
            text += String(value, radix: 16).leftPadded(to: 16)
        }
        return String(text.prefix(40))
    }
}

// MARK: - Helpers

extension String {
    func leftPadded(to width: Int) -> String {
        self.count >= width ? self : String(repeating: "0", count: width - self.count) + self
    }
}

extension JSONValue {
    static func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
    static func double(_ value: Double) -> JSONValue { JSONNumber(value).map { .number($0) } ?? .null }
    static func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
    static func optional(_ value: Int?) -> JSONValue { value.map { .int($0) } ?? .null }
}
