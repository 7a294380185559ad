import FactoryEngine
import FactoryModel
import Foundation
import JSONSchema

/// The spec of an `http` resource, read and checked beyond its schema: one HTTP request, and
/// optionally a status endpoint polled until it says the work has ended.
///
/// ```yaml
/// spec:
///   baseUrl: https://api.example.com
///   method: POST
///   endpoint: /jobs
///   headers: {X-Team: data, Authorization: {secretEnv: EXAMPLE_TOKEN}}
///   query: {dryRun: "false"}
///   body: {table: orders}
///   expectStatus: 2xx              # a code, a list of codes, or "2xx"
///   timeout: 10m                   # the whole run, polling included
///   poll:                          # optional
///     endpoint: /jobs/${response./id}
///     successWhen: {pointer: /state, equals: done}
///     failureWhen: {pointer: /state, equals: failed}
/// ```
public struct HTTPTaskSpec: Sendable {
    public enum Method: String, Sendable, CaseIterable {
        case GET, POST, PUT, PATCH, DELETE
    }

    /// A header's value: given, or read from the operator's environment (an allowed variable).
    public enum HeaderValue: Sendable, Hashable {
        case text(String)
        case secretEnv(String)
    }

    /// `{pointer, equals}`: true when the JSON answer has `equals` at `pointer`.
    public struct Condition: Sendable, Hashable {
        public var pointer: JSONPointer
        public var equals: JSONValue
    }

    public struct Poll: Sendable {
        /// The path to poll; `${response./pointer}` is replaced with the trigger answer's value.
        public var endpoint: String
        public var successWhen: Condition
        public var failureWhen: Condition?
    }

    public var baseURL: URL
    public var method: Method
    public var endpoint: String
    public var headers: [(name: String, value: HeaderValue)]
    public var query: [(name: String, value: String)]
    public var body: JSONValue?
    /// The statuses that count as success.
    public var expectStatus: Set<Int>
    public var timeout: Duration?
    public var poll: Poll?

    /// Reads `spec`. `allowedSecrets` are the variables a spec may name in `secretEnv`.
    static func decode(_ spec: JSONValue, allowedSecrets: Set<String>) throws(VendorFailure) -> HTTPTaskSpec {
        func refuse(_ pointer: String, _ message: String) -> VendorFailure {
            VendorFailure(kind: .rejected, reason: "schemaViolation", message: "/spec\(pointer): \(message)")
        }
        guard let base = spec["baseUrl"]?.stringValue, let url = URL(string: base), let scheme = url.scheme?.lowercased(),
            ["http", "https"].contains(scheme), url.host != nil
        else {
            throw refuse("/baseUrl", "expected an http:// or https:// URL")
        }
        guard let methodText = spec["method"]?.stringValue, let method = Method(rawValue: methodText.uppercased()) else {
            throw refuse("/method", "expected one of \(Method.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let endpoint = spec["endpoint"]?.stringValue ?? "/"
        guard endpoint.hasPrefix("/"), !endpoint.contains(where: { $0.isWhitespace }) else {
            throw refuse("/endpoint", "expected a path starting with /, without spaces")
        }
        var headers: [(String, HeaderValue)] = []
        for member in spec["headers"]?.objectValue ?? JSONObject() {
            guard !member.key.isEmpty, member.key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) }) else {
                throw refuse("/headers", "\"\(member.key.prefix(40))\" is not a header name")
            }
            if member.key.lowercased() == "idempotency-key" {
                throw refuse("/headers/\(member.key)", "the operator sets Idempotency-Key itself (the command's id)")
            }
            switch member.value {
            case .string(let text):
                guard !text.contains(where: { $0 == "\r" || $0 == "\n" }) else { throw refuse("/headers/\(member.key)", "a header value is one line") }
                headers.append((member.key, .text(text)))
            case .object(let object):
                guard let name = object["secretEnv"]?.stringValue, object.count == 1 else {
                    throw refuse("/headers/\(member.key)", "expected a string or {secretEnv: NAME}")
                }
                guard allowedSecrets.contains(name) else {
                    throw refuse(
                        "/headers/\(member.key)/secretEnv",
                        "\(name) is not one of the variables HTTP tasks may read (HTTP_TASK_SECRET_ENV: \(allowedSecrets.sorted().joined(separator: ", ")))"
                    )
                }
                headers.append((member.key, .secretEnv(name)))
            default:
                throw refuse("/headers/\(member.key)", "expected a string or {secretEnv: NAME}")
            }
        }
        var query: [(String, String)] = []
        for member in spec["query"]?.objectValue ?? JSONObject() {
            switch member.value {
            case .string(let text): query.append((member.key, text))
            case .number(let number): query.append((member.key, number.jsonLiteral))
            case .bool(let flag): query.append((member.key, flag ? "true" : "false"))
            default: throw refuse("/query/\(member.key)", "expected a string, number or boolean")
            }
        }
        let expected = try expectStatus(spec["expectStatus"], refuse: refuse)
        var timeout: Duration?
        if let text = spec["timeout"]?.stringValue {
            guard let value = DurationParser.parse(text), value > .zero else { throw refuse("/timeout", DurationParser.expectation) }
            timeout = value
        }
        var poll: Poll?
        if let value = spec["poll"] {
            guard let pollEndpoint = value["endpoint"]?.stringValue, pollEndpoint.hasPrefix("/") else {
                throw refuse("/poll/endpoint", "expected a path starting with /")
            }
            guard let success = try condition(value["successWhen"], at: "/poll/successWhen", refuse: refuse) else {
                throw refuse("/poll/successWhen", "required: {pointer, equals}")
            }
            poll = Poll(endpoint: pollEndpoint, successWhen: success, failureWhen: try condition(value["failureWhen"], at: "/poll/failureWhen", refuse: refuse))
        }
        return HTTPTaskSpec(
            baseURL: url, method: method, endpoint: endpoint, headers: headers, query: query, body: spec["body"], expectStatus: expected,
            timeout: timeout, poll: poll
        )
    }

    private static func expectStatus(_ value: JSONValue?, refuse: (String, String) -> VendorFailure) throws(VendorFailure) -> Set<Int> {
        guard let value else { return Set(200...299) }
        switch value {
        case .number(let number):
            guard let code = number.intValue, (100...599).contains(code) else { throw refuse("/expectStatus", "expected an HTTP status code") }
            return [code]
        case .string(let text):
            guard text.count == 3, text.hasSuffix("xx"), let hundreds = Int(text.prefix(1)), (1...5).contains(hundreds) else {
                throw refuse("/expectStatus", "expected a code, a list of codes, or a class such as \"2xx\"")
            }
            return Set((hundreds * 100)...(hundreds * 100 + 99))
        case .array(let items):
            var codes = Set<Int>()
            for item in items {
                guard let code = item.numberValue?.intValue, (100...599).contains(code) else { throw refuse("/expectStatus", "expected HTTP status codes") }
                codes.insert(code)
            }
            guard !codes.isEmpty else { throw refuse("/expectStatus", "expected at least one status code") }
            return codes
        default:
            throw refuse("/expectStatus", "expected a code, a list of codes, or a class such as \"2xx\"")
        }
    }

    private static func condition(_ value: JSONValue?, at path: String, refuse: (String, String) -> VendorFailure) throws(VendorFailure) -> Condition? {
        guard let value else { return nil }
        guard let pointerText = value["pointer"]?.stringValue, let pointer = try? JSONPointer(parsing: pointerText), let equals = value["equals"] else {
            throw refuse(path, "expected {pointer: /a/json/pointer, equals: value}")
        }
        return Condition(pointer: pointer, equals: equals)
    }

    /// The request's URL: base, endpoint (with `${response./pointer}` filled from `response`), query.
    static func url(base: URL, endpoint: String, query: [(name: String, value: String)], response: JSONValue? = nil) -> URL? {
        var path = endpoint
        if let response {
            path = fill(path, from: response)
        }
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        guard var components = URLComponents(string: text + path) else { return nil }
        if !query.isEmpty {
            components.queryItems = (components.queryItems ?? []) + query.map { URLQueryItem(name: $0.name, value: $0.value) }
        }
        return components.url
    }

    /// `${response./id}` → the answer's value at `/id`, percent-encoded for a path.
    static func fill(_ template: String, from response: JSONValue) -> String {
        var result = ""
        var rest = Substring(template)
        while let start = rest.range(of: "${response.") {
            result += rest[..<start.lowerBound]
            let after = rest[start.upperBound...]
            guard let end = after.firstIndex(of: "}") else {
                result += rest[start.lowerBound...]
                return result
            }
            let pointerText = String(after[..<end])
            var value = ""
            if let pointer = try? JSONPointer(parsing: pointerText), let found = response.value(at: pointer) {
                value = found.stringValue ?? found.serialized()
            }
            result += value.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? ""
            rest = after[after.index(after: end)...]
        }
        return result + rest
    }
}
