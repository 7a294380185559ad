import Hummingbird
import JSONSchema
import SimulatorKit

// MARK: - SimAPIMiddleware

/// In front of every API route: waits the configured latency, then checks the token (401), the
/// account in the path (403), the rate limit (429 with `Retry-After`) and the injected-fault rate
/// (5xx) before the route runs; counts the request by route and status.
struct SimAPIMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let engine: SimEngine

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let route = Self.routeKey(method: request.method.rawValue, endpoint: context.endpointPath ?? request.uri.path)
        let response: Response
        switch self.engine.admit(authorization: request.headers[.authorization], account: context.parameters.get("accountId")) {
        case .admit(let latency):
            try await Self.wait(latency)
            do {
                response = try await next(request, context)
            } catch {
                response = SimHTTP.failure(.envelope(400, "Bad request: \(error)"))
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

    /// `GET /accounts/{accountId}/runs/{runId}/`: the matched route under `/api/v2`, written with
    /// the trailing slash whether or not the request had it.
    static func routeKey(method: String, endpoint: String) -> String {
        var segments = endpoint.split(separator: "/").map { segment -> String in
            if segment == "**" { return "{path}" }
            return segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
        }
        if segments.starts(with: ["api", "v2"]) { segments.removeFirst(2) }
        let trailing = segments.last == "{path}" ? "" : "/"
        return "\(method) /\(segments.joined(separator: "/"))\(trailing)"
    }
}

// MARK: - SimAdminMiddleware

/// Guards `/_admin` with `X-Simulator-Admin-Token` when an admin token is configured.
struct SimAdminMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let adminToken: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let presented = request.headers.first { $0.name.canonicalName == "x-simulator-admin-token" }?.value
        if let adminToken, presented != adminToken {
            return SimHTTP.json(401, .object(["detail": .string("Admin authentication error: send X-Simulator-Admin-Token")]))
        }
        return try await next(request, context)
    }
}
