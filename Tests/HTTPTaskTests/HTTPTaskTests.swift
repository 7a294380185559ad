import FactoryEngine
import FactoryEngineTestKit
import FactoryModel
import FactoryState
import Foundation
import HTTPTaskDriver
import SimulatorKit
import Hummingbird
import JSONSchema
import NIOCore
import Synchronization
import Testing

@Suite("HTTP tasks", .serialized, .timeLimit(.minutes(2)))
struct HTTPTaskTests {
    static let workspace: WorkspaceName = {
        do { return try WorkspaceName("public") } catch { preconditionFailure("\(error)") }
    }()
    static let secret = "s3cr3t-token-9f1c"

    func engine(_ configure: (inout HTTPTaskDriver.Configuration) -> Void = { _ in }) -> InMemoryEngine {
        var configuration = HTTPTaskDriver.Configuration(secrets: ["TARGET_TOKEN": Self.secret], attemptTimeout: .seconds(2))
        configure(&configuration)
        return InMemoryEngine(driver: AnyResourceDriver(HTTPTaskDriver(configuration: configuration)))
    }

    func apply(_ name: String, _ spec: JSONValue) throws -> CommandEnvelope {
        .apply(ResourceManifest(name: try ResourceName(name), version: "v1beta", resource: .init(operator: "factory", type: "http", spec: spec)), workspace: Self.workspace)
    }

    func withTarget(_ body: (HTTPTaskTarget, String) async throws -> Void) async throws {
        let target = HTTPTaskTarget()
        let base = try await target.start()
        do {
            try await body(target, base)
        } catch {
            await target.stop()
            throw error
        }
        await target.stop()
    }

    @Test("a request that succeeds ends the run at once, with the status and the answer; the secret header is sent, never stored")
    func plainRequest() async throws {
        try await withTarget { target, base in
            let engine = engine()
            let spec: JSONValue = [
                "baseUrl": .string(base), "method": "POST", "endpoint": "/jobs", "body": ["table": "orders"],
                "headers": ["Authorization": ["secretEnv": "TARGET_TOKEN"], "X-Team": "data"],
            ]
            let delivery = engine.delivery(try apply("notify", spec))
            #expect(await engine.processor().process(delivery).outcome == "triggered")
            let status = try #require(try await engine.status("notify"))
            let run = try #require(status.lastRun)
            #expect(run.phase == .succeeded && status.currentRun == nil && engine.followUps.published.isEmpty)
            #expect(run.details?["statusCode"] == 201 && run.summary == "HTTP 201")
            #expect(target.state.withLock { $0.keys } == [delivery.commandID], "the command's id as Idempotency-Key")
            #expect(target.state.withLock { $0.authorizations } == [Self.secret])
            for key in try await engine.store.keys() {
                let bytes = try #require(engine.backend.value(key)).value
                #expect(!String(decoding: bytes, as: UTF8.self).contains(Self.secret), "\(key) holds the secret")
            }
        }
    }

    @Test("a 5xx is sent again with the same Idempotency-Key: the target that keeps keys does the work once")
    func retriedWithTheSameKey() async throws {
        try await withTarget { target, base in
            target.state.withLock { $0.failuresLeft = 2 }
            let engine = engine()
            let command = try apply("once", ["baseUrl": .string(base), "method": "POST", "endpoint": "/jobs"])
            let processor = engine.processor()
            for attempt in 1...2 {
                let result = await processor.process(engine.delivery(command, sequence: 1, deliveryCount: attempt))
                #expect(result.outcome == "retrying", "\(result)")
            }
            #expect(await processor.process(engine.delivery(command, sequence: 1, deliveryCount: 3)).outcome == "triggered")
            let keys = target.state.withLock { $0.keys }
            #expect(keys.count == 3 && Set(keys).count == 1)
            #expect(target.state.withLock { $0.effects } == 1)
            #expect(try await engine.status("once")?.lastRun?.phase == .succeeded)
        }
    }

    @Test("polling: the status endpoint is read until it says done, or failed")
    func polling() async throws {
        for outcome in ["done", "failed"] {
            try await withTarget { target, base in
                target.state.withLock { $0.jobOutcome = outcome }
                let engine = engine()
                let spec: JSONValue = [
                    "baseUrl": .string(base), "method": "POST", "endpoint": "/jobs",
                    "poll": [
                        "endpoint": "/jobs/${response./id}", "successWhen": ["pointer": "/state", "equals": "done"],
                        "failureWhen": ["pointer": "/state", "equals": "failed"],
                    ],
                ]
                #expect(await engine.processor().process(engine.delivery(try apply("polled", spec))).outcome == "triggered")
                #expect(try await engine.status("polled")?.currentRun?.phase == .running)
                await engine.follow(with: engine.follower())
                let run = try #require(try await engine.status("polled")?.lastRun)
                #expect(run.phase == (outcome == "done" ? .succeeded : .failed))
                #expect(run.details?["matched"]?.stringValue == (outcome == "done" ? "success" : "failure"))
                #expect(target.state.withLock { $0.polls[1] } == 2)
            }
        }
    }

    @Test("an unexpected status fails the run with the answer; a redirect loop and an endless answer fail it with a clear reason, bounded")
    func failures() async throws {
        try await withTarget { _, base in
            let engine = engine { $0.maxResponseBytes = 64 * 1024 }
            #expect(await engine.processor().process(engine.delivery(try apply("lost", ["baseUrl": .string(base), "method": "GET", "endpoint": "/missing"]))).outcome == "triggered")
            let lost = try #require(try await engine.status("lost")?.lastRun)
            #expect(lost.phase == .failed && lost.error?.contains("answered 404, expected 2xx") == true && lost.error?.contains("no such thing") == true)

            let loop = await engine.processor().process(engine.delivery(try apply("loop", ["baseUrl": .string(base), "method": "GET", "endpoint": "/loop"])))
            #expect(loop.disposition == .term)
            #expect(try await engine.status("loop")?.lastError?.reason == "redirectLoop")

            let started = ContinuousClock.now
            let endless = await engine.processor().process(engine.delivery(try apply("endless", ["baseUrl": .string(base), "method": "GET", "endpoint": "/endless"])))
            #expect(endless.disposition == .term && ContinuousClock.now - started < .seconds(10))
            #expect(try await engine.status("endless")?.lastError?.reason == "responseTooLarge")
        }
    }

    @Test("a target that hangs: each attempt ends at the attempt timeout (at most the run's timeout) and is retried with the reason")
    func hangs() async throws {
        try await withTarget { _, base in
            let engine = engine { $0.attemptTimeout = .milliseconds(300) }
            let started = ContinuousClock.now
            let result = await engine.processor().process(engine.delivery(try apply("hang", ["baseUrl": .string(base), "method": "GET", "endpoint": "/hang", "timeout": "1s"])))
            #expect(result.outcome == "retrying" && ContinuousClock.now - started < .seconds(3))
            #expect(try await engine.status("hang")?.lastError?.reason == "timeout")
        }
    }

    @Test("a target nobody listens on: retried, the reason names host, port and path (several targets may share a host)")
    func refused() async throws {
        let engine = engine()
        let result = await engine.processor().process(engine.delivery(try apply("refused", ["baseUrl": "http://127.0.0.1:9", "method": "POST", "endpoint": "/jobs"])))
        #expect(result.outcome == "retrying")
        let error = try #require(try await engine.status("refused")?.lastError)
        #expect(error.message.contains("POST http://127.0.0.1:9/jobs"), "\(error.message)")
    }

    @Test("bad specs: a secret not in the allow-list, an allowed one not set, a bad URL, a bad condition are refused before anything is sent")
    func badSpecs() async throws {
        let engine = engine { $0.unset = ["NOT_SET"] }
        let cases: [(JSONValue, String)] = [
            (["baseUrl": "http://127.0.0.1:9", "method": "GET", "headers": ["Authorization": ["secretEnv": "HOME"]]], "not one of the variables"),
            (["baseUrl": "http://127.0.0.1:9", "method": "GET", "headers": ["Authorization": ["secretEnv": "NOT_SET"]]], "not set"),
            (["baseUrl": "ftp://example.com", "method": "GET"], "/baseUrl"),
            (["baseUrl": "http://127.0.0.1:9", "method": "GET", "poll": ["endpoint": "/x", "successWhen": ["pointer": "no-slash", "equals": 1]]], "/poll/successWhen"),
            (["baseUrl": "http://127.0.0.1:9", "method": "GET", "headers": ["Idempotency-Key": "mine"]], "Idempotency-Key"),
        ]
        for (index, (spec, expected)) in cases.enumerated() {
            let result = await engine.processor().process(engine.delivery(try apply("bad-\(index)", spec)))
            #expect(result.disposition == .term, "\(spec)")
            let error = try #require(try await engine.status("bad-\(index)")?.lastError)
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }
}
