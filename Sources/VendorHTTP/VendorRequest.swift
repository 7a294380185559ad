import NIOCore
import NIOHTTP1

// MARK: - VendorRequest

/// One vendor API call, relative to the vendor's base URL and base path.
public struct VendorRequest: Sendable {
    /// A query parameter (repeat the name for repeated parameters).
    public struct QueryItem: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public var method: HTTPMethod
    /// The route template for logs and errors, e.g. `/syncs/{syncId}/runs`.
    public var route: String
    /// The path segments after the base path, unescaped; e.g. `["syncs", "42", "runs"]`.
    public var pathSegments: [String]
    public var query: [QueryItem]
    /// The JSON body, if any.
    public var body: ByteBuffer?
    /// Whether sending the request twice has the same effect as sending it once (GET, PATCH with
    /// the same body). Non-idempotent requests are retried only when the vendor certainly did not
    /// act on them; see ``RetryPolicy``.
    public var isIdempotent: Bool

    public init(
        method: HTTPMethod,
        route: String,
        pathSegments: [String],
        query: [QueryItem] = [],
        body: ByteBuffer? = nil,
        isIdempotent: Bool? = nil
    ) {
        self.method = method
        self.route = route
        self.pathSegments = pathSegments
        self.query = query
        self.body = body
        self.isIdempotent = isIdempotent ?? (method != .POST)
    }

    /// A GET of `pathSegments` (idempotent).
    public static func get(route: String, pathSegments: [String], query: [QueryItem] = []) -> VendorRequest {
        VendorRequest(method: .GET, route: route, pathSegments: pathSegments, query: query)
    }

    /// The escaped path after the base path, e.g. `/syncs/42/runs`.
    public var escapedPath: String {
        self.pathSegments.map { "/" + VendorRequest.percentEncode($0) }.joined()
    }

    /// The escaped query string without `?`, or an empty string.
    public var escapedQuery: String {
        self.query.map { VendorRequest.percentEncode($0.name) + "=" + VendorRequest.percentEncode($0.value) }
            .joined(separator: "&")
    }

    private static let hexDigits: [Unicode.Scalar] = Array("0123456789ABCDEF".unicodeScalars)

    /// Escapes everything outside RFC 3986's unreserved characters.
    public static func percentEncode(_ string: String) -> String {
        var encoded = ""
        encoded.reserveCapacity(string.utf8.count)
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(Self.hexDigits[Int(byte >> 4)])
                encoded.unicodeScalars.append(Self.hexDigits[Int(byte & 0x0F)])
            }
        }
        return encoded
    }
}

// MARK: - VendorResponse

/// A successful (2xx) vendor answer.
public struct VendorResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: Int, headers: HTTPHeaders, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

// MARK: - VendorErrorBody

/// What a vendor said in an error answer, extracted by a vendor-specific parser.
public struct VendorErrorBody: Sendable, Hashable {
    public var message: String?
    public var details: VendorJSON?

    public init(message: String? = nil, details: VendorJSON? = nil) {
        self.message = message
        self.details = details
    }
}
