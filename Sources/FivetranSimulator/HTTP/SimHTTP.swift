import Foundation
import Hummingbird
import NIOCore
import SimulatorKit

// MARK: - SimHTTP

/// Building answers and reading requests.
enum SimHTTP {
    /// Largest request body read (1 MiB); a larger one is answered 413.
    static let maxBodyBytes = 1 << 20

    /// The media type of every answer, as Fivetran's API versions it.
    static let mediaType = "application/json;version=2"

    static func json(_ status: Int, _ body: SimJSON, retryAfter: Int? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = self.mediaType
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(
            status: HTTPResponse.Status(code: status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: body.text))
        )
    }

    static func answer(_ result: Result<SimJSON, SimFailure>) -> Response {
        switch result {
        case .success(let body): self.json(200, body)
        case .failure(let failure): self.failure(failure)
        }
    }

    static func failure(_ failure: SimFailure) -> Response {
        self.json(failure.status, failure.body, retryAfter: failure.retryAfter)
    }

    /// The parsed JSON body, whatever its Content-Type (clients send `application/json`, with or
    /// without `;version=2`, and some none at all); `nil` for an empty body. Throws 400 for a
    /// body that is not JSON, 413 for one too large.
    static func body(of request: Request) async throws(SimFailure) -> SimJSON? {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            throw SimFailure(status: 413, code: "PayloadTooLarge", message: "The request body exceeds 1 MiB.")
        }
        let bytes = buffer.readableBytesView
        if bytes.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) { return nil }
        guard let json = SimJSON.parse(bytes) else { throw SimFailure.malformedJSON }
        return json
    }

    /// A path parameter, percent-decoded.
    static func parameter(_ context: BasicRequestContext, _ name: String) -> String {
        let raw = context.parameters.get(name) ?? ""
        return raw.removingPercentEncoding ?? raw
    }
}
