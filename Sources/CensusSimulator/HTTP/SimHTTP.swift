import Foundation
import Hummingbird
import NIOCore
import SimulatorKit

// MARK: - SimHTTP

/// Building answers and reading requests.
enum SimHTTP {
    /// Largest request body read (1 MiB); a larger one is answered 413.
    static let maxBodyBytes = 1 << 20

    static func json(_ status: Int, _ body: SimJSON, retryAfter: Int? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body.text)))
    }

    static func answer(_ result: Result<SimJSON, SimFailure>) -> Response {
        switch result {
        case .success(let body): self.json(200, body)
        case .failure(let failure): self.failure(failure)
        }
    }

    static func failure(_ failure: SimFailure) -> Response {
        switch failure.body {
        case .json(let body):
            return self.json(failure.status, body, retryAfter: failure.retryAfter)
        case .html(let page):
            var headers = HTTPFields()
            headers[.contentType] = "text/html"
            return Response(status: HTTPResponse.Status(code: failure.status), headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: page)))
        }
    }

    /// The request body as fields: a JSON object, or form fields for
    /// `application/x-www-form-urlencoded`; `nil` for an empty body or JSON `null`. Throws 400 for
    /// a malformed body or one that is not an object, 413 if too large.
    static func fields(of request: Request) async throws(SimFailure) -> SimObject? {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            throw .error(413, "The request body exceeds 1 MiB")
        }
        let bytes = buffer.readableBytesView
        if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) { return nil }
        if Self.isForm(contentType: request.headers[.contentType]) {
            guard let text = String(bytes: bytes, encoding: .utf8) else { throw .error(400, "The form body is not UTF-8") }
            var object = SimObject()
            for pair in text.split(separator: "&") where !pair.isEmpty {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                func decode(_ part: Substring) throws(SimFailure) -> String {
                    guard let value = String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                        throw .error(400, "The form body is not valid application/x-www-form-urlencoded data")
                    }
                    return value
                }
                object[try decode(parts[0])] = .string(parts.count > 1 ? try decode(parts[1]) : "")
            }
            return object
        }
        switch SimJSON.parse(bytes) {
        case nil: throw SimFailure.malformedJSON
        case .null?: return nil
        case .object(let object)?: return object
        case .some: throw .error(400, "The request body must be a JSON object")
        }
    }

    /// Whether a Content-Type names form encoding, whatever its parameters.
    static func isForm(contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.prefix { $0 != ";" }.filter { $0 != " " && $0 != "\t" }
        return mediaType.lowercased() == "application/x-www-form-urlencoded"
    }

    /// A boolean parameter as a Rails app reads one: `true`/`false`, `1`/`0`, `t`/`f` (any case),
    /// or a JSON boolean or 0/1; `nil` when absent or null.
    static func boolean(_ value: SimJSON?, name: String) throws(SimFailure) -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case .number(let number)? where number == 0 || number == 1: return number == 1
        case .string(let text)?:
            switch text.lowercased() {
            case "true", "t", "1": return true
            case "false", "f", "0": return false
            default: break
            }
        default: break
        }
        throw .error(400, "\(name) must be true or false")
    }
}

// MARK: - SimQuery

/// The query parameters of a request.
struct SimQuery {
    private let items: [(String, String)]

    init(_ request: Request) {
        self.items = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
    }

    func first(_ name: String) -> String? { self.items.first { $0.0 == name }?.1 }

    /// `page` (from 1; 0 means 1), `per_page` (default 25, at most 100) and `order` (`desc`
    /// by default, or `asc`), as Census documents its pagination.
    func paging() throws(SimFailure) -> SimState.Paging {
        var paging = SimState.Paging()
        if let text = self.first("page") {
            guard let page = Int(text), page >= 0 else { throw .error(400, "page must be a whole number starting at 1") }
            paging.page = max(1, page)
        }
        if let text = self.first("per_page") {
            guard let perPage = Int(text), perPage >= 1 else { throw .error(400, "per_page must be a whole number from 1 to 100") }
            paging.perPage = min(perPage, 100)
        }
        if let order = self.first("order") {
            switch order.lowercased() {
            case "asc": paging.descending = false
            case "desc": paging.descending = true
            default: throw .error(400, "order must be asc or desc")
            }
        }
        return paging
    }
}
