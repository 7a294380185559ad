import AsyncHTTPClient
import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import Fivetran
import FivetranDriver
import FivetranSimulator
import Foundation
import JSONSchema
import Logging
import NIOCore
import NIOHTTP1
import Testing
import VendorHTTP

// MARK: - Fixtures

/// The credentials every test simulator accepts.
let testKey = "test-key-3c9e1a"
let testSecret = "test-secret-8d2f7b5a41"
let testCredential = FivetranSimulator.Credential(apiKey: testKey, apiSecret: testSecret)
/// `Basic base64(key:secret)`, as it goes on the wire: must never leak either.
let testBasic = Data("\(testKey):\(testSecret)".utf8).base64EncodedString()

/// The connector the issue names, seeded in every test simulator.
let connectorID = "shrank_paparazzi"

/// A logger that drops everything.
let silentLogger = Logger(label: "fivetran-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Fast retries so failure paths finish in milliseconds.
let fastRetries = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(20), maxDelay: .milliseconds(200), totalBudget: .seconds(5))

/// How long a test simulator's syncs take: far longer than any test, so a sync is `syncing` for
/// as long as a test looks at it, on a machine however loaded, and ends only when the test moves
/// simulated time past it (``finishSyncs(_:)``).
let testSyncDuration = Duration.seconds(600)

/// A simulator configuration for tests: the test credentials, `shrank_paparazzi` and a second
/// connector, syncs of ``testSyncDuration``, no rate limit.
func testSimulatorConfiguration() -> FivetranSimulator.Configuration {
    var configuration = FivetranSimulator.Configuration(
        credentials: [testCredential],
        connectors: [.shrankPaparazzi, .init(id: "second_connector", groupID: "other_group", service: "google_sheets")]
    )
    configuration.knobs.syncDuration = testSyncDuration
    configuration.knobs.rateLimit = nil
    return configuration
}

/// Ends every sync running now: simulated time moves one sync duration on, so each ends at its
/// next read (the way a test ends a state it has finished looking at, instead of waiting for it).
func finishSyncs(_ simulator: FivetranSimulator) {
    simulator.advanceClock(by: simulator.knobs.syncDuration)
}

/// A client of `simulator` (running).
func makeClient(
    _ simulator: FivetranSimulator,
    logger: Logger = silentLogger,
    configure: (inout FivetranClient.Configuration) -> Void = { _ in }
) throws -> FivetranClient {
    var configuration = FivetranClient.Configuration(
        apiKey: VendorSecret(testKey),
        apiSecret: VendorSecret(testSecret),
        baseURL: try #require(simulator.baseURL),
        timeout: .seconds(5),
        retryPolicy: fastRetries,
        rateLimit: nil
    )
    configure(&configuration)
    return try FivetranClient(configuration: configuration, logger: logger)
}

/// Starts a simulator, builds a client pointed at it, runs `body`, stops the simulator.
func withFivetran<Result: Sendable>(
    simulator configureSimulator: (inout FivetranSimulator.Configuration) -> Void = { _ in },
    client configureClient: (inout FivetranClient.Configuration) -> Void = { _ in },
    logger: Logger = silentLogger,
    _ body: (FivetranSimulator, FivetranClient) async throws -> Result
) async throws -> Result {
    var configuration = testSimulatorConfiguration()
    configureSimulator(&configuration)
    return try await withFivetranSimulator(configuration: configuration) { simulator in
        try await body(simulator, try makeClient(simulator, logger: logger, configure: configureClient))
    }
}

/// Expects `body` to throw a ``VendorError`` of `code` and returns it.
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
    throw TestFailure("unexpected success")
}

/// Expects `body` to throw a ``VendorFailure`` and returns it.
func expectFailure(
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async throws -> VendorFailure {
    do {
        try await body()
    } catch let failure as VendorFailure {
        return failure
    }
    Issue.record("expected a VendorFailure, but the call succeeded", sourceLocation: sourceLocation)
    throw TestFailure("unexpected success")
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes: generous, since a loaded
/// machine is slow, and it returns as soon as the condition holds.
func eventually(
    timeout: Duration = .seconds(30),
    sourceLocation: SourceLocation = #_sourceLocation,
    _ what: String,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting for: \(what)", sourceLocation: sourceLocation)
    throw TestFailure("timed out waiting for: \(what)")
}

// MARK: - Raw HTTP

/// A raw HTTP exchange with the simulator, for what the typed client never sends.
func rawRequest(
    _ method: HTTPMethod,
    _ url: String,
    headers: [(String, String)] = [],
    body: String? = nil,
    authorized: Bool = true
) async throws -> (status: Int, body: String, headers: HTTPHeaders) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if authorized { request.headers.add(name: "Authorization", value: "Basic \(testBasic)") }
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body { request.body = .bytes(ByteBuffer(string: body)) }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    let buffer = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), String(buffer: buffer), response.headers)
}

/// Parses a JSON object.
func jsonObject(_ text: String) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(value as? [String: Any], "not a JSON object: \(text)")
}

// MARK: - The driver and the engine

/// The driver on a client of `simulator`.
func makeDriver(_ simulator: FivetranSimulator, defaults: FivetranDriver.Defaults = .init()) throws -> FivetranDriver {
    FivetranDriver(client: try makeClient(simulator), defaults: defaults)
}

/// A `fivetran` resource manifest with `spec`.
func fivetranManifest(_ name: String, _ spec: JSONObject) throws -> ResourceManifest {
    ResourceManifest(name: try ResourceName(name), version: "v1beta", resource: .init(operator: "fivetran-factory", type: "fivetran", spec: .object(spec)))
}

let publicWorkspace: WorkspaceName = {
    do { return try WorkspaceName("public") } catch { preconditionFailure("\(error)") }
}()

// MARK: - TLS material

/// A throwaway self-signed certificate for 127.0.0.1 and localhost, made with openssl.
struct SelfSignedCertificate {
    let directory: String
    var certificate: String { directory + "/cert.pem" }
    var key: String { directory + "/key.pem" }

    static func make() throws -> SelfSignedCertificate {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fivetran-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let made = SelfSignedCertificate(directory: directory)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", made.key, "-out", made.certificate,
            "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("openssl failed (run scripts/bootstrap for openssl): \(text)") }
        return made
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}
