import AsyncHTTPClient
import Foundation
import JSONSchema
import NATSTestKit
import NIOCore
import NIOHTTP1

/// Headless Chromium driven through chromedriver's W3C WebDriver HTTP API, for the console's
/// browser tests and benchmark. Debian's `chromium` and `chromium-driver` (scripts/bootstrap
/// installs them) are required.
public final class WebDriver: @unchecked Sendable {
    // @unchecked: the process is started once, then only read and signalled.
    let process: Process
    public let base: String
    let profile: URL
    public private(set) var session = ""

    public static let chromedriver = "/usr/bin/chromedriver"
    public static let chromium = "/usr/bin/chromium"

    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    private init(process: Process, base: String, profile: URL) {
        self.process = process
        self.base = base
        self.profile = profile
    }

    /// Starts chromedriver on a free port and opens a session at 1280x800.
    public static func start(width: Int = 1280, height: Int = 800) async throws -> WebDriver {
        guard FileManager.default.isExecutableFile(atPath: chromedriver), FileManager.default.isExecutableFile(atPath: chromium) else {
            throw Failure(description: "\(chromedriver) or \(chromium) is missing: run scripts/bootstrap (it installs Debian's chromium and chromium-driver)")
        }
        let port = try FreePort.pick()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromedriver)
        process.arguments = ["--port=\(port)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("console-chromium-\(UUID().uuidString.prefix(8))")
        let driver = WebDriver(process: process, base: "http://127.0.0.1:\(port)", profile: profile)
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while true {
            if let status = try? await driver.call(.GET, "/status"), status["ready"]?.boolValue == true { break }
            if ContinuousClock.now > deadline { driver.stop(); throw Failure(description: "chromedriver did not become ready on port \(port)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let capabilities: JSONValue = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": .string(chromium),
                        "args": ["--headless=new", "--no-sandbox", .string("--window-size=\(width),\(height)"), "--disable-gpu", "--disable-dev-shm-usage", .string("--user-data-dir=\(profile.path)")],
                    ],
                ]
            ]
        ]
        let value = try await driver.call(.POST, "/session", capabilities)
        guard let id = value["sessionId"]?.stringValue else { throw Failure(description: "no session: \(value.serialized())") }
        driver.session = id
        return driver
    }

    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: profile)
    }

    public func close() async {
        if !session.isEmpty {
            _ = try? await raw(.DELETE, "\(base)/session/\(session)", nil)
            session = ""
        }
        // chromedriver stops on /shutdown (it outlives SIGTERM while its browser is open).
        _ = try? await raw(.GET, "\(base)/shutdown", nil)
        let deadline = ContinuousClock.now.advanced(by: .seconds(10))
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: profile)
    }

    // MARK: - Commands

    public func open(_ url: String) async throws {
        _ = try await call(.POST, "/session/\(session)/url", ["url": .string(url)])
    }

    /// Runs `script` (a function body) in the page; its return value.
    @discardableResult
    public func execute(_ script: String, _ arguments: [JSONValue] = []) async throws -> JSONValue {
        try await call(.POST, "/session/\(session)/execute/sync", ["script": .string(script), "args": .array(arguments)])
    }

    public func element(_ selector: String) async throws -> String {
        let value = try await call(.POST, "/session/\(session)/element", ["using": "css selector", "value": .string(selector)])
        guard let id = value["element-6066-11e4-a52e-4f735466cecf"]?.stringValue else { throw Failure(description: "no element \(selector)") }
        return id
    }

    public func click(_ selector: String) async throws {
        _ = try await call(.POST, "/session/\(session)/element/\(try await element(selector))/click", [:])
    }

    public func type(_ text: String, into selector: String) async throws {
        let id = try await element(selector)
        _ = try await call(.POST, "/session/\(session)/element/\(id)/clear", [:])
        _ = try await call(.POST, "/session/\(session)/element/\(id)/value", ["text": .string(text)])
    }

    public static let tabKey = "\u{E004}"
    public static let enterKey = "\u{E007}"

    /// Presses and releases `key` (a WebDriver key code such as ``tabKey``) on the focused element.
    public func press(_ key: String) async throws {
        let actions: JSONValue = [
            "actions": [["type": "key", "id": "keyboard", "actions": [["type": "keyDown", "value": .string(key)], ["type": "keyUp", "value": .string(key)]]]]
        ]
        _ = try await call(.POST, "/session/\(session)/actions", actions)
    }

    /// The text of an open alert, or nil when none is open.
    public func alertText() async throws -> String? {
        let (status, body) = try await raw(.GET, "\(base)/session/\(session)/alert/text", nil)
        if status == 404 || body["value"]?["error"]?.stringValue == "no such alert" { return nil }
        return body["value"]?.stringValue
    }

    /// A PNG of the viewport.
    public func screenshot() async throws -> Data {
        let value = try await call(.GET, "/session/\(session)/screenshot")
        guard let text = value.stringValue, let data = Data(base64Encoded: text) else { throw Failure(description: "no screenshot") }
        return data
    }

    /// Waits (up to `timeout`) until `script` returns true; throws with the last value otherwise.
    public func wait(_ what: String, timeout: Duration = .seconds(30), _ script: String) async throws {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var last: JSONValue = .null
        while ContinuousClock.now < deadline {
            last = (try? await execute(script)) ?? .null
            if last.boolValue == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let page = (try? await execute("return document.body ? document.body.innerText.slice(0, 1500) : ''"))?.stringValue ?? ""
        throw Failure(description: "waited \(timeout) for \(what); the page shows:\n\(page)")
    }

    // MARK: - HTTP

    @discardableResult
    public func call(_ method: HTTPMethod, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        let (status, answer) = try await raw(method, base + path, body)
        guard (200..<300).contains(status) else { throw Failure(description: "WebDriver \(method) \(path): \(status) \(answer.serialized())") }
        return answer["value"] ?? .null
    }

    public func raw(_ method: HTTPMethod, _ url: String, _ body: JSONValue?) async throws -> (Int, JSONValue) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        if let body { request.body = .bytes(ByteBuffer(bytes: body.serializedBytes())) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 * 1024 * 1024)
        let value = (try? JSONValue(parsing: Array(bytes.readableBytesView))) ?? .null
        return (Int(response.status.code), value)
    }
}
