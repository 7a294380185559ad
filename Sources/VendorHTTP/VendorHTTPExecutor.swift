import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - VendorHTTPExecutor

/// Sends vendor API calls over AsyncHTTPClient with what every vendor client needs: a timeout on
/// every attempt, the client-side rate limiter, retries with exponential backoff and full jitter
/// within a total budget, and typed ``VendorError``s.
///
/// The credential is added to the `Authorization` header of each attempt and appears nowhere else:
/// not in log lines, errors or descriptions.
public struct VendorHTTPExecutor: Sendable {
    /// What the executor needs to know about one vendor.
    public struct Configuration: Sendable {
        /// Short vendor name for logs and errors, e.g. `hightouch`.
        public var vendor: String
        /// Scheme, host and port, e.g. `https://api.hightouch.com`.
        public var baseURL: String
        /// Path prefix of every route, e.g. `/api/v1`.
        public var basePath: String
        /// The API credential.
        public var credential: VendorSecret
        /// `Authorization` scheme put before the credential.
        public var authorizationScheme: String
        /// The `User-Agent` header.
        public var userAgent: String
        /// Time allowed for one attempt, from sending to the last byte of the answer.
        public var timeout: Duration
        /// When to retry.
        public var retryPolicy: RetryPolicy
        /// Answers larger than this are refused (protects memory from a misrouted download).
        public var maxResponseBytes: Int
        /// The `Accept` header (Fivetran versions its answers with `application/json;version=2`).
        public var accept: String
        /// The `Content-Type` of request bodies.
        public var contentType: String
        /// TLS for this vendor's connections, e.g. a private CA to trust; `nil` uses the system's
        /// trust store. Set per request, so one shared `HTTPClient` serves every vendor.
        public var tlsConfiguration: TLSConfiguration?

        public init(
            vendor: String,
            baseURL: String,
            basePath: String,
            credential: VendorSecret,
            authorizationScheme: String = "Bearer",
            userAgent: String = VendorUserAgent.factoryOperator,
            timeout: Duration = .seconds(30),
            retryPolicy: RetryPolicy = .standard,
            maxResponseBytes: Int = 16 << 20,
            accept: String = "application/json",
            contentType: String = "application/json",
            tlsConfiguration: TLSConfiguration? = nil
        ) {
            self.vendor = vendor
            self.baseURL = baseURL
            self.basePath = basePath
            self.credential = credential
            self.authorizationScheme = authorizationScheme
            self.userAgent = userAgent
            self.timeout = timeout
            self.retryPolicy = retryPolicy
            self.maxResponseBytes = maxResponseBytes
            self.accept = accept
            self.contentType = contentType
            self.tlsConfiguration = tlsConfiguration
        }
    }

    /// Extracts the vendor's message and details from an error answer.
    public typealias ErrorBodyParser = @Sendable (_ status: Int, _ body: ByteBuffer) -> VendorErrorBody

    public let configuration: Configuration
    private let httpClient: HTTPClient
    private let rateLimiter: RateLimiter?
    private let clock: any VendorClock
    private let logger: Logger
    private let parseErrorBody: ErrorBodyParser
    private let randomUnit: @Sendable () -> Double
    private let urlPrefix: String
    private let basePathPrefix: String

    /// - Parameters:
    ///   - configuration: vendor, endpoint, credential, timeout and retry policy.
    ///   - httpClient: the AsyncHTTPClient to send with (its lifetime is the caller's).
    ///   - rateLimiter: the limiter shared by every client of this credential, or `nil` for none.
    ///   - logger: receives one line per attempt at trace/debug level.
    ///   - clock: the time source of waits (inject a manual clock in tests).
    ///   - randomUnit: uniform random numbers in `0..<1` for the jitter (inject for determinism).
    ///   - parseErrorBody: extracts the vendor's message and details from error answers.
    public init(
        configuration: Configuration,
        httpClient: HTTPClient = .shared,
        rateLimiter: RateLimiter?,
        logger: Logger,
        clock: any VendorClock = SystemVendorClock(),
        randomUnit: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        parseErrorBody: @escaping ErrorBodyParser
    ) {
        self.configuration = configuration
        self.httpClient = httpClient
        self.rateLimiter = rateLimiter
        self.clock = clock
        self.randomUnit = randomUnit
        self.parseErrorBody = parseErrorBody
        var logger = logger
        logger[metadataKey: VendorLoggingKeys.vendor] = .string(configuration.vendor)
        self.logger = logger
        var base = configuration.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        let trimmedPath = configuration.basePath.split(separator: "/").joined(separator: "/")
        self.basePathPrefix = trimmedPath.isEmpty ? "" : "/" + trimmedPath
        self.urlPrefix = base + self.basePathPrefix
    }

    /// The full URL of `request`.
    public func url(for request: VendorRequest) -> String {
        let query = request.escapedQuery
        return self.urlPrefix + request.escapedPath + (query.isEmpty ? "" : "?" + query)
    }

    /// Sends `request`, retrying as the policy allows, and returns the 2xx answer.
    ///
    /// - Throws: ``VendorError`` for every failure, `CancellationError` if the task is cancelled,
    ///   or what the task's ``VendorSendGuard`` threw (nothing was sent then).
    public func send(_ request: VendorRequest) async throws -> VendorResponse {
        let policy = self.configuration.retryPolicy
        let url = self.url(for: request)
        let route = "\(request.method.rawValue) \(request.route)"
        let path = self.basePathPrefix + request.escapedPath
        var logger = self.logger
        // Only debug and trace lines are written from here: below that, setting metadata on
        // every request was measurable work for nothing.
        if logger.logLevel <= .debug {
            logger[metadataKey: VendorLoggingKeys.method] = .string(request.method.rawValue)
            logger[metadataKey: VendorLoggingKeys.route] = .string(route)
            logger[metadataKey: VendorLoggingKeys.path] = .string(path)
        }

        let start = self.clock.now
        var attempt = 0
        while true {
            attempt += 1
            try Task.checkCancellation()
            // The permit is held until the answer is in: its token returns one window later.
            let permit = try await self.rateLimiter?.acquire()
            if let check = VendorSendGuard.current?.check {
                // After the permit: the wait for it can be long, and the check is about now.
                do {
                    try await check()
                } catch {
                    permit?.releaseUnused()
                    throw error
                }
            }
            // Every attempt gets the full timeout: time spent queueing for a permit or in earlier
            // attempts must not turn into a spurious timeout. The budget bounds the retries.
            let timeout = self.configuration.timeout
            let attemptStart = self.clock.now
            var error: VendorError
            var retryAfter: Duration?
            do {
                defer { permit?.release() }
                let answer: Answer
                do {
                    answer = try await self.perform(request, url: url, timeout: timeout)
                } catch let failure as AttemptFailure {
                    VendorMetrics.record(vendor: self.configuration.vendor, route: route, outcome: failure.code.description, elapsed: self.clock.now - attemptStart)
                    throw failure
                }
                let elapsed = self.clock.now - attemptStart
                VendorMetrics.record(vendor: self.configuration.vendor, route: route, outcome: String(answer.status), elapsed: elapsed)
                if (200...299).contains(answer.status) {
                    logger.trace(
                        "vendor request succeeded",
                        metadata: [
                            VendorLoggingKeys.status: .stringConvertible(answer.status),
                            VendorLoggingKeys.attempt: .stringConvertible(attempt),
                            VendorLoggingKeys.elapsedMilliseconds: .stringConvertible(elapsed.milliseconds),
                        ]
                    )
                    return VendorResponse(status: answer.status, headers: answer.headers, body: answer.body)
                }
                let said = self.parseErrorBody(answer.status, answer.body)
                error = VendorError(
                    code: VendorError.Code(status: answer.status),
                    vendor: self.configuration.vendor,
                    route: route,
                    path: path,
                    status: answer.status,
                    message: said.message,
                    details: said.details,
                    attempts: attempt,
                    outcomeUnknown: (500...599).contains(answer.status)
                )
                retryAfter = Self.retryAfter(answer.headers)
            } catch let failure as AttemptFailure {
                error = VendorError(
                    code: failure.code,
                    vendor: self.configuration.vendor,
                    route: route,
                    path: path,
                    attempts: attempt,
                    outcomeUnknown: failure.outcomeUnknown,
                    underlying: failure.underlying
                )
            }

            let elapsed = self.clock.now - start
            var metadata: Logger.Metadata = [
                VendorLoggingKeys.errorCode: .stringConvertible(error.code),
                VendorLoggingKeys.attempt: .stringConvertible(attempt),
                VendorLoggingKeys.elapsedMilliseconds: .stringConvertible(elapsed.milliseconds),
            ]
            if let status = error.status { metadata[VendorLoggingKeys.status] = .stringConvertible(status) }

            guard attempt < policy.maxAttempts, policy.allowsRetry(of: error, idempotent: request.isIdempotent) else {
                logger.debug("vendor request failed", metadata: metadata)
                throw error
            }
            let delay = retryAfter ?? policy.backoff(afterAttempt: attempt, unit: self.randomUnit())
            guard elapsed + delay < policy.totalBudget else {
                logger.debug("vendor request failed, retry budget exhausted", metadata: metadata)
                throw error
            }
            metadata[VendorLoggingKeys.retryDelayMilliseconds] = .stringConvertible(delay.milliseconds)
            logger.debug("vendor request failed, retrying", metadata: metadata)
            try await self.clock.sleep(until: self.clock.now + delay)
        }
    }

    // MARK: - One attempt

    private struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// A failure before a complete answer arrived.
    private struct AttemptFailure: Error {
        var code: VendorError.Code
        var outcomeUnknown: Bool
        var underlying: String
    }

    private func perform(_ request: VendorRequest, url: String, timeout: Duration) async throws -> Answer {
        var httpRequest = HTTPClientRequest(url: url)
        httpRequest.method = request.method
        httpRequest.tlsConfiguration = self.configuration.tlsConfiguration
        httpRequest.headers.add(name: "Accept", value: self.configuration.accept)
        httpRequest.headers.add(name: "User-Agent", value: self.configuration.userAgent)
        self.configuration.credential.withUnredactedValue { credential in
            httpRequest.headers.add(name: "Authorization", value: "\(self.configuration.authorizationScheme) \(credential)")
        }
        if let body = request.body {
            httpRequest.headers.add(name: "Content-Type", value: self.configuration.contentType)
            httpRequest.body = .bytes(body)
        }

        do {
            let response = try await self.httpClient.execute(
                httpRequest,
                timeout: .nanoseconds(timeout.nanoseconds),
                logger: self.logger
            )
            let body: ByteBuffer
            do {
                body = try await response.body.collect(upTo: self.configuration.maxResponseBytes)
            } catch is NIOTooManyBytesError {
                throw AttemptFailure(
                    code: .decoding,
                    outcomeUnknown: false,
                    underlying: "answer larger than \(self.configuration.maxResponseBytes) bytes"
                )
            }
            return Answer(status: Int(response.status.code), headers: response.headers, body: body)
        } catch let failure as AttemptFailure {
            throw failure
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw Self.classify(error)
        }
    }

    /// Sorts a transport failure into "the vendor certainly did not get it" (safe to resend) and
    /// "it may have been processed".
    private static func classify(_ error: any Error) -> AttemptFailure {
        let underlying = String(describing: error)
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return AttemptFailure(code: .timeout, outcomeUnknown: true, underlying: underlying)
            case .connectTimeout, .getConnectionFromPoolTimeout, .tlsHandshakeTimeout, .socksHandshakeTimeout,
                .httpProxyHandshakeTimeout, .alreadyShutdown, .invalidURL, .emptyHost, .emptyScheme:
                return AttemptFailure(code: .transport, outcomeUnknown: false, underlying: underlying)
            default:
                return AttemptFailure(code: .transport, outcomeUnknown: true, underlying: underlying)
            }
        }
        if error is NIOConnectionError {
            return AttemptFailure(code: .transport, outcomeUnknown: false, underlying: underlying)
        }
        if let error = error as? ChannelError, case .connectTimeout = error {
            return AttemptFailure(code: .transport, outcomeUnknown: false, underlying: underlying)
        }
        if let error = error as? IOError, Self.connectErrnos.contains(error.errnoCode) {
            return AttemptFailure(code: .transport, outcomeUnknown: false, underlying: underlying)
        }
        return AttemptFailure(code: .transport, outcomeUnknown: true, underlying: underlying)
    }

    /// errno values of a connection that was never established.
    private static let connectErrnos: Set<Int32> = [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH]

    /// `Retry-After` in seconds, if the vendor sent one (Hightouch does not; Fivetran does).
    private static func retryAfter(_ headers: HTTPHeaders) -> Duration? {
        guard let value = headers.first(name: "Retry-After"),
            let seconds = Int(value.filter { $0 != " " && $0 != "\t" }), seconds >= 0
        else { return nil }
        return .seconds(seconds)
    }
}

// MARK: - Description

extension VendorHTTPExecutor: CustomStringConvertible {
    public var description: String {
        "VendorHTTPExecutor(vendor: \(self.configuration.vendor), url: \(self.urlPrefix), credential: <redacted>)"
    }
}

// MARK: - Duration helpers

extension Duration {
    /// Whole milliseconds, rounded down.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole nanoseconds, rounded down (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = self.components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return product + attoseconds / 1_000_000_000
    }
}
