import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// Sends a simulator's completion webhooks as its vendor does: a JSON body POSTed to the
/// configured URL, signed with the webhook's secret (HMAC-SHA256 of the body, hex) in the vendor's
/// header, retried a few times when the receiver fails (dbt Cloud retries five times). A
/// simulator's state advances lazily, so the simulator looks for ended runs on a short tick
/// (``start(every:collect:)``) and hands their bodies here.
public final class SimWebhookSender: Sendable {
    /// Where and how to send.
    public struct Target: Sendable, Hashable {
        public var url: String
        public var secret: String

        public init(url: String, secret: String) {
            self.url = url
            self.secret = secret
        }
    }

    /// One delivery as the receiver answered it (for tests): the status, or 0 when it could not
    /// be reached.
    public struct Delivery: Sendable, Hashable {
        public var body: String
        public var status: Int
    }

    public let target: Target
    private let signatureHeader: String
    private let upperCaseHex: Bool
    private let attempts: Int
    private let state = Mutex<(deliveries: [Delivery], loop: Task<Void, Never>?)>(([], nil))

    /// - Parameters:
    ///   - signatureHeader: `X-Fivetran-Signature-256` (upper-case hex), `Authorization` (dbt Cloud).
    public init(target: Target, signatureHeader: String, upperCaseHex: Bool, attempts: Int = 5) {
        self.target = target
        self.signatureHeader = signatureHeader
        self.upperCaseHex = upperCaseHex
        self.attempts = attempts
    }

    /// Every delivery attempt so far, oldest first.
    public var deliveries: [Delivery] { state.withLock { $0.deliveries } }

    /// The signature of `body` as this sender sends it.
    public func signature(of body: [UInt8]) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(target.secret.utf8)))
        let hex = code.map { String(format: "%02x", $0) }.joined()
        return upperCaseHex ? hex.uppercased() : hex
    }

    /// Calls `collect` every `interval` until ``stop()``; sends each body it returns.
    public func start(every interval: Duration = .milliseconds(200), collect: @escaping @Sendable () -> [[UInt8]]) {
        let loop = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled else { return }
                for body in collect() {
                    Task { await self.send(body) }
                }
            }
        }
        state.withLock { $0.loop?.cancel(); $0.loop = loop }
    }

    public func stop() {
        state.withLock { $0.loop?.cancel(); $0.loop = nil }
    }

    /// POSTs one body, retrying (1 s, 2 s, …) until a 2xx or the attempts run out.
    public func send(_ body: [UInt8]) async {
        for attempt in 1...max(1, attempts) {
            var request = HTTPClientRequest(url: target.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: signatureHeader, value: signature(of: body))
            request.body = .bytes(ByteBuffer(bytes: body))
            var status = 0
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                status = Int(response.status.code)
                _ = try? await response.body.collect(upTo: 64 * 1024)
            } catch {
                status = 0
            }
            let delivery = Delivery(body: String(decoding: body, as: UTF8.self), status: status)
            state.withLock { $0.deliveries.append(delivery) }
            if (200..<300).contains(status) || attempt == attempts || Task.isCancelled { return }
            try? await Task.sleep(for: .seconds(attempt))
        }
    }
}
