import AsyncHTTPClient
import Census
import CensusSimulator
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import VendorHTTP

// MARK: - Fixtures

/// The token every test simulator accepts (configured without its prefix; sent with it).
let testToken = "7f3a9c2e5b-census-test"
/// The token as Census issues it, and as it goes after `Bearer `.
let prefixedToken = "secret-token:" + testToken

/// A logger that drops everything.
let silentLogger = Logger(label: "census-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Fast retries so failure paths finish in milliseconds.
let fastRetries = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200), totalBudget: .seconds(5))

/// How long a test simulator's runs work: far longer than any test, so a run is queued or
/// working for as long as a test looks at it, on a machine however loaded, and ends only when the
/// test moves simulated time past it (``finishRuns(_:)``).
let testRunDuration = Duration.seconds(600)

/// Ends the run of each sync going now: simulated time moves one run (and queue delay) on, so it
/// has ended at its next read.
func finishRuns(_ simulator: CensusSimulator) {
    let knobs = simulator.knobs
    simulator.advanceClock(by: knobs.runDuration + knobs.queueDelay)
}

/// Starts a simulator with `knobs` (runs of ``testRunDuration`` unless they say otherwise), builds
/// a client pointed at it, runs `body`, stops the simulator.
func withCensus<Result: Sendable>(
    knobs: (inout CensusSimulator.Knobs) -> Void = { _ in },
    simulator configureSimulator: (inout CensusSimulator.Configuration) -> Void = { _ in },
    client configureClient: (inout CensusClient.Configuration) -> Void = { _ in },
    logger: Logger = silentLogger,
    _ body: (CensusSimulator, CensusClient) async throws -> Result
) async throws -> Result {
    var configuration = CensusSimulator.Configuration(tokens: [testToken])
    configuration.knobs.runDuration = testRunDuration
    knobs(&configuration.knobs)
    configureSimulator(&configuration)
    return try await withCensusSimulator(configuration: configuration) { simulator in
        let baseURL = try #require(simulator.baseURL)
        var clientConfiguration = CensusClient.Configuration(
            token: VendorSecret(testToken), baseURL: baseURL, basePath: configuration.basePath, timeout: .seconds(5), retryPolicy: fastRetries,
            rateLimit: nil
        )
        configureClient(&clientConfiguration)
        let client = try CensusClient(configuration: clientConfiguration, logger: logger)
        return try await body(simulator, client)
    }
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

/// A raw HTTP exchange with the simulator, for what the typed client never sends.
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

/// `Authorization: Bearer secret-token:<token>`.
let bearer = [("Authorization", "Bearer \(prefixedToken)")]

/// Parses a JSON object.
func jsonObject(_ text: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(value as? [String: Any], "not a JSON object: \(text)")
}

/// `data` of a successful envelope.
func envelopeData(_ text: String) throws -> [String: Any] {
    let object = try jsonObject(text)
    #expect(object["status"] as? String == "success", "not a success envelope: \(text)")
    return try #require(object["data"] as? [String: Any], "no data object: \(text)")
}

/// Polls until `condition` holds (or `timeout`, generous for a loaded machine), so tests do not
/// sleep longer than needed.
func eventually(timeout: Duration = .seconds(30), poll: Duration = .milliseconds(20), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: poll)
    }
    return try await condition()
}

// MARK: - Recorder

/// A thread-safe list for results collected by concurrent tasks.
final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { self.items.withLock { $0.append(item) } }
    var all: [Element] { self.items.withLock { $0 } }
}
