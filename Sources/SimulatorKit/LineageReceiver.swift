import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// An OpenLineage HTTP endpoint for tests, as Marquez serves it: `POST /api/v1/lineage` with a
/// run event as JSON, answered 201. It can fail every `failEvery`th request (500, nothing kept),
/// refuse events of one job for good (400), and ask for a bearer token. It keeps what it accepted,
/// by identity (run id and event type), so a test counts deliveries per event.
public final class LineageReceiver: Sendable {
    public struct State: Sendable {
        /// Every request, accepted or not.
        public var requests = 0
        /// Events accepted, in order, as posted.
        public var accepted: [[UInt8]] = []
        /// Acceptances per identity (`<runId>-<eventType>`): 1 each when every event arrives once.
        public var acceptedByIdentity: [String: Int] = [:]
        /// Answered 500 on purpose.
        public var failed = 0
        /// Answered 400 (a job refused for good).
        public var refused = 0
        /// The `Authorization` header of each request.
        public var authorizations: Set<String> = []
    }

    public let state = Mutex(State())
    private let failEvery: Int
    private let refuseJob: String?
    private let token: String?
    private let server = ServedApplication()

    /// - Parameters:
    ///   - failEvery: every `failEvery`th request is answered 500 (0: never).
    ///   - refuseJob: events of the job with this name are answered 400.
    ///   - token: when set, a request without `Authorization: Bearer <token>` is answered 401.
    public init(failEvery: Int = 0, refuseJob: String? = nil, token: String? = nil) {
        self.failEvery = failEvery
        self.refuseJob = refuseJob
        self.token = token
    }

    /// Starts on a free loopback port; returns the endpoint's URL (`…/api/v1/lineage`).
    public func start() async throws -> String {
        let port = try await server.start { onListening in
            Application(
                router: self.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
                logger: Logger(label: "lineage-receiver", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        }
        return "http://127.0.0.1:\(port)/api/v1/lineage"
    }

    public func stop() async { await server.stop() }

    public var snapshot: State { state.withLock { $0 } }

    private func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("api/v1/lineage") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            let bytes = Array(body.readableBytesView)
            let event = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
            let run = (event?["run"] as? [String: Any])?["runId"] as? String
            let eventType = event?["eventType"] as? String
            let job = (event?["job"] as? [String: Any])?["name"] as? String
            let authorization = request.headers[.authorization] ?? ""
            let status: HTTPResponse.Status = self.state.withLock { state in
                state.requests += 1
                state.authorizations.insert(authorization)
                if let token = self.token, authorization != "Bearer \(token)" { return .unauthorized }
                guard let run, let eventType else { return .badRequest }
                if let refuseJob = self.refuseJob, job == refuseJob {
                    state.refused += 1
                    return .badRequest
                }
                if self.failEvery > 0, state.requests.isMultiple(of: self.failEvery) {
                    state.failed += 1
                    return .internalServerError
                }
                state.accepted.append(bytes)
                state.acceptedByIdentity["\(run)-\(eventType)", default: 0] += 1
                return .created
            }
            return Response(status: status)
        }
        return router
    }
}
