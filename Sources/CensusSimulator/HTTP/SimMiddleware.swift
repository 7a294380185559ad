import Hummingbird
import SimulatorKit

// MARK: - SimAPIMiddleware

/// In front of every API route: counts the request by route and status, waits the configured
/// latency, then checks the credential (401), the per-token rate limit (429) and the
/// injected-fault rate (5xx) before the route runs.
struct SimAPIMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let engine: SimEngine
    let basePath: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let route = self.routeKey(method: request.method.rawValue, endpoint: context.endpointPath ?? request.uri.path)
        let response: Response
        switch self.engine.admit(authorization: request.headers[.authorization]) {
        case .admit(let latency):
            try await Self.wait(latency)
            do {
                response = try await next(request, context)
            } catch {
                response = SimHTTP.failure(.error(400, "Bad request: \(error)"))
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

    /// `GET /syncs/{sync_id}`: the matched route template relative to the base path.
    private func routeKey(method: String, endpoint: String) -> String {
        var path = Substring(endpoint)
        if !self.basePath.isEmpty, path.hasPrefix(self.basePath) { path = path.dropFirst(self.basePath.count) }
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
        let presented = request.headers.first { $0.name.canonicalName == "x-simulator-admin-token" }?.value
        if let adminToken, presented != adminToken {
            return SimHTTP.failure(.error(401, "Admin authentication error: send X-Simulator-Admin-Token"))
        }
        return try await next(request, context)
    }
}
