import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import VendorHTTP

// MARK: - DBTCloudClient

/// The production client of the dbt Cloud Administrative API v2
/// (`https://cloud.getdbt.com/api/v2/accounts/{account_id}/...`).
///
/// Every call has a timeout, goes through a client-side rate limiter (5,000 requests per minute
/// per account by default, the documented limit), is retried on 429 (honouring `Retry-After`),
/// 5xx and connection failures with exponential backoff and full jitter within a total budget,
/// and fails with a typed ``VendorError``. The API token is sent as `Authorization: Token <token>`
/// and never logged, put in an error or shown in a description.
///
/// Paths end with the trailing slash dbt Cloud uses (`.../jobs/42/run/`): its routing answers a
/// `POST` without it with 405. Answers come in the envelope
/// `{"status": {"code", "is_success", "user_message", "developer_message"}, "data": ..., "extra": ...}`;
/// the client returns `data` and turns an error envelope into a ``VendorError`` carrying
/// `user_message` and the field errors in `data`.
///
/// The account is an argument of every call, not of the client: one operator serves resources of
/// several accounts with one token.
public struct DBTCloudClient: Sendable {
    /// Where and how to call dbt Cloud.
    public struct Configuration: Sendable {
        /// Scheme and host (the account's access URL), e.g. `https://cloud.getdbt.com`,
        /// `https://ab123.us1.dbt.com`, or the simulator's URL.
        public var baseURL: String
        /// The API token (a service token or a personal access token).
        public var token: VendorSecret
        /// Time allowed for one attempt.
        public var timeout: Duration
        /// When and how long to retry.
        public var retryPolicy: RetryPolicy
        /// The client-side limit, or `nil` for none (only for tests and benchmarks).
        public var rateLimit: RateLimiter.Configuration?
        /// `User-Agent` header.
        public var userAgent: String
        /// A PEM file of CA certificates trusted besides the system's, for HTTPS to a private
        /// endpoint (or the simulator with a self-signed certificate). `nil`: the system's only.
        public var caFile: String?
        /// `limit` of each page when a list is followed (the API allows 1 to 100).
        public var pageSize: Int
        /// A list that needs more pages than this fails instead of looping forever.
        public var maxPages: Int

        /// The documented limit of the Administrative API: 5,000 requests per minute per account.
        public static let documentedRateLimit = RateLimiter.Configuration(permits: 5_000, window: .seconds(60))

        /// The multi-tenant access URL, the default of dbt Cloud's own clients.
        public static let defaultBaseURL = "https://cloud.getdbt.com"

        public init(
            token: VendorSecret,
            baseURL: String = Configuration.defaultBaseURL,
            timeout: Duration = .seconds(30),
            retryPolicy: RetryPolicy = .standard,
            rateLimit: RateLimiter.Configuration? = Configuration.documentedRateLimit,
            userAgent: String = VendorUserAgent.factoryOperator,
            caFile: String? = nil,
            pageSize: Int = 100,
            maxPages: Int = 1_000
        ) {
            self.token = token
            self.baseURL = baseURL
            self.timeout = timeout
            self.retryPolicy = retryPolicy
            self.rateLimit = rateLimit
            self.userAgent = userAgent
            self.caFile = caFile
            self.pageSize = min(max(1, pageSize), 100)
            self.maxPages = max(1, maxPages)
        }
    }

    /// The API's path prefix; the account follows it in every path.
    public static let basePath = "/api/v2"

    public let configuration: Configuration
    /// The limiter every call goes through (shared by copies of this client), if any.
    public let rateLimiter: RateLimiter?
    let executor: VendorHTTPExecutor
    /// The HTTP client this client made for its CA file, kept alive as long as any copy is.

    /// - Parameters:
    ///   - configuration: endpoint, token, timeout, retries, rate limit and trusted CAs.
    ///   - httpClient: the AsyncHTTPClient to use (its lifetime is the caller's). `nil`: the shared
    ///     client. `configuration.caFile` is trusted per request, whichever client.
    ///   - logger: receives per-attempt lines at trace and debug level (never the token).
    ///   - rateLimiter: a limiter shared with other clients of the same account; `nil` creates one
    ///     from `configuration.rateLimit` (none if that is `nil`).
    ///   - clock: time source of retry and rate-limit waits (inject a manual clock in tests).
    ///   - randomUnit: uniform random numbers in `0..<1` for backoff jitter.
    /// - Throws: ``VendorError`` with code `.invalidArgument` if the CA file cannot be read or
    ///   holds no PEM certificate (nothing was sent).
    public init(
        configuration: Configuration,
        httpClient: HTTPClient? = nil,
        logger: Logger,
        rateLimiter: RateLimiter? = nil,
        clock: any VendorClock = SystemVendorClock(),
        randomUnit: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) throws(VendorError) {
        self.configuration = configuration
        self.rateLimiter = rateLimiter ?? configuration.rateLimit.map { RateLimiter($0, clock: clock) }
        var tls: TLSConfiguration?
        if let caFile = configuration.caFile {
            do throws(VendorTLS.Failure) {
                // Added to the system's roots, not instead of them: the same operator may reach the
                // public multi-tenant host and a private endpoint.
                tls = try VendorTLS.trusting(caFile: caFile, roots: .givenAndSystem)
            } catch {
                throw VendorError(
                    code: .invalidArgument, vendor: "dbtcloud", route: "TLS set-up", path: caFile,
                    message: error.kind == .noCertificate
                        ? "the CA file \(caFile) holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
                        : "the CA file \(caFile) cannot be read as PEM certificates",
                    underlying: error.reason
                )
            }
        }
        self.executor = VendorHTTPExecutor(
            configuration: .init(
                vendor: "dbtcloud",
                baseURL: configuration.baseURL,
                basePath: Self.basePath,
                credential: configuration.token,
                authorizationScheme: "Token",
                userAgent: configuration.userAgent,
                timeout: configuration.timeout,
                retryPolicy: configuration.retryPolicy,
                tlsConfiguration: tls
            ),
            httpClient: httpClient ?? .shared,
            rateLimiter: self.rateLimiter,
            logger: logger,
            clock: clock,
            randomUnit: randomUnit,
            parseErrorBody: DBTCloudErrorBody.parse
        )
    }
}

// MARK: - Description

extension DBTCloudClient: CustomStringConvertible, CustomReflectable {
    public var description: String {
        let limit = self.configuration.rateLimit.map { "\($0.permits)/\($0.window)" } ?? "none"
        return "DBTCloudClient(url: \(self.configuration.baseURL)\(Self.basePath), token: <redacted>, "
            + "timeout: \(self.configuration.timeout), rateLimit: \(limit)"
            + (self.configuration.caFile.map { ", ca: \($0)" } ?? "") + ")"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["configuration": self.configuration], displayStyle: .struct)
    }
}

extension DBTCloudClient.Configuration: CustomStringConvertible {
    public var description: String {
        let limit = self.rateLimit.map { "\($0.permits)/\($0.window)" } ?? "none"
        return "DBTCloudClient.Configuration(url: \(self.baseURL)\(DBTCloudClient.basePath), token: <redacted>, "
            + "timeout: \(self.timeout), retry: \(self.retryPolicy.maxAttempts) attempts, rateLimit: \(limit)"
            + (self.caFile.map { ", ca: \($0)" } ?? "") + ")"
    }
}
