// MARK: - VendorError

/// A failed vendor call, classified so callers can decide what to do without parsing text.
///
/// It carries what was called (`route`, `path`), the HTTP status, the vendor's own message and
/// details, and how many attempts were made; never the credential or any request header.
public struct VendorError: Error, Sendable {
    /// The class of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Kind: String, Hashable, Sendable {
            case unauthorized, notFound, conflict, validation, rateLimited, server
            case transport, timeout, decoding, unexpectedStatus, invalidArgument
        }

        fileprivate let kind: Kind

        /// 401 or 403: the credential was missing, invalid or lacks access.
        public static let unauthorized = Code(kind: .unauthorized)
        /// 404: the resource does not exist.
        public static let notFound = Code(kind: .notFound)
        /// 409: the resource conflicts with an existing one (for example a duplicate slug).
        public static let conflict = Code(kind: .conflict)
        /// 400 or 422: the vendor rejected the request; see ``VendorError/details``.
        public static let validation = Code(kind: .validation)
        /// 429: still over the vendor's rate limit after every retry.
        public static let rateLimited = Code(kind: .rateLimited)
        /// 5xx: the vendor failed; see ``VendorError/status``.
        public static let server = Code(kind: .server)
        /// The vendor could not be reached or the connection broke.
        public static let transport = Code(kind: .transport)
        /// No complete answer within the call's timeout.
        public static let timeout = Code(kind: .timeout)
        /// The answer was not the JSON the vendor documents.
        public static let decoding = Code(kind: .decoding)
        /// A status this client does not expect (3xx, 405, 413, ...).
        public static let unexpectedStatus = Code(kind: .unexpectedStatus)
        /// The call was refused before sending because an argument was invalid.
        public static let invalidArgument = Code(kind: .invalidArgument)

        public var description: String { self.kind.rawValue }
    }

    /// The class of failure.
    public var code: Code
    /// The vendor, e.g. `hightouch`.
    public var vendor: String
    /// The route template, e.g. `POST /syncs/{syncId}/trigger`.
    public var route: String
    /// The path actually called, e.g. `/api/v1/syncs/42/trigger`.
    public var path: String
    /// The HTTP status of the last answer, if there was one.
    public var status: Int?
    /// The vendor's message (`message`, `error` or the body text), if any.
    public var message: String?
    /// Structured details the vendor sent (validation failures per field), if any.
    public var details: VendorJSON?
    /// Attempts made, including the first.
    public var attempts: Int
    /// Whether the vendor may have acted on the request although it failed (a 5xx, a timeout or a
    /// connection lost after sending). `false` when the vendor certainly did not act (4xx, 429,
    /// connection refused). Matters for non-idempotent calls such as triggering a run.
    public var outcomeUnknown: Bool
    /// The underlying transport or decoding failure, described without request data.
    public var underlying: String?
    /// What to do about it, when the vendor's client knows better than the generic advice for
    /// the code (a Fivetran 409 is a sync in progress, not a duplicate slug).
    public var remedy: String?

    public init(
        code: Code,
        vendor: String,
        route: String,
        path: String,
        status: Int? = nil,
        message: String? = nil,
        details: VendorJSON? = nil,
        attempts: Int = 1,
        outcomeUnknown: Bool = false,
        underlying: String? = nil
    ) {
        self.code = code
        self.vendor = vendor
        self.route = route
        self.path = path
        self.status = status
        self.message = message
        self.details = details
        self.attempts = attempts
        self.outcomeUnknown = outcomeUnknown
        self.underlying = underlying
    }

    /// Whether another attempt later could succeed (429, 5xx, transport, timeout).
    public var isTransient: Bool {
        switch self.code {
        case .rateLimited, .server, .transport, .timeout: true
        default: false
        }
    }
}

// MARK: - Classification

extension VendorError.Code {
    /// The code for a non-2xx HTTP status.
    public init(status: Int) {
        switch status {
        case 401, 403: self = .unauthorized
        case 404: self = .notFound
        case 409: self = .conflict
        case 400, 422: self = .validation
        case 429: self = .rateLimited
        case 500...599: self = .server
        default: self = .unexpectedStatus
        }
    }
}

// MARK: - Description

extension VendorError: CustomStringConvertible, CustomDebugStringConvertible {
    /// One line: what was called, what went wrong, what the vendor said and what to do.
    public var description: String {
        var text = "\(self.vendor) \(self.route) failed: \(self.summary)"
        if let status = self.status { text += " (HTTP \(status))" }
        if self.attempts > 1 { text += " after \(self.attempts) attempts" }
        if let message = self.message, !message.isEmpty { text += ": \(message)" }
        if let details = self.details, !details.isNull { text += " \(details)" }
        if let underlying = self.underlying { text += " [\(underlying)]" }
        text += ". \(self.remedy ?? self.advice)"
        return text
    }

    public var debugDescription: String { "VendorError(\(self.code), \(self.description))" }

    private var summary: String {
        switch self.code {
        case .unauthorized: "the credential was rejected"
        case .notFound: "not found"
        case .conflict: "conflicts with an existing resource"
        case .validation: "the request was rejected as invalid"
        case .rateLimited: "rate limited"
        case .server: "the vendor had an internal error"
        case .transport: "the vendor could not be reached"
        case .timeout: "no answer in time"
        case .decoding: "the answer could not be read"
        case .invalidArgument: "invalid argument"
        default: "unexpected answer"
        }
    }

    private var advice: String {
        switch self.code {
        case .unauthorized:
            return "Check the API key configured for \(self.vendor); it is missing, revoked or lacks access."
        case .notFound:
            return "The resource does not exist (deleted at the vendor, or a wrong id)."
        case .conflict:
            return "A resource with the same slug exists; look it up by slug and update it instead of creating it."
        case .validation:
            return "Fix the fields named in the details and send again; retrying unchanged will fail the same way."
        case .rateLimited:
            return "Still over the rate limit when the retry budget ran out; lower the request rate or raise the budget."
        case .server:
            return self.outcomeUnknown
                ? "The vendor may or may not have applied it; check its state before repeating a non-idempotent call."
                : "Try again later."
        case .transport:
            return self.outcomeUnknown
                ? "The connection broke after sending; check the vendor's state before repeating a non-idempotent call."
                : "Check the base URL and the network path to the vendor."
        case .timeout:
            return "The vendor may or may not have applied it; raise the timeout or check its state before repeating."
        case .decoding:
            return "The vendor's answer does not match its documented format; check the base URL and API version."
        case .invalidArgument:
            return "Fix the argument; nothing was sent."
        default:
            return "Check the base URL and API version."
        }
    }
}
