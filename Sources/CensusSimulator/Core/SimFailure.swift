import SimulatorKit

// MARK: - SimFailure

/// An API error answer: a status, the body Census sends for it, and `Retry-After` for a 429.
struct SimFailure: Error, Sendable {
    let status: Int
    let body: SimBodyText
    /// Seconds, sent as `Retry-After`.
    var retryAfter: Int?

    /// What an error answer carries: Census's JSON envelope, or the HTML page of the proxy in front
    /// of the API (502, 503, 504 never reach the application).
    enum SimBodyText: Sendable {
        case json(SimJSON)
        case html(String)
    }

    /// The body as sent.
    var text: String {
        switch self.body {
        case .json(let json): json.text
        case .html(let page): page
        }
    }

    init(status: Int, json: SimJSON) {
        self.status = status
        self.body = .json(json)
    }

    init(status: Int, html: String) {
        self.status = status
        self.body = .html(html)
    }

    /// `{"status": "error", "message": ...}`: the envelope of every failure the application answers.
    static func error(_ status: Int, _ message: String) -> SimFailure {
        SimFailure(status: status, json: .object(["status": "error", "message": .string(message)]))
    }

    /// 404: `{"status": 404, "message": ...}` (the HTTP status as a number, as the current API
    /// reference documents its 404 answers).
    static func notFound(_ kind: String, _ id: String) -> SimFailure {
        SimFailure(status: 404, json: .object(["status": .int(404), "message": .string("Couldn't find \(kind) with 'id'=\(id)")]))
    }

    /// 404 for a path the API does not have.
    static func noRoute(_ path: String) -> SimFailure {
        SimFailure(status: 404, json: .object(["status": .int(404), "message": .string("No route matches \(path)")]))
    }

    /// 401 for a missing or wrong credential.
    static func unauthorized(_ message: String) -> SimFailure {
        .error(401, message)
    }

    /// 400 for a body that is not JSON.
    static let malformedJSON = SimFailure.error(400, "The request body is not valid JSON")

    /// An injected server failure: 500 from the application, or a proxy's page for 502–504.
    static func server(_ status: Int) -> SimFailure {
        switch status {
        case 500:
            return .error(500, "Internal Server Error")
        default:
            let title = "\(status) \(Self.reason(status))"
            return SimFailure(status: status, html: "<html>\r\n<head><title>\(title)</title></head>\r\n<body>\r\n<center><h1>\(title)</h1></center>\r\n</body>\r\n</html>\r\n")
        }
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 502: "Bad Gateway"
        case 503: "Service Temporarily Unavailable"
        case 504: "Gateway Time-out"
        default: "Server Error"
        }
    }
}
