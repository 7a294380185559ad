import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import VendorHTTP

// MARK: - HightouchClient

/// The production client of the Hightouch REST API v1 (`https://api.hightouch.com/api/v1`).
///
/// Every call has a timeout, goes through a client-side rate limiter (200 requests per 10 s per
/// workspace token by default, the documented limit), is retried on 429, 5xx and connection
/// failures with exponential backoff and full jitter within a total budget, and fails with a typed
/// ``VendorError``. The bearer token is never logged, put in an error or shown in a description.
///
/// Ids are ``HightouchID``s: the API sends them as numbers or strings, the client accepts both.
/// List calls without `Page` in their name follow `limit`/`offset` pagination to the end.
///
/// The v1 API documents no DELETE for models or syncs, so this client offers none: to retire a
/// sync, disable it with ``updateSync(id:_:)``.
public struct HightouchClient: Sendable {
    /// Where and how to call Hightouch.
    public struct Configuration: Sendable {
        /// Scheme and host, e.g. `https://api.hightouch.com` (or the simulator's URL).
        public var baseURL: String
        /// Path prefix of every endpoint.
        public var basePath: String
        /// The workspace API key.
        public var token: VendorSecret
        /// Time allowed for one attempt.
        public var timeout: Duration
        /// When and how long to retry.
        public var retryPolicy: RetryPolicy
        /// The client-side limit, or `nil` for none (only for tests and benchmarks).
        public var rateLimit: RateLimiter.Configuration?
        /// `User-Agent` header.
        public var userAgent: String
        /// `limit` of each page when a list is followed to the end.
        public var pageSize: Int
        /// A list that needs more pages than this fails instead of looping forever.
        public var maxPages: Int

        /// The documented limit: 200 requests per 10 seconds per workspace.
        public static let documentedRateLimit = RateLimiter.Configuration(permits: 200, window: .seconds(10))

        public init(
            token: VendorSecret,
            baseURL: String = "https://api.hightouch.com",
            basePath: String = "/api/v1",
            timeout: Duration = .seconds(30),
            retryPolicy: RetryPolicy = .standard,
            rateLimit: RateLimiter.Configuration? = Configuration.documentedRateLimit,
            userAgent: String = VendorUserAgent.factoryOperator,
            pageSize: Int = 100,
            maxPages: Int = 10_000
        ) {
            self.token = token
            self.baseURL = baseURL
            self.basePath = basePath
            self.timeout = timeout
            self.retryPolicy = retryPolicy
            self.rateLimit = rateLimit
            self.userAgent = userAgent
            self.pageSize = max(1, pageSize)
            self.maxPages = max(1, maxPages)
        }
    }

    public let configuration: Configuration
    /// The limiter every call goes through (shared by copies of this client), if any.
    public let rateLimiter: RateLimiter?
    let executor: VendorHTTPExecutor

    /// - Parameters:
    ///   - configuration: endpoint, token, timeout, retries and rate limit.
    ///   - httpClient: the AsyncHTTPClient to use; its lifetime is the caller's.
    ///   - logger: receives per-attempt lines at trace and debug level (never the token).
    ///   - rateLimiter: a limiter shared with other clients of the same token; `nil` creates one
    ///     from `configuration.rateLimit` (none if that is `nil`).
    ///   - clock: time source of retry and rate-limit waits (inject a manual clock in tests).
    ///   - randomUnit: uniform random numbers in `0..<1` for backoff jitter.
    public init(
        configuration: Configuration,
        httpClient: HTTPClient = .shared,
        logger: Logger,
        rateLimiter: RateLimiter? = nil,
        clock: any VendorClock = SystemVendorClock(),
        randomUnit: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.configuration = configuration
        self.rateLimiter = rateLimiter ?? configuration.rateLimit.map { RateLimiter($0, clock: clock) }
        self.executor = VendorHTTPExecutor(
            configuration: .init(
                vendor: "hightouch",
                baseURL: configuration.baseURL,
                basePath: configuration.basePath,
                credential: configuration.token,
                userAgent: configuration.userAgent,
                timeout: configuration.timeout,
                retryPolicy: configuration.retryPolicy
            ),
            httpClient: httpClient,
            rateLimiter: self.rateLimiter,
            logger: logger,
            clock: clock,
            randomUnit: randomUnit,
            parseErrorBody: HightouchErrorBody.parse
        )
    }
}

// MARK: - Description

extension HightouchClient: CustomStringConvertible, CustomReflectable {
    public var description: String {
        let limit = self.configuration.rateLimit.map { "\($0.permits)/\($0.window)" } ?? "none"
        return "HightouchClient(url: \(self.configuration.baseURL)\(self.configuration.basePath), token: <redacted>, "
            + "timeout: \(self.configuration.timeout), rateLimit: \(limit))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["configuration": self.configuration], displayStyle: .struct)
    }
}

extension HightouchClient.Configuration: CustomStringConvertible {
    public var description: String {
        let limit = self.rateLimit.map { "\($0.permits)/\($0.window)" } ?? "none"
        return "HightouchClient.Configuration(url: \(self.baseURL)\(self.basePath), token: <redacted>, "
            + "timeout: \(self.timeout), retry: \(self.retryPolicy.maxAttempts) attempts, rateLimit: \(limit))"
    }
}
