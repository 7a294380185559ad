import AsyncHTTPClient
import DBTCloud
import DBTCloudSimulator
import Foundation
import JSONSchema
import Logging
import NIOCore
import NIOHTTP1
import Testing
import VendorHTTP

// MARK: - Fixtures

/// The token every test simulator accepts.
let testToken = "dbtc_test_9f2c7a41e0b3"
/// The account every test simulator serves.
let testAccount = 12_345
/// The simulator's default jobs: 43167 (`dbt seed`, `dbt run`, `dbt test`) and 43168 (`dbt build`).
let dailyJob = 43_167
let hourlyJob = 43_168

/// A logger that drops everything.
let silentLogger = Logger(label: "dbtcloud-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Fast retries so failure paths finish in milliseconds.
let fastRetries = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200), totalBudget: .seconds(5))

/// How long a test simulator's runs take: far longer than any test, so a run is queued, starting
/// or running for as long as a test looks at it, on a machine however loaded, and ends only when
/// the test moves simulated time past it (``finishRuns(_:)``).
let testRunDuration = Duration.seconds(600)

/// The simulator's configuration for tests: the test token and account, runs of
/// ``testRunDuration``.
func testSimulatorConfiguration() -> DBTCloudSimulator.Configuration {
    var configuration = DBTCloudSimulator.Configuration(accountID: testAccount, tokens: [testToken])
    configuration.knobs.runDuration = testRunDuration
    return configuration
}

/// Ends the run active on each job now: simulated time moves one run (and queue delay) on, so it
/// has ended at its next read. A job runs one run at a time; call again for a run queued behind.
func finishRuns(_ simulator: DBTCloudSimulator) {
    simulator.advanceClock(by: simulator.knobs.runDuration + simulator.knobs.queueDelay)
}

/// A client of `simulator`.
func makeClient(
    _ simulator: DBTCloudSimulator, logger: Logger = silentLogger, configure: (inout DBTCloudClient.Configuration) -> Void = { _ in }
) throws -> DBTCloudClient {
    var configuration = DBTCloudClient.Configuration(
        token: VendorSecret(testToken), baseURL: try #require(simulator.baseURL), timeout: .seconds(5), retryPolicy: fastRetries
    )
    configure(&configuration)
    return try DBTCloudClient(configuration: configuration, logger: logger)
}

/// Starts a simulator, builds a client pointed at it, runs `body`, stops the simulator.
func withDBTCloud<Result: Sendable>(
    knobs: (inout DBTCloudSimulator.Knobs) -> Void = { _ in },
    simulator configureSimulator: (inout DBTCloudSimulator.Configuration) -> Void = { _ in },
    client configureClient: (inout DBTCloudClient.Configuration) -> Void = { _ in },
    logger: Logger = silentLogger,
    _ body: (DBTCloudSimulator, DBTCloudClient) async throws -> Result
) async throws -> Result {
    var configuration = testSimulatorConfiguration()
    knobs(&configuration.knobs)
    configureSimulator(&configuration)
    return try await withDBTCloudSimulator(configuration: configuration) { simulator in
        try await body(simulator, try makeClient(simulator, logger: logger, configure: configureClient))
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
    case timedOut(String)
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes: generous, since a loaded
/// machine is slow, and it returns as soon as the condition holds.
func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TestFailure.timedOut(what)
}

// MARK: - Raw HTTP

/// A raw HTTP exchange with the simulator, for what the typed client never sends.
func rawRequest(
    _ method: HTTPMethod,
    _ url: String,
    headers: [(String, String)] = [("Authorization", "Token \(testToken)")],
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
    let buffer = try await response.body.collect(upTo: 4 << 20)
    return (Int(response.status.code), String(buffer: buffer), response.headers)
}

/// Parses a JSON object.
func jsonObject(_ text: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(value as? [String: Any], "not a JSON object: \(text)")
}

/// The envelope's `status.user_message`.
func userMessage(_ text: String) throws -> String? {
    (try jsonObject(text)["status"] as? [String: Any])?["user_message"] as? String
}

/// `<base>/api/v2/accounts/<account>`.
func apiURL(_ simulator: DBTCloudSimulator, account: Int = testAccount) throws -> String {
    try #require(simulator.baseURL) + "/api/v2/accounts/\(account)"
}

/// A temporary directory removed by the caller.
func temporaryDirectory(_ prefix: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

extension JSONValue {
    /// A JSON integer.
    static func id(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
}
