import Foundation
import NIOCore
import NIOHTTP1
import VendorHTTP

// MARK: - Request plumbing

extension FivetranClient {
    /// Fivetran's envelope: `{"code": "Success", "message": "...", "data": {...}}`.
    struct Envelope<Payload: Decodable>: Decodable {
        var code: String?
        var message: String?
        var data: Payload?
    }

    /// Sends a request and returns the envelope of its 2xx answer, `data` decoded as `Payload`.
    func send<Payload: Decodable>(
        _ payload: Payload.Type,
        method: HTTPMethod,
        route: String,
        path: [String],
        body: (some Encodable & Sendable)? = nil as String?,
        isIdempotent: Bool? = nil
    ) async throws -> Envelope<Payload> {
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
        let request = VendorRequest(method: method, route: route, pathSegments: path, body: buffer, isIdempotent: isIdempotent)
        let response = try await self.executor.send(request)
        do {
            return try JSONDecoder().decode(Envelope<Payload>.self, from: Data(response.body.readableBytesView))
        } catch let decodingError as DecodingError {
            throw self.error(
                .decoding, method: method, route: route, path: path, status: response.status,
                underlying: "expected {\"code\": \"Success\", \"data\": \(Payload.self)}: \(Self.describe(decodingError))"
            )
        }
    }

    /// Sends a request whose answer carries an object in `data`, and returns it.
    func object<Payload: Decodable>(
        _ payload: Payload.Type,
        method: HTTPMethod,
        route: String,
        path: [String],
        body: (some Encodable & Sendable)? = nil as String?
    ) async throws -> Payload {
        let envelope = try await self.send(payload, method: method, route: route, path: path, body: body)
        guard let data = envelope.data else {
            throw self.error(.decoding, method: method, route: route, path: path, status: 200, underlying: "the answer has no \"data\" object")
        }
        return data
    }

    /// Sends a request whose answer is only a code and a message.
    func message(
        method: HTTPMethod,
        route: String,
        path: [String],
        body: (some Encodable & Sendable)? = nil as String?,
        isIdempotent: Bool? = nil
    ) async throws -> FivetranMessage {
        let envelope = try await self.send(VendorJSON.self, method: method, route: route, path: path, body: body, isIdempotent: isIdempotent)
        return FivetranMessage(code: envelope.code ?? "Success", message: envelope.message)
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
            vendor: "fivetran",
            route: "\(method.rawValue) \(route)",
            path: self.configuration.basePath + path.map { "/" + VendorRequest.percentEncode($0) }.joined(),
            status: status,
            message: message,
            underlying: underlying
        )
    }

    /// Refuses an empty id or name before sending anything.
    func require(_ value: String, _ what: String, method: HTTPMethod, route: String) throws {
        guard value.trimmingCharacters(in: .whitespaces).isEmpty else { return }
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
