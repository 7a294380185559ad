import Hummingbird
import JSONSchema
import NIOCore

// MARK: - SimHTTP

/// Building answers and reading requests.
enum SimHTTP {
    /// Largest request body read (1 MiB); a larger one is answered 413.
    static let maxBodyBytes = 1 << 20

    static func json(_ status: Int, _ body: JSONValue, retryAfter: Int? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.serializedBytes()))
        )
    }

    static func text(_ status: Int, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/plain"
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func answer(_ result: Result<JSONValue, SimFailure>) -> Response {
        switch result {
        case .success(let body): self.json(200, body)
        case .failure(let failure): self.failure(failure)
        }
    }

    static func failure(_ failure: SimFailure) -> Response {
        if let text = failure.text { return self.text(failure.status, text) }
        return self.json(failure.status, failure.body, retryAfter: failure.retryAfter)
    }

    /// The JSON body; `nil` for none, an empty one or `null` (Airflow's provider sends `null` on
    /// GET, Dagster's none on POST). Throws 400 for one that is not JSON, 413 if too large.
    static func body(of request: Request) async throws(SimFailure) -> JSONValue? {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            throw SimFailure.envelope(413, "Request body too large (more than 1 MiB).")
        }
        let bytes = Array(buffer.readableBytesView)
        if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) { return nil }
        guard let value = try? JSONValue(parsing: bytes) else { throw SimFailure.malformedJSON }
        return value.isNull ? nil : value
    }
}

// MARK: - SimQuery

/// Query parameters, read as dbt Cloud's Python clients send them.
struct SimQuery {
    private let items: [(String, String)]

    init(_ request: Request) {
        self.items = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
    }

    func first(_ name: String) -> String? { self.items.first { $0.0 == name }?.1 }
    func all(_ name: String) -> [String] { self.items.filter { $0.0 == name }.map(\.1) }

    /// A list in any of the spellings clients send: repeated parameters (`a=1&a=2`), a comma list
    /// (`1,2`), or a Python/JSON list (`[1, 2]`, `["run_steps"]`, `['run_steps']`).
    func list(_ name: String) -> [String] {
        self.all(name).flatMap { value -> [String] in
            var text = value.trimmingCharacters(in: " \t")
            if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
            return text.split(separator: ",").map { String($0).trimmingCharacters(in: " \t\"'") }.filter { !$0.isEmpty }
        }
    }

    /// A whole number, or 400 naming the parameter.
    func integer(_ name: String) throws(SimFailure) -> Int? {
        guard let text = self.first(name) else { return nil }
        guard let value = Int(text.trimmingCharacters(in: " ")) else { throw .invalid(name, "A valid integer is required.") }
        return value
    }

    /// `status__in=[1,2,3]` (with or without spaces, brackets or quotes) and `status=10`.
    func statuses() throws(SimFailure) -> [Int]? {
        var statuses: [Int] = []
        for text in self.list("status__in") {
            guard let value = Int(text) else { throw .invalid("status__in", "Enter a whole number. Got \"\(text)\".") }
            statuses.append(value)
        }
        if let single = try self.integer("status") { statuses.append(single) }
        return statuses.isEmpty && self.first("status__in") == nil ? nil : statuses
    }

    /// `include_related` in any list spelling.
    var include: SimRun.Include {
        var include = SimRun.Include()
        for value in self.list("include_related") {
            switch value {
            case "run_steps": include.runSteps = true
            case "trigger": include.trigger = true
            case "job": include.job = true
            case "environment": include.environment = true
            case "debug_logs": include.debugLogs = true
            default: break  // repository, audit, ...: nothing to add here
            }
        }
        return include
    }

    /// `limit` (1...100, default 100) and `offset`.
    func paging() throws(SimFailure) -> SimPaging {
        var paging = SimPaging()
        if let limit = try self.integer("limit") {
            guard (1...100).contains(limit) else { throw .invalid("limit", "Ensure this value is between 1 and 100.") }
            paging.limit = limit
        }
        if let offset = try self.integer("offset") {
            guard offset >= 0 else { throw .invalid("offset", "Ensure this value is greater than or equal to 0.") }
            paging.offset = offset
        }
        return paging
    }
}
