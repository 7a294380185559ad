import JSONSchema

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
        let totalMicroseconds = Int64((seconds * 1_000_000).rounded(.down))
        var days = totalMicroseconds / 86_400_000_000
        var microseconds = totalMicroseconds % 86_400_000_000
        if microseconds < 0 {
            microseconds += 86_400_000_000
            days -= 1
        }
        let (year, month, day) = Self.civil(fromDays: Int(days))
        let second = microseconds / 1_000_000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(Int(second / 3_600), 2)):\(pad(Int(second / 60 % 60), 2)):\(pad(Int(second % 60), 2))"
            + ".\(pad(Int(microseconds % 1_000_000), 6))+00:00"
    }

    /// `00:01:50`.
    static func clock(_ seconds: Double) -> String {
        let whole = max(0, Int(seconds.rounded(.down)))
        return "\(pad(whole / 3_600, 2)):\(pad(whole / 60 % 60, 2)):\(pad(whole % 60, 2))"
    }

    /// `1 minute, 50 seconds`, `12 seconds`, `0 seconds`.
    static func humanized(_ seconds: Double) -> String {
        let whole = max(0, Int(seconds.rounded(.down)))
        let parts = [("hour", whole / 3_600), ("minute", whole / 60 % 60), ("second", whole % 60)]
            .filter { $0.1 > 0 }
            .map { "\($0.1) \($0.0)\($0.1 == 1 ? "" : "s")" }
        return parts.isEmpty ? "0 seconds" : parts.joined(separator: ", ")
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    // Howard Hinnant's civil-from-days (proleptic Gregorian calendar).
    private static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

// MARK: - SimRandom

/// Deterministic randomness: every decision is a hash of (seed, what, index), so results repeat for
/// a seed whatever the interleaving of other requests.
enum SimRandom {
    enum Stream: UInt64 {
        case outcome = 1, failingStep, fault, sha
    }

    /// A uniform number in `0..<1`.
    static func unit(seed: UInt64, _ stream: Stream, _ index: UInt64) -> Double {
        Double(Self.mix(seed, stream, index) >> 11) / Double(1 << 53)
    }

    /// A uniform integer in `range`.
    static func integer(seed: UInt64, _ stream: Stream, _ index: UInt64, in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(Self.mix(seed, stream, index) % span)
    }

    /// 40 hex digits (a git SHA), derived from the seed and the index.
    static func sha(seed: UInt64, _ index: UInt64) -> String {
        var text = ""
        for part in 0..<3 {
            let value = Self.mix(seed, .sha, index &* 3 &+ UInt64(part))
            text += String(value, radix: 16).leftPadded(to: 16)
        }
        return String(text.prefix(40))
    }

    /// SplitMix64 finaliser over the combined inputs.
    private static func mix(_ seed: UInt64, _ stream: Stream, _ index: UInt64) -> UInt64 {
        var z = seed &+ stream.rawValue &* 0x9E37_79B9_7F4A_7C15 &+ index &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
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

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (seconds, attoseconds) = self.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
