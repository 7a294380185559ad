import Foundation
import NIOCore
import NIOHTTP1
import VendorHTTP

// MARK: - The envelope

/// `{"status": {...}, "data": ..., "extra": {...}}`, every answer of the v2 API but artifacts.
struct DBTCloudEnvelope<Payload: Decodable>: Decodable {
    struct Status: Decodable {
        var code: Int?
        var isSuccess: Bool?
        var userMessage: String?

        private enum CodingKeys: String, CodingKey {
            case code
            case isSuccess = "is_success"
            case userMessage = "user_message"
        }
    }

    struct Extra: Decodable {
        struct Filters: Decodable {
            var limit: Int?
            var offset: Int?
        }

        struct Pagination: Decodable {
            var count: Int?
            var totalCount: Int?

            private enum CodingKeys: String, CodingKey {
                case count
                case totalCount = "total_count"
            }
        }

        var filters: Filters?
        var pagination: Pagination?
    }

    var status: Status?
    var data: Payload
    var extra: Extra?
}

// MARK: - Request plumbing

extension DBTCloudClient {
    /// `["accounts", "<account>"] + rest + [""]`: the empty last segment is the trailing slash.
    static func path(account: Int, _ rest: String...) -> [String] {
        ["accounts", String(account)] + rest + [""]
    }

    /// Sends a request and returns the raw 2xx answer.
    func send(
        method: HTTPMethod,
        route: String,
        path: [String],
        query: [VendorRequest.QueryItem] = [],
        body: (some Encodable & Sendable)? = nil as String?,
        isIdempotent: Bool? = nil
    ) async throws -> VendorResponse {
        var buffer: ByteBuffer?
        if let body {
            do {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                buffer = ByteBuffer(bytes: try encoder.encode(body))
            } catch {
                throw self.error(.invalidArgument, method: method, route: route, path: path, underlying: "\(error)")
            }
        }
        let request = VendorRequest(method: method, route: route, pathSegments: path, query: query, body: buffer, isIdempotent: isIdempotent)
        return try await self.executor.send(request)
    }

    /// Sends a request and decodes the envelope's `data` as `T`.
    func call<T: Decodable>(
        _ type: T.Type,
        method: HTTPMethod,
        route: String,
        path: [String],
        query: [VendorRequest.QueryItem] = [],
        body: (some Encodable & Sendable)? = nil as String?,
        isIdempotent: Bool? = nil
    ) async throws -> (data: T, extra: DBTCloudEnvelope<T>.Extra?) {
        let response = try await self.send(method: method, route: route, path: path, query: query, body: body, isIdempotent: isIdempotent)
        do {
            let envelope = try JSONDecoder().decode(DBTCloudEnvelope<T>.self, from: Data(response.body.readableBytesView))
            if envelope.status?.isSuccess == false {
                // An error envelope in a 2xx is still an error.
                let said = DBTCloudErrorBody.parse(status: response.status, body: response.body)
                var error = self.error(
                    .validation, method: method, route: route, path: path, status: response.status, message: said.message,
                    underlying: "HTTP \(response.status) carrying status.is_success false"
                )
                error.details = said.details
                throw error
            }
            return (envelope.data, envelope.extra)
        } catch let decodingError as DecodingError {
            let said = DBTCloudErrorBody.parse(status: response.status, body: response.body)
            throw self.error(
                .decoding, method: method, route: route, path: path, status: response.status, message: said.message,
                underlying: "expected {\"status\": ..., \"data\": \(T.self)}: \(Self.describe(decodingError))"
            )
        }
    }

    /// Follows `limit`/`offset` pages until `extra.pagination.total_count` is reached, a page comes
    /// back short or empty, or `stop` says enough.
    func collectPages<Element: Decodable & Sendable & Hashable>(
        _ type: Element.Type,
        route: String,
        path: [String],
        query: [VendorRequest.QueryItem],
        maxPages: Int? = nil,
        stop: ([Element]) -> Bool = { _ in false }
    ) async throws -> [Element] {
        let limit = self.configuration.pageSize
        var offset = 0
        var all: [Element] = []
        let pages = min(maxPages ?? self.configuration.maxPages, self.configuration.maxPages)
        for _ in 0..<pages {
            let page = try await self.page(type, route: route, path: path, query: query, limit: limit, offset: offset)
            all.append(contentsOf: page.data)
            guard page.hasMore, !stop(page.data) else { return all }
            offset += page.data.count
        }
        if maxPages != nil { return all }
        throw self.error(
            .invalidArgument, method: .GET, route: route, path: path,
            underlying: "more than \(self.configuration.maxPages) pages of \(limit); narrow the filter or raise maxPages"
        )
    }

    /// One page of a list.
    func page<Element: Decodable & Sendable & Hashable>(
        _ type: Element.Type,
        route: String,
        path: [String],
        query: [VendorRequest.QueryItem],
        limit: Int,
        offset: Int
    ) async throws -> DBTCloudPage<Element> {
        let paging = [VendorRequest.QueryItem("limit", String(limit)), VendorRequest.QueryItem("offset", String(offset))]
        let (data, extra) = try await self.call([Element].self, method: .GET, route: route, path: path, query: query + paging)
        return DBTCloudPage(data: data, totalCount: extra?.pagination?.totalCount, limit: extra?.filters?.limit ?? limit, offset: offset)
    }

    /// A ``VendorError`` raised by the client itself (bad argument, undecodable answer).
    func error(
        _ code: VendorError.Code,
        method: HTTPMethod,
        route: String,
        path: [String],
        status: Int? = nil,
        message: String? = nil,
        underlying: String? = nil
    ) -> VendorError {
        VendorError(
            code: code,
            vendor: "dbtcloud",
            route: "\(method.rawValue) \(route)",
            path: Self.basePath + path.map { "/" + VendorRequest.percentEncode($0) }.joined(),
            status: status,
            message: message,
            underlying: underlying
        )
    }

    /// Refuses a non-positive id before sending anything.
    func require(_ value: Int, _ what: String, method: HTTPMethod, route: String) throws {
        guard value <= 0 else { return }
        throw self.error(.invalidArgument, method: method, route: route, path: [], message: "\(what) must be a positive number, got \(value)")
    }

    private static func describe(_ error: DecodingError) -> String {
        func pathText(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "<root>" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing \(pathText(context.codingPath + [key]))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(pathText(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
