import AsyncHTTPClient
import FactoryModel
import Foundation
import Lineage
import Logging
import NATSKit
import NIOCore
import NIOHTTP1

/// Where the forwarder sends events: an OpenLineage HTTP endpoint.
public protocol LineageEndpoint: Sendable {
    /// Posts one event; returns the HTTP status, or throws when no answer came.
    func post(_ event: [UInt8], timeout: Duration) async throws -> Int
}

/// An OpenLineage HTTP endpoint (Marquez's `POST /api/v1/lineage`, DataHub's), with an optional
/// bearer token. The token is sent in the `Authorization` header and nowhere else: not in logs,
/// errors or the description.
public struct HTTPLineageEndpoint: LineageEndpoint, CustomStringConvertible {
    public let url: URL
    private let token: String?
    private let client: HTTPClient

    public init(url: URL, token: String?, client: HTTPClient = .shared) {
        self.url = url
        self.token = token
        self.client = client
    }

    public func post(_ event: [UInt8], timeout: Duration) async throws -> Int {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "factory-operator-lineage/\(LineageProducer.version)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: event))
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        let response = try await client.execute(request, timeout: .milliseconds(max(1, milliseconds)))
        // Read (and drop) the body so the connection is reused.
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }

    /// The URL without user info; never the token.
    public var description: String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        components?.user = nil
        components?.password = nil
        return components?.string ?? "the lineage endpoint"
    }
}

/// Events the endpoint refused for good, kept for a person to look at.
public protocol LineageDeadLetters: Sendable {
    func record(_ event: [UInt8], identity: String?, status: Int, reason: String) async throws
}

/// Dead letters as messages on `LINEAGE_DEADLETTER_SUBJECT`: the event as it was, the reason in
/// headers.
public struct JetStreamLineageDeadLetters: LineageDeadLetters {
    public static let statusHeader = "Factory-Lineage-Status"
    public static let reasonHeader = "Factory-Lineage-Reason"
    public static let identityHeader = "Factory-Lineage-Identity"

    let jetStream: JetStreamContext
    let subject: String

    public init(jetStream: JetStreamContext, subject: String) {
        self.jetStream = jetStream
        self.subject = subject
    }

    public func record(_ event: [UInt8], identity: String?, status: Int, reason: String) async throws {
        var headers = NATSHeaders()
        headers[Self.statusHeader] = String(status)
        headers[Self.reasonHeader] = String(reason.map { $0.isNewline ? " " : $0 }.prefix(1000))
        if let identity { headers[Self.identityHeader] = identity }
        // The event's identity again: a dead letter recorded twice (a lost ack) is kept once.
        try await jetStream.publish(event, to: subject, headers: headers, options: JetStreamPublishOptions(messageID: identity.map { "deadletter-\($0)" }))
    }
}

/// Forwards every lineage event to an OpenLineage HTTP endpoint: a handler of the shared durable
/// consumer on the lineage stream (every replica runs one; each event goes to one of them). An
/// event is acknowledged only after a 2xx answer; a refusal for good (a 4xx other than 408 and
/// 429) is logged and dead-lettered, then acknowledged; anything else (no answer, a timeout, 408,
/// 429, 5xx) is redelivered after a backoff that doubles with each delivery, up to `maxBackoff`.
/// It runs in its own worker pool, so a slow or unreachable endpoint never touches commands.
public struct LineageForwarder: Sendable {
    let endpoint: any LineageEndpoint
    let deadLetters: any LineageDeadLetters
    let requestTimeout: Duration
    let baseBackoff: Duration
    let maxBackoff: Duration
    let logger: Logger

    public init(
        endpoint: any LineageEndpoint, deadLetters: any LineageDeadLetters, requestTimeout: Duration = .seconds(10), baseBackoff: Duration = .seconds(1),
        maxBackoff: Duration = .seconds(60), logger: Logger
    ) {
        self.endpoint = endpoint
        self.deadLetters = deadLetters
        self.requestTimeout = requestTimeout
        self.baseBackoff = baseBackoff
        self.maxBackoff = maxBackoff
        self.logger = logger
    }

    public func handle(_ message: JetStreamMessage) async -> CommandDisposition {
        await handle(payload: message.payload, identity: message.headers["Nats-Msg-Id"], deliveryCount: message.metadata?.deliveryCount ?? 1)
    }

    /// What to do with one delivery of an event.
    public func handle(payload: [UInt8], identity: String?, deliveryCount: Int) async -> CommandDisposition {
        let label = identity ?? "an event without identity"
        let status: Int
        do {
            status = try await endpoint.post(payload, timeout: requestTimeout)
        } catch {
            OperatorMetrics.lineageForwarded(outcome: "error")
            log(deliveryCount, "Could not reach the lineage endpoint; retrying later", ["lineage.event": "\(label)", "error": "\(Self.describe(error))"])
            return .nak(delay: backoff(deliveryCount))
        }
        switch status {
        case 200...299:
            OperatorMetrics.lineageForwarded(outcome: "delivered")
            return .ack
        case 408, 429, 500...599:
            OperatorMetrics.lineageForwarded(outcome: "retry")
            log(deliveryCount, "The lineage endpoint did not take an event now; retrying later", ["lineage.event": "\(label)", "http.status": "\(status)"])
            return .nak(delay: backoff(deliveryCount))
        default:
            // The endpoint refuses this event for good: retrying would refuse it again.
            let reason = status >= 400 && status < 500 ? "refused (HTTP \(status))" : "unexpected answer (HTTP \(status))"
            logger.error(
                "The lineage endpoint refused an event; dead-lettered",
                metadata: ["lineage.event": "\(label)", "http.status": "\(status)", "endpoint": "\(endpoint)"])
            do {
                try await deadLetters.record(payload, identity: identity, status: status, reason: reason)
            } catch {
                logger.warning("Could not dead-letter a refused lineage event; retrying later", metadata: ["lineage.event": "\(label)", "error": "\(error)"])
                return .nak(delay: backoff(deliveryCount))
            }
            OperatorMetrics.lineageForwarded(outcome: "deadlettered")
            return .ack
        }
    }

    /// `baseBackoff` doubling with each delivery, at most `maxBackoff`, with up to a quarter
    /// more at random so replicas that failed together do not retry together.
    public func backoff(_ deliveryCount: Int) -> Duration {
        let exponent = min(max(deliveryCount - 1, 0), 20)
        let capped = min(baseBackoff * (1 << exponent), maxBackoff)
        return capped + capped * Double.random(in: 0..<0.25)
    }

    /// The first failure of an event and every tenth after it, so an endpoint that is down for an
    /// hour does not fill the log.
    private func log(_ deliveryCount: Int, _ message: Logger.Message, _ metadata: Logger.Metadata) {
        guard deliveryCount == 1 || deliveryCount.isMultiple(of: 10) else { return }
        var metadata = metadata
        metadata["delivery"] = "\(deliveryCount)"
        metadata["endpoint"] = "\(endpoint)"
        logger.warning(message, metadata: metadata)
    }

    /// An error without anything a URL's user info or a header could carry.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        return String(describing: type(of: error))
    }
}
