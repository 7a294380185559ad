import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// An HTTP proxy in front of a vendor (or its simulator) that can hold requests: the operator is
/// pointed at the proxy, a test parks the next request that matches (a trigger, say), kills the
/// replica that sent it, and then decides what the vendor saw: ``Release/forward`` (the vendor
/// acted, the answer went to a dead process: a crash between trigger and record) or
/// ``Release/drop`` (nothing reached the vendor: a crash between the recorded intent and the
/// trigger). Everything else is forwarded as it came.
public final class FaultProxy: Sendable {
    /// What becomes of a parked request.
    public enum Release: Sendable {
        /// Sent on to the vendor; its answer goes back to whoever is still listening.
        case forward
        /// Never sent; the caller (if still there) gets a 503.
        case drop
    }

    /// A request as the rule sees it.
    public struct Seen: Sendable, Hashable {
        public var method: String
        /// The path and query, as sent (`/api/v2/accounts/1/jobs/7/run/`).
        public var target: String
    }

    private struct Rule {
        var remaining: Int
        var matches: @Sendable (Seen) -> Bool
    }

    private struct Parked {
        var seen: Seen
        var continuation: CheckedContinuation<Release, Never>
    }

    private struct State {
        var rule: Rule?
        var parked: [Parked] = []
        var seen: [Seen] = []
        var forwarded = 0
        var dropped = 0
    }

    /// The vendor's base URL (scheme, host, port), without a trailing slash.
    public let upstream: String
    private let state = Mutex(State())
    private let server = ServedApplication()
    private let client: HTTPClient
    private static let maxBodyBytes = 16 * 1024 * 1024

    public init(upstream: String) {
        self.upstream = upstream.hasSuffix("/") ? String(upstream.dropLast()) : upstream
        self.client = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    /// Serves on a free loopback port; returns the proxy's base URL.
    public func start() async throws -> String {
        let port = try await server.start { onListening in
            Application(
                responder: CallbackResponder { (request: Request, _: BasicRequestContext) in try await self.handle(request) },
                configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
                onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
                logger: Logger(label: "simulator-kit", factory: { _ in SwiftLogNoOpLogHandler() })
            )
        }
        return "http://127.0.0.1:\(port)"
    }

    /// Stops serving, lets every parked request go on (so no caller hangs), and shuts the client down.
    public func stop() async {
        releaseParked(.forward)
        await server.stop()
        try? await client.shutdown()
    }

    /// Parks the next `count` requests that `matches` accepts, until ``releaseParked(_:)``.
    public func park(next count: Int = 1, where matches: @escaping @Sendable (Seen) -> Bool) {
        state.withLock { $0.rule = Rule(remaining: count, matches: matches) }
    }

    /// The requests parked now.
    public var parked: [Seen] { state.withLock { $0.parked.map(\.seen) } }

    /// Every request seen, in order.
    public var seen: [Seen] { state.withLock { $0.seen } }

    /// Requests forwarded and dropped so far.
    public var counts: (forwarded: Int, dropped: Int) { state.withLock { ($0.forwarded, $0.dropped) } }

    /// Waits until `count` requests are parked; false if the time ran out first.
    public func waitForParked(_ count: Int = 1, timeout: Duration = .seconds(30)) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if state.withLock({ $0.parked.count }) >= count { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    /// Releases every parked request as `release` says.
    public func releaseParked(_ release: Release) {
        let parked = state.withLock { state in
            defer { state.parked.removeAll() }
            return state.parked
        }
        for request in parked { request.continuation.resume(returning: release) }
    }

    private func handle(_ request: Request) async throws -> Response {
        let seen = Seen(method: request.method.rawValue, target: request.uri.description)
        let body = try await request.body.collect(upTo: Self.maxBodyBytes)
        let parks = state.withLock { state -> Bool in
            state.seen.append(seen)
            guard var rule = state.rule, rule.remaining > 0, rule.matches(seen) else { return false }
            rule.remaining -= 1
            state.rule = rule
            return true
        }
        if parks {
            let release = await withCheckedContinuation { continuation in
                state.withLock { $0.parked.append(Parked(seen: seen, continuation: continuation)) }
            }
            if release == .drop {
                state.withLock { $0.dropped += 1 }
                return Response(status: .serviceUnavailable)
            }
        }
        return try await forward(request, target: seen.target, body: body)
    }

    private func forward(_ request: Request, target: String, body: ByteBuffer) async throws -> Response {
        var outgoing = HTTPClientRequest(url: upstream + target)
        outgoing.method = HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers where !["host", "content-length", "transfer-encoding"].contains(field.name.canonicalName) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        if body.readableBytes > 0 || request.method == .post || request.method == .put || request.method == .patch {
            outgoing.body = .bytes(body)
        }
        state.withLock { $0.forwarded += 1 }
        let answer = try await client.execute(outgoing, timeout: .seconds(60))
        let answerBody = try await answer.body.collect(upTo: Self.maxBodyBytes)
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            guard let field = HTTPFields.Element.Name(name), !["content-length", "transfer-encoding", "connection"].contains(field.canonicalName) else { continue }
            headers.append(HTTPFields.Element(name: field, value: value))
        }
        return Response(status: HTTPResponse.Status(code: Int(answer.status.code)), headers: headers, body: ResponseBody(byteBuffer: answerBody))
    }
}
