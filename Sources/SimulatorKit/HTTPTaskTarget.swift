import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A target of HTTP tasks, for tests: `POST /jobs` keeps idempotency keys (a repeated key gets the
/// first answer, one effect), `GET /jobs/:id` is polled until done, and failures, a hang
/// (`/hang`), a redirect loop (`/loop`) and an endless answer (`/endless`).
public final class HTTPTaskTarget: Sendable {
    /// One effect (a job created): the key it was created under, and the `target` member of the
    /// request's JSON body, when it has a whole number there (how tests and chaos runs tell whose
    /// job it is without trusting the key).
    public struct Effect: Sendable, Hashable {
        public var id: Int
        public var key: String
        public var target: Int?
    }

    public struct State: Sendable {
        /// Idempotency key → the job id it created: a repeated key gets the first answer.
        public var jobsByKey: [String: Int] = [:]
        public var effects = 0
        public var requests = 0
        public var keys: [String] = []
        public var authorizations: [String] = []
        public var failuresLeft = 0
        public var pollsBeforeDone = 2
        public var jobOutcome = "done"
        /// The outcome of the jobs of one body `target`, instead of `jobOutcome`.
        public var outcomesByTarget: [Int: String] = [:]
        public var polls: [Int: Int] = [:]
        /// Every effect, in order (`effects` of them).
        public var effectLog: [Effect] = []

        /// Effects per idempotency key: 1 for every key while the target keeps keys.
        public var effectsByKey: [String: Int] { effectLog.reduce(into: [:]) { $0[$1.key, default: 0] += 1 } }
        /// Effects per body `target` (effects without one are not counted).
        public var effectsByTarget: [Int: Int] {
            effectLog.reduce(into: [:]) { counts, effect in
                if let target = effect.target { counts[target, default: 0] += 1 }
            }
        }

        /// What job `id` ends as (`done`, `failed`, …) once polled enough; nil for no such job.
        public func outcome(ofJob id: Int) -> String? {
            guard let effect = effectLog.first(where: { $0.id == id }) else { return nil }
            return effect.target.flatMap { outcomesByTarget[$0] } ?? jobOutcome
        }
    }

    public let state = Mutex(State())
    private let server = ServedApplication()

    public init() {}

    /// Starts the target on `port` of the loopback interface (0: a free one); returns its base URL.
    public func start(port requested: Int = 0) async throws -> String {
        let port = try await server.start { onListening in
            Application(
                router: self.router(), configuration: .init(address: .hostname("127.0.0.1", port: requested)),
                onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
                logger: Logger(label: "simulator-kit", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        }
        return "http://127.0.0.1:\(port)"
    }

    private func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("jobs") { request, _ -> Response in
            let key = request.headers.first { $0.name.canonicalName == "idempotency-key" }?.value ?? ""
            let body = try await request.body.collect(upTo: 1 << 20)
            let target = Self.target(in: body)
            let failing = self.state.withLock { state -> Bool in
                state.requests += 1
                state.keys.append(key)
                state.authorizations.append(request.headers[.authorization] ?? "")
                if state.failuresLeft > 0 {
                    state.failuresLeft -= 1
                    return true
                }
                return false
            }
            if failing { return Response(status: .serviceUnavailable) }
            let id = self.state.withLock { state -> Int in
                if let id = state.jobsByKey[key] { return id }
                state.effects += 1
                let id = state.effects
                state.jobsByKey[key] = id
                state.effectLog.append(Effect(id: id, key: key, target: target))
                return id
            }
            return Self.json(.created, #"{"id": \#(id), "state": "accepted"}"#)
        }
        router.get("jobs/:id") { _, context -> Response in
            let id = context.parameters.get("id", as: Int.self) ?? 0
            let (count, limit, outcome) = self.state.withLock { state -> (Int, Int, String) in
                state.polls[id, default: 0] += 1
                return (state.polls[id] ?? 0, state.pollsBeforeDone, state.outcome(ofJob: id) ?? state.jobOutcome)
            }
            return Self.json(.ok, #"{"id": \#(id), "state": "\#(count >= limit ? outcome : "running")"}"#)
        }
        router.get("missing") { _, _ in Self.json(.notFound, #"{"error": "no such thing"}"#) }
        router.get("hang") { _, _ -> Response in
            try await Task.sleep(for: .seconds(30))
            return Response(status: .ok)
        }
        router.get("loop") { _, _ in Response(status: .found, headers: [.location: "/loop2"]) }
        router.get("loop2") { _, _ in Response(status: .found, headers: [.location: "/loop"]) }
        router.get("endless") { _, _ -> Response in
            Response(status: .ok, body: ResponseBody { writer in
                let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
                for _ in 0..<16_384 { try await writer.write(chunk) }  // 1 GiB, unless the reader leaves
                try await writer.finish(nil)
            })
        }
        return router
    }

    public func stop() async {
        await server.stop()
    }

    /// The whole number in the JSON body's top-level `target` member, if any.
    static func target(in body: ByteBuffer) -> Int? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any],
            let number = object["target"] as? NSNumber, let value = Int(exactly: number.doubleValue)
        else { return nil }
        return value
    }

    public static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
