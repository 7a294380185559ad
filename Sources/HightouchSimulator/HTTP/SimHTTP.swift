import Hummingbird
import NIOCore
import SimulatorKit

// MARK: - SimHTTP

/// Building answers and reading requests.
enum SimHTTP {
    /// Largest request body read (1 MiB); a larger one is answered 413.
    static let maxBodyBytes = 1 << 20

    static func json(_ status: Int, _ body: SimJSON) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: body.text))
        )
    }

    static func answer(_ result: Result<SimJSON, SimFailure>) -> Response {
        switch result {
        case .success(let body): self.json(200, body)
        case .failure(let failure): self.json(failure.status, failure.body)
        }
    }

    static func failure(_ failure: SimFailure) -> Response {
        self.json(failure.status, failure.body)
    }

    /// The parsed body, read by its Content-Type: form fields for `application/x-www-form-urlencoded`
    /// (the API takes those, and Python's `requests.post(url, data=…)` sends them), JSON for
    /// anything else, a missing Content-Type included. `nil` for an empty body; throws 400 for a
    /// malformed one, 413 if too large.
    static func body(of request: Request) async throws(SimFailure) -> SimBody? {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            throw SimFailure(status: 413, body: .object(["message": "Payload too large", "details": "The body exceeds 1 MiB"]))
        }
        guard buffer.readableBytes > 0 else { return nil }
        let bytes = buffer.readableBytesView
        if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) { return nil }
        if Self.isForm(contentType: request.headers[.contentType]) {
            return SimBody(value: .object(try SimForm.fields(of: bytes)), encoding: .form)
        }
        guard let json = SimJSON.parse(bytes) else { throw SimFailure.malformedJSON }
        return .json(json)
    }

    /// Whether a Content-Type names form encoding, whatever its parameters (`; charset=utf-8`).
    static func isForm(contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.prefix { $0 != ";" }.filter { $0 != " " && $0 != "\t" }
        return mediaType.lowercased() == "application/x-www-form-urlencoded"
    }
}

// MARK: - SimBody

/// A parsed request body and how it arrived. Form fields are all strings, so validation reads
/// booleans from them as a form-reading server does (``SimValidator/bool(_:required:)``).
struct SimBody: Sendable {
    enum Encoding: Sendable {
        case json
        case form
    }

    let value: SimJSON
    let encoding: Encoding

    static func json(_ value: SimJSON) -> SimBody { SimBody(value: value, encoding: .json) }
}

// MARK: - SimQuery

/// Query parameters of a request, checked the way the API's validation layer checks them (422 with
/// the parameter name as the detail key).
struct SimQuery {
    private let items: [(String, String)]

    init(_ request: Request) {
        self.items = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
    }

    func first(_ name: String) -> String? { self.items.first { $0.0 == name }?.1 }
    func all(_ name: String) -> [String] { self.items.filter { $0.0 == name }.map(\.1) }

    private static func invalid(_ name: String, _ message: String, _ value: String) -> SimFailure {
        .validation([name: .object(["message": .string(message), "value": .string(value)])])
    }

    /// A whole, non-negative number.
    func count(_ name: String) throws(SimFailure) -> Int? {
        guard let text = self.first(name) else { return nil }
        guard let value = Double(text), value.rounded() == value, value >= 0, value < 1e9 else {
            throw Self.invalid(name, "invalid float number", text)
        }
        return Int(value)
    }

    /// An ISO-8601 date-time.
    func timestamp(_ name: String) throws(SimFailure) -> Double? {
        guard let text = self.first(name) else { return nil }
        guard let value = SimTimestamp.parse(text) else {
            throw Self.invalid(name, "invalid ISO 8601 datetime format, i.e. YYYY-MM-DDTHH:mm:ss", text)
        }
        return value
    }

    /// `limit` (default 100), `offset` (default 0) and `orderBy` (default `id`, one of `orders`).
    func paging(orders: [String]) throws(SimFailure) -> SimPaging {
        var paging = SimPaging()
        if let limit = try self.count("limit") { paging.limit = limit }
        if let offset = try self.count("offset") { paging.offset = offset }
        if let orderBy = self.first("orderBy") {
            guard orders.contains(orderBy) else {
                throw Self.invalid(
                    "orderBy",
                    "should be one of the following; [\(orders.map { "'\($0)'" }.joined(separator: ","))]",
                    orderBy
                )
            }
            paging.orderBy = orderBy
        }
        return paging
    }
}
