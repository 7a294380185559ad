import Foundation
import NIOCore
import NIOHTTP1
import VendorHTTP

// MARK: - The envelope

/// `{"status": "success", "data": ...}`; an error answer has another `status` (`"error"`, or a
/// number) and a `message`.
struct CensusEnvelope<Payload: Decodable>: Decodable {
    var status: String?
    var data: Payload?
    var message: String?

    private enum CodingKeys: String, CodingKey { case status, data, message }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let word = try? container.decodeIfPresent(String.self, forKey: .status) {
            self.status = word
        } else if let number = try? container.decodeIfPresent(Int.self, forKey: .status) {
            self.status = String(number)
        }
        self.message = try? container.decodeIfPresent(String.self, forKey: .message)
        // Only decode the payload of a successful answer: an error's `data` can be anything.
        if self.status == nil || CensusEnvelope.successWords.contains(self.status ?? "") {
            self.data = try container.decodeIfPresent(Payload.self, forKey: .data)
        }
    }

    /// The `status` words of successful answers (`created`, `updated` and `deleted` are the write
    /// endpoints', which this client does not call; accepted all the same).
    static var successWords: Set<String> { ["success", "created", "updated", "deleted"] }
}

// MARK: - Request plumbing

extension CensusClient {
    /// Sends a request and returns the 2xx answer's body, checked to be a successful envelope.
    func send(
        method: HTTPMethod,
        route: String,
        path: [String],
        query: [VendorRequest.QueryItem] = [],
        body: ByteBuffer? = nil,
        isIdempotent: Bool? = nil
    ) async throws -> VendorResponse {
        let request = VendorRequest(method: method, route: route, pathSegments: path, query: query, body: body, isIdempotent: isIdempotent)
        return try await self.executor.send(request)
    }

    /// Sends a request and decodes the envelope's `data` as `T`.
    func call<T: Decodable>(
        _ type: T.Type,
        method: HTTPMethod = .GET,
        route: String,
        path: [String],
        query: [VendorRequest.QueryItem] = [],
        isIdempotent: Bool? = nil
    ) async throws -> T {
        let response = try await self.send(method: method, route: route, path: path, query: query, isIdempotent: isIdempotent)
        let envelope = try self.decode(CensusEnvelope<T>.self, from: response, method: method, route: route, path: path)
        try self.checkSuccess(envelope.status, message: envelope.message, response: response, method: method, route: route, path: path)
        guard let data = envelope.data else {
            throw self.error(
                .decoding, method: method, route: route, path: path, status: response.status,
                underlying: "the answer has no \"data\" (expected \(T.self))"
            )
        }
        return data
    }

    /// One page of a list: the whole answer (`data`, `pagination`, `next`).
    func page<Element: Decodable & Sendable>(
        _ type: Element.Type,
        route: String,
        path: [String],
        page: Int,
        perPage: Int,
        order: CensusOrder?,
        query: [VendorRequest.QueryItem] = []
    ) async throws -> CensusPage<Element> {
        var paging = [VendorRequest.QueryItem("page", String(max(1, page))), VendorRequest.QueryItem("per_page", String(perPage))]
        if let order { paging.append(VendorRequest.QueryItem("order", order.rawValue)) }
        let response = try await self.send(method: .GET, route: route, path: path, query: query + paging)
        let envelope = try self.decode(CensusEnvelope<[Element]>.self, from: response, method: .GET, route: route, path: path)
        try self.checkSuccess(envelope.status, message: envelope.message, response: response, method: .GET, route: route, path: path)
        return try self.decode(CensusPage<Element>.self, from: response, method: .GET, route: route, path: path)
    }

    /// Follows pages from the first until the last (`pagination.next_page` is null, or without a
    /// `pagination` object a short page), an empty page, or `stop` says enough.
    func collectPages<Element: Decodable & Sendable>(
        _ type: Element.Type,
        route: String,
        path: [String],
        order: CensusOrder?,
        stop: ([Element]) -> Bool = { _ in false }
    ) async throws -> [Element] {
        let perPage = self.configuration.pageSize
        var all: [Element] = []
        var number = 1
        for _ in 0..<self.configuration.maxPages {
            let page = try await self.page(type, route: route, path: path, page: number, perPage: perPage, order: order)
            all.append(contentsOf: page.data)
            guard page.hasMore(requested: perPage), !stop(page.data) else { return all }
            // Follow the server's own next page number when it gives one.
            number = max(number + 1, page.pagination?.nextPage ?? number + 1)
        }
        throw self.error(
            .invalidArgument, method: .GET, route: route, path: path,
            underlying: "more than \(self.configuration.maxPages) pages of \(perPage); raise maxPages"
        )
    }

    // MARK: - Checks

    /// A 200 whose envelope does not say `success` is still an error (`{"status": "error", ...}`).
    private func checkSuccess(
        _ status: String?, message: String?, response: VendorResponse, method: HTTPMethod, route: String, path: [String]
    ) throws {
        guard let status, !CensusEnvelope<VendorJSON>.successWords.contains(status) else { return }
        let said = CensusErrorBody.parse(status: response.status, body: response.body)
        var error = self.error(
            .validation, method: method, route: route, path: path, status: response.status,
            message: said.message ?? message ?? "status \"\(status)\"",
            underlying: "HTTP \(response.status) carrying an error envelope (status \"\(status)\")"
        )
        error.details = said.details
        throw error
    }

    private func decode<T: Decodable>(_ type: T.Type, from response: VendorResponse, method: HTTPMethod, route: String, path: [String]) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
        } catch let decodingError as DecodingError {
            throw self.error(
                .decoding, method: method, route: route, path: path, status: response.status,
                underlying: "expected \(T.self): \(Self.describe(decodingError))"
            )
        } catch {
            throw self.error(.decoding, method: method, route: route, path: path, status: response.status, underlying: "\(error)")
        }
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
            vendor: "census",
            route: "\(method.rawValue) \(route)",
            path: self.configuration.basePath + path.map { "/" + VendorRequest.percentEncode($0) }.joined(),
            status: status,
            message: message,
            underlying: underlying
        )
    }

    /// Refuses an id that Census cannot have issued (empty, not a positive whole number) before
    /// sending anything: a typo must not become a request to another path.
    func require(_ id: CensusID, _ what: String, method: HTTPMethod, route: String) throws {
        guard !id.isWellFormed else { return }
        throw self.error(
            .invalidArgument, method: method, route: route, path: [],
            message: "\(what) must be a positive whole number, got \"\(id.rawValue)\""
        )
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
