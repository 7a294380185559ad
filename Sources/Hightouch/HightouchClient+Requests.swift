import Foundation
import NIOCore
import NIOHTTP1
import VendorHTTP

// MARK: - Request plumbing

extension HightouchClient {
    /// Sends a request and decodes the 2xx answer as `T`.
    func call<T: Decodable>(
        _ type: T.Type,
        method: HTTPMethod,
        route: String,
        path: [String],
        query: [VendorRequest.QueryItem] = [],
        body: (some Encodable & Sendable)? = nil as String?,
        isIdempotent: Bool? = nil
    ) async throws -> T {
        var buffer: ByteBuffer?
        if let body {
            do {
                buffer = ByteBuffer(bytes: try HightouchCoding.makeEncoder().encode(body))
            } catch {
                throw self.error(.invalidArgument, method: method, route: route, path: path, underlying: "\(error)")
            }
        }
        let request = VendorRequest(
            method: method,
            route: route,
            pathSegments: path,
            query: query,
            body: buffer,
            isIdempotent: isIdempotent
        )
        let response = try await self.executor.send(request)
        do {
            return try HightouchCoding.makeDecoder().decode(T.self, from: Data(response.body.readableBytesView))
        } catch let decodingError as DecodingError {
            // The spec lets several 200 answers be `anyOf` the object, `ValidateErrorJSON` or
            // `InternalServerError`: an error in a 200 is still an error.
            let said = HightouchErrorBody.parse(status: response.status, body: response.body)
            if let message = said.message, said.details != nil || message == "Internal Server Error" {
                var error = self.error(
                    message == "Internal Server Error" ? .server : .validation,
                    method: method,
                    route: route,
                    path: path,
                    status: response.status,
                    message: message,
                    underlying: "HTTP \(response.status) carrying an error body"
                )
                error.details = said.details
                error.outcomeUnknown = message == "Internal Server Error"
                throw error
            }
            throw self.error(
                .decoding,
                method: method,
                route: route,
                path: path,
                status: response.status,
                underlying: "expected \(T.self): \(Self.describe(decodingError))"
            )
        }
    }

    /// Follows `limit`/`offset` pages until `hasMore` is false (or, where the endpoint does not
    /// report it, until a page comes back short), a page is empty, or `stop` says enough.
    func collectPages<Element: Decodable & Sendable>(
        _ type: Element.Type,
        route: String,
        path: [String],
        query: [VendorRequest.QueryItem],
        stop: ([Element]) -> Bool = { _ in false }
    ) async throws -> [Element] {
        let limit = self.configuration.pageSize
        var offset = 0
        var all: [Element] = []
        for _ in 0..<self.configuration.maxPages {
            let page = try await self.page(type, route: route, path: path, query: query, limit: limit, offset: offset)
            all.append(contentsOf: page.data)
            guard !page.data.isEmpty, page.hasMore ?? (page.data.count >= limit), !stop(page.data) else {
                return all
            }
            offset += page.data.count
        }
        throw self.error(
            .invalidArgument,
            method: .GET,
            route: route,
            path: path,
            underlying: "more than \(self.configuration.maxPages) pages of \(limit); narrow the filter or raise maxPages"
        )
    }

    /// One page of a list.
    func page<Element: Decodable & Sendable>(
        _ type: Element.Type,
        route: String,
        path: [String],
        query: [VendorRequest.QueryItem],
        limit: Int,
        offset: Int
    ) async throws -> HightouchPage<Element> {
        let paging = [VendorRequest.QueryItem("limit", String(limit)), VendorRequest.QueryItem("offset", String(offset))]
        return try await self.call(
            HightouchPage<Element>.self,
            method: .GET,
            route: route,
            path: path,
            query: query + paging
        )
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
            vendor: "hightouch",
            route: "\(method.rawValue) \(route)",
            path: self.configuration.basePath + path.map { "/" + VendorRequest.percentEncode($0) }.joined(),
            status: status,
            message: message,
            underlying: underlying
        )
    }

    /// Refuses an empty id or slug before sending anything.
    func require(_ value: String, _ what: String, method: HTTPMethod, route: String) throws {
        guard value.trimmingSpaces.isEmpty else { return }
        throw self.error(.invalidArgument, method: method, route: route, path: [], message: "\(what) must not be empty")
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
