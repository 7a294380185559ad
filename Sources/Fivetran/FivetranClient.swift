import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import VendorHTTP

// MARK: - FivetranClient

/// The production client of the Fivetran REST API v1 (`https://api.fivetran.com/v1`), for what an
/// orchestrator does with a connector: read it, switch it to manual scheduling or unpause it,
/// start a sync, re-sync a table, run its setup tests.
///
/// Every call sends HTTP Basic auth (API key and secret) and `Accept: application/json;version=2`,
/// has a timeout, goes through a client-side rate limiter (20,000 requests per rolling hour by
/// default, the documented account limit), is retried on 429 (waiting what `Retry-After` says),
/// 5xx and connection failures with exponential backoff and full jitter within a total budget,
/// and fails with a typed ``VendorError``. Answers are unwrapped from Fivetran's
/// `{"code": "Success", "data": {...}}` envelope. Neither the key nor the secret is ever logged,
/// put in an error or shown in a description.
///
/// Fivetran's syncs have no id: a sync is seen to end by the connector's `succeeded_at` or
/// `failed_at` moving (``FivetranTimestamp`` compares them exactly, to the microsecond).
public struct FivetranClient: Sendable {
    /// Where and how to call Fivetran.
    public struct Configuration: Sendable {
        /// Scheme and host, e.g. `https://api.fivetran.com` (or the simulator's URL).
        public var baseURL: String
        /// Path prefix of every endpoint.
        public var basePath: String
        /// The API key (the Basic auth user name). Treated as a secret too: it names the account.
        public var apiKey: VendorSecret
        /// The API secret (the Basic auth password).
        public var apiSecret: VendorSecret
        /// Time allowed for one attempt.
        public var timeout: Duration
        /// When and how long to retry.
        public var retryPolicy: RetryPolicy
        /// The client-side limit, or `nil` for none (only for tests and benchmarks).
        public var rateLimit: RateLimiter.Configuration?
        /// `User-Agent` header.
        public var userAgent: String
        /// PEM text of the certificate authorities to trust for HTTPS instead of the system's
        /// (a private CA, or the simulator's self-signed certificate); `nil`: the system's.
        public var trustedCertificatesPEM: String?

        /// The documented account limit: 20,000 requests per rolling hour.
        public static let documentedRateLimit = RateLimiter.Configuration(permits: 20_000, window: .seconds(3_600))

        /// The media type of every request and answer: version 2 of the API's JSON.
        public static let mediaType = "application/json;version=2"

        public init(
            apiKey: VendorSecret,
            apiSecret: VendorSecret,
            baseURL: String = "https://api.fivetran.com",
            basePath: String = "/v1",
            timeout: Duration = .seconds(30),
            retryPolicy: RetryPolicy = .standard,
            rateLimit: RateLimiter.Configuration? = Configuration.documentedRateLimit,
            userAgent: String = VendorUserAgent.factoryOperator,
            trustedCertificatesPEM: String? = nil
        ) {
            self.apiKey = apiKey
            self.apiSecret = apiSecret
            self.baseURL = baseURL
            self.basePath = basePath
            self.timeout = timeout
            self.retryPolicy = retryPolicy
            self.rateLimit = rateLimit
            self.userAgent = userAgent
            self.trustedCertificatesPEM = trustedCertificatesPEM
        }
    }

    public let configuration: Configuration
    /// The limiter every call goes through (shared by copies of this client), if any.
    public let rateLimiter: RateLimiter?
    let executor: VendorHTTPExecutor

    /// - Parameters:
    ///   - configuration: endpoint, credentials, timeout, retries, rate limit and trusted CAs.
    ///   - httpClient: the AsyncHTTPClient to use; its lifetime is the caller's.
    ///   - logger: receives per-attempt lines at trace and debug level (never a credential).
    ///   - rateLimiter: a limiter shared with other clients of the same key; `nil` creates one
    ///     from `configuration.rateLimit` (none if that is `nil`).
    ///   - clock: time source of retry and rate-limit waits (inject a manual clock in tests).
    ///   - randomUnit: uniform random numbers in `0..<1` for backoff jitter.
    /// - Throws: ``VendorError`` `.invalidArgument` if `trustedCertificatesPEM` holds no
    ///   readable certificate.
    public init(
        configuration: Configuration,
        httpClient: HTTPClient = .shared,
        logger: Logger,
        rateLimiter: RateLimiter? = nil,
        clock: any VendorClock = SystemVendorClock(),
        randomUnit: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) throws(VendorError) {
        var tls: TLSConfiguration?
        if let pem = configuration.trustedCertificatesPEM {
            do throws(VendorTLS.Failure) {
                tls = try VendorTLS.trusting(pem: pem, roots: .onlyGiven)
            } catch {
                throw VendorError(
                    code: .invalidArgument, vendor: "fivetran", route: "configuration", path: "",
                    message: error.kind == .noCertificate
                        ? "the trusted CA text holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
                        : "the trusted CA certificates are not readable PEM",
                    underlying: error.reason
                )
            }
        }
        // Basic auth: base64("key:secret"), built once; the executor only ever writes it into the
        // Authorization header.
        let credential = configuration.apiKey.withUnredactedValue { key in
            configuration.apiSecret.withUnredactedValue { secret in
                VendorSecret(Data("\(key):\(secret)".utf8).base64EncodedString())
            }
        }
        self.configuration = configuration
        self.rateLimiter = rateLimiter ?? configuration.rateLimit.map { RateLimiter($0, clock: clock) }
        self.executor = VendorHTTPExecutor(
            configuration: .init(
                vendor: "fivetran",
                baseURL: configuration.baseURL,
                basePath: configuration.basePath,
                credential: credential,
                authorizationScheme: "Basic",
                userAgent: configuration.userAgent,
                timeout: configuration.timeout,
                retryPolicy: configuration.retryPolicy,
                accept: Configuration.mediaType,
                contentType: Configuration.mediaType,
                tlsConfiguration: tls
            ),
            httpClient: httpClient,
            rateLimiter: self.rateLimiter,
            logger: logger,
            clock: clock,
            randomUnit: randomUnit,
            parseErrorBody: FivetranErrorBody.parse
        )
    }
}

// MARK: - Description

extension FivetranClient: CustomStringConvertible, CustomReflectable {
    public var description: String {
        let limit = self.configuration.rateLimit.map { "\($0.permits)/\($0.window)" } ?? "none"
        return "FivetranClient(url: \(self.configuration.baseURL)\(self.configuration.basePath), key: <redacted>, secret: <redacted>, "
            + "timeout: \(self.configuration.timeout), rateLimit: \(limit)\(self.configuration.trustedCertificatesPEM == nil ? "" : ", private CA"))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["configuration": self.configuration], displayStyle: .struct)
    }
}

extension FivetranClient.Configuration: CustomStringConvertible {
    public var description: String {
        let limit = self.rateLimit.map { "\($0.permits)/\($0.window)" } ?? "none"
        return "FivetranClient.Configuration(url: \(self.baseURL)\(self.basePath), key: <redacted>, secret: <redacted>, "
            + "timeout: \(self.timeout), retry: \(self.retryPolicy.maxAttempts) attempts, rateLimit: \(limit)"
            + "\(self.trustedCertificatesPEM == nil ? "" : ", private CA"))"
    }
}
