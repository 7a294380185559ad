import Foundation
import Testing
import NIOHTTP1
import VendorHTTP

// MARK: - RetryPolicy

@Suite("RetryPolicy")
struct RetryPolicyTests {
    @Test("the backoff cap doubles per attempt up to maxDelay, and the jitter stays under the cap")
    func backoffIsExponentialCappedAndJittered() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1), totalBudget: .seconds(30))
        #expect(policy.backoffCap(afterAttempt: 1) == .milliseconds(100))
        #expect(policy.backoffCap(afterAttempt: 2) == .milliseconds(200))
        #expect(policy.backoffCap(afterAttempt: 4) == .milliseconds(800))
        #expect(policy.backoffCap(afterAttempt: 5) == .seconds(1))
        #expect(policy.backoffCap(afterAttempt: 60) == .seconds(1))
        #expect(policy.backoff(afterAttempt: 3, unit: 0) == .zero)
        #expect(policy.backoff(afterAttempt: 3, unit: 0.5) == .milliseconds(200))
        #expect(policy.backoff(afterAttempt: 3, unit: 0.999) < .milliseconds(400))
    }

    @Test("429 and unsent requests are always retried; 5xx and timeouts only when idempotent; other 4xx never")
    func retryDecisions() {
        let policy = RetryPolicy.standard
        func error(_ code: VendorError.Code, outcomeUnknown: Bool = false) -> VendorError {
            VendorError(code: code, vendor: "test", route: "GET /x", path: "/x", outcomeUnknown: outcomeUnknown)
        }
        #expect(policy.allowsRetry(of: error(.rateLimited), idempotent: false))
        #expect(policy.allowsRetry(of: error(.transport, outcomeUnknown: false), idempotent: false))
        #expect(policy.allowsRetry(of: error(.server, outcomeUnknown: true), idempotent: true))
        #expect(!policy.allowsRetry(of: error(.server, outcomeUnknown: true), idempotent: false))
        #expect(!policy.allowsRetry(of: error(.timeout, outcomeUnknown: true), idempotent: false))
        #expect(policy.allowsRetry(of: error(.timeout, outcomeUnknown: true), idempotent: true))
        for code in [VendorError.Code.unauthorized, .notFound, .conflict, .validation, .decoding, .unexpectedStatus] {
            #expect(!policy.allowsRetry(of: error(code), idempotent: true), "\(code) must not be retried")
        }
        var opted = policy
        opted.retriesNonIdempotentRequests = true
        #expect(opted.allowsRetry(of: error(.server, outcomeUnknown: true), idempotent: false))
    }
}

// MARK: - RateLimiter

@Suite("RateLimiter")
struct RateLimiterTests {
    @Test("waiters are served first come, first served; a token is reusable one window after its request completed")
    func firstComeFirstServed() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(.init(permits: 1, window: .seconds(1), safetyMargin: .zero), clock: clock)
        let grants = Recorder<(Int, Duration)>()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<5 {
                group.addTask {
                    try await limiter.withPermit { grants.append((index, clock.now - start)) }
                }
                // Let each caller take its token or join the queue before the next one arrives.
                while grants.all.count + limiter.waitingCount < index + 1 { await Task.yield() }
            }
            for step in 1..<5 {
                await clock.waitForSleepers(1)  // the returning token
                clock.advance(by: .seconds(1))
                while grants.all.count < step + 1 { await Task.yield() }
            }
            try await group.waitForAll()
        }
        #expect(grants.all.map(\.0) == [0, 1, 2, 3, 4])
        #expect(grants.all.map(\.1) == [.zero, .seconds(1), .seconds(2), .seconds(3), .seconds(4)])
    }

    @Test("a token held by a slow request returns one window after that request completes, not after it started")
    func tokenReturnsAfterCompletion() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(.init(permits: 2, window: .seconds(1), safetyMargin: .zero), clock: clock)
        let slow = try await limiter.acquire()
        let fast = try await limiter.acquire()
        fast.release()
        #expect(limiter.availablePermits == 0)
        clock.advance(by: .seconds(5))  // the slow request is still in flight
        await clock.waitForSleepers(0)
        while limiter.availablePermits < 1 { await Task.yield() }
        #expect(limiter.availablePermits == 1, "only the completed request's token came back")
        slow.release()
        await clock.waitForSleepers(1)
        clock.advance(by: .milliseconds(999))
        #expect(limiter.availablePermits == 1)
        clock.advance(by: .milliseconds(1))
        while limiter.availablePermits < 2 { await Task.yield() }
        slow.release()  // a second release is ignored
        #expect(limiter.availablePermits == 2)
    }

    @Test("a cancelled waiter throws CancellationError and leaves the queue")
    func cancellationLeavesTheQueue() async throws {
        let clock = ManualClock()
        let limiter = RateLimiter(.init(permits: 1, window: .seconds(1), safetyMargin: .zero), clock: clock)
        let held = try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        while limiter.waitingCount < 1 { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiter.value }
        #expect(limiter.waitingCount == 0)
        // The next caller is first in line now.
        let next = Task { try await limiter.acquire() }
        while limiter.waitingCount < 1 { await Task.yield() }
        held.release()
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(1))
        try await next.value.release()
        let cancelledFirst = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await limiter.acquire()
        }
        await #expect(throws: CancellationError.self) { _ = try await cancelledFirst.value }
    }

    @Test("with the real clock and random latency no window holds more than the limit as the server sees it")
    func realClockWindowProperty() async throws {
        let limiter = RateLimiter(.init(permits: 5, window: .milliseconds(200), safetyMargin: .zero))
        let arrivals = Recorder<ContinuousClock.Instant>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await limiter.withPermit {
                        // Network on the way in, server stamps the arrival, network on the way out.
                        try await Task.sleep(for: .milliseconds(Int.random(in: 0...40)))
                        arrivals.append(ContinuousClock.now)
                        try await Task.sleep(for: .milliseconds(Int.random(in: 0...40)))
                    }
                }
            }
            try await group.waitForAll()
        }
        let times = arrivals.all.sorted()
        #expect(times.count == 20)
        for index in 5..<times.count {
            #expect(times[index] - times[index - 5] >= .milliseconds(200))
        }
    }
}

// MARK: - VendorSecret and VendorError

@Suite("Secrets and errors")
struct SecretAndErrorTests {
    @Test("a VendorSecret never shows its value")
    func secretIsRedacted() {
        let secret = VendorSecret("s3cr3t-value")
        var dumped = ""
        dump(secret, to: &dumped)
        for text in [secret.description, secret.debugDescription, "\(secret)", String(reflecting: secret), dumped] {
            #expect(!text.contains("s3cr3t"), "leaked in \(text)")
        }
        #expect(secret.withUnredactedValue { $0 } == "s3cr3t-value")
    }

    @Test("an error names the route, status, vendor message and what to do")
    func errorDescription() {
        let error = VendorError(
            code: .validation,
            vendor: "hightouch",
            route: "POST /models",
            path: "/api/v1/models",
            status: 422,
            message: "Validation failed",
            details: ["requestBody.slug": ["message": "'slug' is required"]],
            attempts: 1
        )
        let text = error.description
        #expect(text.contains("POST /models"))
        #expect(text.contains("HTTP 422"))
        #expect(text.contains("'slug' is required"))
        #expect(text.contains("Fix the fields"))
        #expect(VendorError.Code(status: 503) == .server)
        #expect(VendorError.Code(status: 403) == .unauthorized)
        #expect(VendorError.Code(status: 400) == .validation)
        #expect(VendorError.Code(status: 302) == .unexpectedStatus)
    }

    @Test("path segments and query values are percent-encoded")
    func percentEncoding() {
        let request = VendorRequest(
            method: .GET,
            route: "/syncs",
            pathSegments: ["syncs", "a b/c"],
            query: [.init("slug", "x&y=z"), .init("after", "2024-01-01T00:00:00.000Z")]
        )
        #expect(request.escapedPath == "/syncs/a%20b%2Fc")
        #expect(request.escapedQuery == "slug=x%26y%3Dz&after=2024-01-01T00%3A00%3A00.000Z")
        #expect(request.isIdempotent)
        #expect(!VendorRequest(method: .POST, route: "/x", pathSegments: ["x"]).isIdempotent)
    }
}
