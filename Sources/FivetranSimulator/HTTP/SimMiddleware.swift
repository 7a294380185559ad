import Hummingbird
import SimulatorKit

// MARK: - SimAPIMiddleware

/// In front of every API route: counts the request by route and status, waits the configured
/// latency, then checks the Basic credentials (401), the Accept header (406), the per-key rate
/// limit (429 with `Retry-After`) and the injected-fault rate (5xx) before the route runs.
struct SimAPIMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let engine: SimEngine
    static let basePath = "/v1"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let route = Self.routeKey(method: request.method.rawValue, endpoint: context.endpointPath ?? request.uri.path)
        let response: Response
        switch self.engine.admit(authorization: request.headers[.authorization], accept: request.headers[.accept]) {
        case .admit(let latency):
            try await Self.wait(latency)
            do {
                response = try await next(request, context)
            } catch let error as HTTPError where error.status == .notFound {
                response = SimHTTP.failure(SimFailure(status: 404, code: "NotFound", message: "No such endpoint: \(request.method.rawValue) \(request.uri.path)"))
            } catch {
                response = SimHTTP.failure(.invalidInput("\(error)"))
            }
        case .reject(let failure, let latency):
            try await Self.wait(latency)
            response = SimHTTP.failure(failure)
        }
        self.engine.count(route: route, status: Int(response.status.code))
        return response
    }

    private static func wait(_ seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(for: .nanoseconds(Int64(seconds * 1e9)))
    }

    /// `GET /connectors/{connectorId}`: the matched route template relative to `/v1`.
    static func routeKey(method: String, endpoint: String) -> String {
        var path = Substring(endpoint)
        if path.hasPrefix(self.basePath) { path = path.dropFirst(self.basePath.count) }
        let segments = path.split(separator: "/").map { segment -> String in
            segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }
        return "\(method) /\(segments.joined(separator: "/"))"
    }
}

// MARK: - SimAdminMiddleware

/// Guards `/_admin` with `X-Simulator-Admin-Token` when an admin token is configured.
struct SimAdminMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let adminToken: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let presented = request.headers.first { $0.name.canonicalName == Self.headerName }?.value
        if let adminToken, presented != adminToken {
            return SimHTTP.failure(SimFailure(status: 401, code: "AuthFailed", message: "Send the admin token in X-Simulator-Admin-Token."))
        }
        return try await next(request, context)
    }

    /// Lower-case header name.
    static let headerName = "x-simulator-admin-token"
}
