import AsyncHTTPClient
import Foundation
import Logging
import NIOSSL
import VendorHTTP

// MARK: - CensusClient

/// The production client of the Census API v1 (`https://app.getcensus.com/api/v1`; Census is now
/// Fivetran Activations, same API).
///
/// Every call has a timeout, goes through a client-side rate limiter, is retried on 429, 5xx and
/// connection failures with exponential backoff and full jitter within a total budget (a trigger
/// only when Census certainly did not act on it), and fails with a typed ``VendorError``. The
/// token is never logged, put in an error or shown in a description.
///
/// Census wraps every answer in an envelope, `{"status": "success", "data": ...}`; the client
/// unwraps it and treats any other `status` as an error, even in a 200. Ids are ``CensusID``s.
/// List calls without `Page` in their name follow `page`/`per_page` pagination to the end.
///
/// FactoryOperator does not own Census syncs, so the client reads syncs and connections and
/// triggers and follows runs; it creates, changes and deletes nothing.
public struct CensusClient: Sendable {
    /// Where and how to call Census.
    public struct Configuration: Sendable {
        /// Scheme and host, e.g. `https://app.getcensus.com` (EU: `https://app-eu.getcensus.com`,
        /// or the simulator's URL).
        public var baseURL: String
        /// Path prefix of every endpoint.
        public var basePath: String
        /// The workspace API token, with or without its `secret-token:` prefix: the client sends
        /// `Authorization: Bearer secret-token:<token>` either way, as Census issues and expects it.
        public var token: VendorSecret
        /// Time allowed for one attempt.
        public var timeout: Duration
        /// When and how long to retry.
        public var retryPolicy: RetryPolicy
        /// The client-side limit, or `nil` for none (only for tests and benchmarks).
        public var rateLimit: RateLimiter.Configuration?
        /// `User-Agent` header.
        public var userAgent: String
        /// `per_page` when a list is followed to the end (Census allows at most 100).
        public var pageSize: Int
        /// A list that needs more pages than this fails instead of looping forever.
        public var maxPages: Int
        /// A PEM file of CA certificates to verify the server with, instead of the system's roots
        /// (a proxy with its own CA, or the simulator serving HTTPS with a test certificate).
        public var caCertificateFile: String?

        /// Census documents no rate limit; this keeps one client polite: 100 requests per 10 s.
        public static let defaultRateLimit = RateLimiter.Configuration(permits: 100, window: .seconds(10))

        /// Census's `per_page` ceiling.
        public static let maxPageSize = 100

        public init(
            token: VendorSecret,
            baseURL: String = "https://app.getcensus.com",
            basePath: String = "/api/v1",
            timeout: Duration = .seconds(30),
            retryPolicy: RetryPolicy = .standard,
            rateLimit: RateLimiter.Configuration? = Configuration.defaultRateLimit,
            userAgent: String = VendorUserAgent.factoryOperator,
            pageSize: Int = Configuration.maxPageSize,
            maxPages: Int = 10_000,
            caCertificateFile: String? = nil
        ) {
            self.token = token
            self.baseURL = baseURL
            self.basePath = basePath
            self.timeout = timeout
            self.retryPolicy = retryPolicy
            self.rateLimit = rateLimit
            self.userAgent = userAgent
            self.pageSize = min(max(1, pageSize), Self.maxPageSize)
            self.maxPages = max(1, maxPages)
            self.caCertificateFile = caCertificateFile
        }
    }

    /// The prefix Census puts before every API token.
    public static let tokenPrefix = "secret-token:"

    public let configuration: Configuration
    /// The limiter every call goes through (shared by copies of this client), if any.
    public let rateLimiter: RateLimiter?
    let executor: VendorHTTPExecutor

    /// - Parameters:
    ///   - configuration: endpoint, token, timeout, retries, rate limit and CA.
    ///   - httpClient: the AsyncHTTPClient to use; its lifetime is the caller's. `nil`: the shared
    ///     client. A ``Configuration/caCertificateFile`` is trusted per request, whichever client.
    ///   - logger: receives per-attempt lines at trace and debug level (never the token).
    ///   - rateLimiter: a limiter shared with other clients of the same token; `nil` creates one
    ///     from `configuration.rateLimit` (none if that is `nil`).
    ///   - clock: time source of retry and rate-limit waits (inject a manual clock in tests).
    ///   - randomUnit: uniform random numbers in `0..<1` for backoff jitter.
    /// - Throws: ``CensusTLSError`` when the CA file cannot be read.
    public init(
        configuration: Configuration,
        httpClient: HTTPClient? = nil,
        logger: Logger,
        rateLimiter: RateLimiter? = nil,
        clock: any VendorClock = SystemVendorClock(),
        randomUnit: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) throws(CensusTLSError) {
        var tls: TLSConfiguration?
        if let caFile = configuration.caCertificateFile {
            do throws(VendorTLS.Failure) {
                tls = try VendorTLS.trusting(caFile: caFile, roots: .onlyGiven)
            } catch {
                throw CensusTLSError(path: caFile, reason: error.kind == .unreadable ? "not a readable PEM file (\(error.reason))" : error.reason)
            }
        }
        self.configuration = configuration
        self.rateLimiter = rateLimiter ?? configuration.rateLimit.map { RateLimiter($0, clock: clock) }
        self.executor = VendorHTTPExecutor(
            configuration: .init(
                vendor: "census",
                baseURL: configuration.baseURL,
                basePath: configuration.basePath,
                credential: Self.bearerCredential(configuration.token),
                authorizationScheme: "Bearer",
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
            parseErrorBody: CensusErrorBody.parse
        )
    }

    /// The credential as Census expects it after `Bearer `: the token with its `secret-token:`
    /// prefix, added when the configured token lacks it (as dagster-census does); surrounding
    /// white space (a trailing newline from a secret file) is dropped.
    static func bearerCredential(_ token: VendorSecret) -> VendorSecret {
        token.withUnredactedValue { value in
            let trimmed = value.censusTrimmed
            return VendorSecret(trimmed.hasPrefix(Self.tokenPrefix) ? trimmed : Self.tokenPrefix + trimmed)
        }
    }
}

// MARK: - Description

extension CensusClient: CustomStringConvertible, CustomReflectable {
    public var description: String {
        "CensusClient(\(self.configuration.summary))"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["configuration": self.configuration], displayStyle: .struct)
    }
}

extension CensusClient.Configuration: CustomStringConvertible, CustomReflectable {
    /// Endpoint, limits and CA; the token shows as `<redacted>`.
    var summary: String {
        let limit = self.rateLimit.map { "\($0.permits)/\($0.window)" } ?? "none"
        return "url: \(self.baseURL)\(self.basePath), token: <redacted>, timeout: \(self.timeout), "
            + "retry: \(self.retryPolicy.maxAttempts) attempts, rateLimit: \(limit), ca: \(self.caCertificateFile ?? "system")"
    }

    public var description: String { "CensusClient.Configuration(\(self.summary))" }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "baseURL": self.baseURL, "basePath": self.basePath, "token": self.token, "timeout": self.timeout,
                "rateLimit": self.rateLimit as Any, "caCertificateFile": self.caCertificateFile as Any,
            ],
            displayStyle: .struct
        )
    }
}
