import AsyncHTTPClient
import Foundation
import Hightouch
import HightouchSimulator
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import VendorHTTP

// MARK: - Fixtures

/// The token every test simulator accepts.
let testToken = "test-token-7f3a9c2e5b"

/// A logger that drops everything.
let silentLogger = Logger(label: "hightouch-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Fast retries so failure paths finish in milliseconds.
let fastRetries = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200), totalBudget: .seconds(5))

/// Starts a simulator with `knobs`, builds a client pointed at it, runs `body`, stops the simulator.
func withHightouch<Result: Sendable>(
    knobs: (inout HightouchSimulator.Knobs) -> Void = { _ in },
    simulator configureSimulator: (inout HightouchSimulator.Configuration) -> Void = { _ in },
    client configureClient: (inout HightouchClient.Configuration) -> Void = { _ in },
    logger: Logger = silentLogger,
    _ body: (HightouchSimulator, HightouchClient) async throws -> Result
) async throws -> Result {
    var configuration = HightouchSimulator.Configuration(tokens: [testToken])
    configuration.knobs.runDuration = .milliseconds(400)
    knobs(&configuration.knobs)
    configureSimulator(&configuration)
    return try await withHightouchSimulator(configuration: configuration) { simulator in
        let port = try #require(simulator.port)
        var clientConfiguration = HightouchClient.Configuration(
            token: VendorSecret(testToken),
            baseURL: "http://127.0.0.1:\(port)",
            basePath: configuration.basePath,
            timeout: .seconds(5),
            retryPolicy: fastRetries
        )
        configureClient(&clientConfiguration)
        let client = HightouchClient(configuration: clientConfiguration, logger: logger)
        return try await body(simulator, client)
    }
}

/// The seed resource's model, as the operator will create it.
func seedModel(slug: String = "city-retail-01") -> HightouchModelCreate {
    .rawSQL(
        name: slug,
        slug: slug,
        sourceID: 23474,
        primaryKey: "__metadata",
        sql: "SELECT * FROM icebase.retail.city LIMIT 10000"
    )
}

/// The seed resource's sync for `modelID`.
func seedSync(slug: String = "icebase-excel-01", modelID: HightouchID) -> HightouchSyncCreate {
    HightouchSyncCreate(
        slug: slug,
        configuration: [
            "mode": "mirror",
            "driveId": "me/drive",
            "mappings": [],
            "workbookId": "014W54IBU6FZWIKUZNXZAYB35OCXH7DD3Z",
            "configVersion": 0,
            "autoSyncColumns": true,
        ],
        destinationID: 80565,
        modelID: modelID,
        schedule: .cron("*/5 * * * *"),
        disabled: false
    )
}

/// Creates the seed model and sync and returns the sync.
func createSeedPipeline(_ client: HightouchClient, suffix: String = "") async throws -> HightouchSync {
    let model = try await client.createModel(seedModel(slug: "city-retail-01\(suffix)"))
    return try await client.createSync(seedSync(slug: "icebase-excel-01\(suffix)", modelID: model.id))
}

/// Expects `body` to throw a ``VendorError`` and returns it.
func expectVendorError(
    _ code: VendorError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async throws -> VendorError {
    do {
        try await body()
    } catch let error as VendorError {
        #expect(error.code == code, "expected \(code), got \(error)", sourceLocation: sourceLocation)
        return error
    }
    Issue.record("expected a VendorError \(code), but the call succeeded", sourceLocation: sourceLocation)
    throw TestFailure.unexpectedSuccess
}

enum TestFailure: Error {
    case unexpectedSuccess
}

// MARK: - Raw HTTP

/// A raw HTTP exchange with the simulator, for what the typed client never sends. A body goes with
/// `contentType` (`nil`: no Content-Type header).
func rawRequest(
    _ method: HTTPMethod,
    _ url: String,
    headers: [(String, String)] = [],
    body: String? = nil,
    contentType: String? = "application/json"
) async throws -> (status: Int, body: String, headers: HTTPHeaders) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body {
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        request.body = .bytes(ByteBuffer(string: body))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    let buffer = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), String(buffer: buffer), response.headers)
}

/// Parses a JSON object.
func jsonObject(_ text: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(value as? [String: Any], "not a JSON object: \(text)")
}

// MARK: - ManualClock

/// A ``VendorClock`` that only moves when told to, so rate-limit and backoff waits are instant and
/// deterministic. Sleepers wake in deadline order when ``advance(by:)`` passes their deadline.
final class ManualClock: VendorClock {
    private struct Sleeper {
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var offset: Duration = .zero
        var sleepers: [Int: Sleeper] = [:]
        var cancelled: Set<Int> = []
        var nextID = 0
    }

    private let origin = ContinuousClock.now
    private let state = Mutex(State())

    var now: ContinuousClock.Instant { self.origin + self.state.withLock { $0.offset } }

    /// Sleepers waiting now.
    var sleeperCount: Int { self.state.withLock { $0.sleepers.count } }

    func sleep(until deadline: ContinuousClock.Instant) async throws {
        let id = self.state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let action: Int = self.state.withLock { state in
                    if state.cancelled.remove(id) != nil { return 2 }
                    if deadline <= self.origin + state.offset { return 1 }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return 0
                }
                switch action {
                case 1: continuation.resume()
                case 2: continuation.resume(throwing: CancellationError())
                default: break
                }
            }
        } onCancel: {
            let sleeper = self.state.withLock { state in
                if let sleeper = state.sleepers.removeValue(forKey: id) { return Optional(sleeper) }
                state.cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes every sleeper whose deadline has passed, earliest first.
    func advance(by duration: Duration) {
        let due = self.state.withLock { state -> [Sleeper] in
            state.offset += duration
            let now = self.origin + state.offset
            let dueIDs = state.sleepers.filter { $0.value.deadline <= now }.sorted { $0.value.deadline < $1.value.deadline }.map(\.key)
            return dueIDs.compactMap { state.sleepers.removeValue(forKey: $0) }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Waits (yielding) until `count` tasks are asleep on this clock.
    func waitForSleepers(_ count: Int) async {
        while self.sleeperCount < count { await Task.yield() }
    }
}

// MARK: - Recorder

/// A thread-safe list for results collected by concurrent tasks.
final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { self.items.withLock { $0.append(item) } }
    var all: [Element] { self.items.withLock { $0 } }
}
