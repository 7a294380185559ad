import BrowserKit
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import NATSKit
import NATSTestKit
import NIOHTTP1
import Pipelines
import SimulatorKit
import Synchronization
import Testing

/// The web console in headless Chromium against a real stack: a nats-server, the HTTP task
/// target, a `factory-operator` process (types http and pipeline) and `factoryctl console`
/// processes. Writes the screenshots of docs/console.md (docs/console/*.png, 1280x800).
@Suite("Console in a browser (processes)", .serialized, .timeLimit(.minutes(10)))
struct ConsoleBrowserTests {
    static let payload = "<img src=x onerror=alert(1)>"

    static func pipelineSpec(_ stack: ConsoleStack) -> JSONValue {
        [
            "inputs": [["name": "nightly", "schedule": ["cron": "0 2 * * *", "timezone": "Europe/Paris"]]],
            "stages": [
                [
                    "name": "extract",
                    "tasks": [
                        ["name": "orders", "integration": "http", "job": "http_request", "parameters": stack.pipelineTaskParameters(1)],
                        ["name": "customers", "integration": "http", "job": "http_request", "parameters": stack.pipelineTaskParameters(2)],
                    ],
                ],
                [
                    "name": "load", "dependsOn": ["extract"],
                    "tasks": [["name": "warehouse", "integration": "http", "job": "http_request", "parameters": stack.pipelineTaskParameters(3)]],
                ],
            ],
        ]
    }

    static func screenshot(_ driver: WebDriver, _ name: String) async throws {
        let directory = ConsoleStack.root.appendingPathComponent("docs/console")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try await driver.screenshot().write(to: directory.appendingPathComponent("\(name).png"))
    }

    /// Puts documents in the buckets as someone else could have: one that does not decode, a
    /// run document that does not decode, and a status whose error message is HTML.
    static func plantDocuments(_ stack: ConsoleStack) async throws {
        let http = try await stack.bucket("http")
        _ = try await http.put("status.public.broken", Array("{\"version\": 2, \"phase\": ".utf8))
        let pipelines = try await stack.bucket("pipeline")
        _ = try await pipelines.put("run.public.nightly.20260101-000000-bad000", Array("not json at all".utf8))
        guard let entry = try await http.get("status.public.ping"),
            var document = try JSONSerialization.jsonObject(with: Data(entry.value)) as? [String: Any]
        else { throw WebDriver.Failure(description: "no status of ping to copy") }
        document["name"] = "xss-victim"
        document["phase"] = "error"
        document["lastError"] = ["reason": "vendorRefused", "message": "the vendor said: \(payload) is not a valid sync", "at": "2026-11-21T10:00:00.000Z"]
        _ = try await http.put("status.public.xss-victim", Array(try JSONSerialization.data(withJSONObject: document)))
    }

    /// One OpenLineage event of `http.ping` naming datasets and column lineage (an HTTP task's
    /// own events name none), published on the lineage subject as a driver's would be.
    static func publishLineage(_ stack: ConsoleStack) async throws {
        let event: JSONValue = [
            "eventType": "COMPLETE", "eventTime": "2026-11-21T10:00:00.000Z", "producer": "console-test",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": ["runId": "0190a6b2-0000-8000-8000-000000000001"],
            "job": ["namespace": "factory://public", "name": "http.ping"],
            "inputs": [["namespace": "postgres://warehouse", "name": "raw.orders", "facets": ["schema": ["fields": [["name": "id"], ["name": "email"]]]]]],
            "outputs": [[
                "namespace": "hubspot://crm", "name": "contacts",
                "facets": [
                    "schema": ["fields": [["name": "external_id"]]],
                    "columnLineage": ["fields": ["external_id": ["inputFields": [["namespace": "postgres://warehouse", "name": "raw.orders", "field": "email", "transformations": [["type": "DIRECT", "subtype": "IDENTITY"]]]]]]],
                ],
            ]],
        ]
        try await stack.jetStream.publish(event.serializedBytes(), to: "factory.lineage", options: JetStreamPublishOptions(messageID: "console-test-lineage-1"))
    }

    @Test("every page loads; links work by keyboard; a running pipeline's DAG changes state live; HTML in an error is text; unreadable documents and unknown URLs are shown as such")
    func pages() async throws {
        try await withConsoleStack { stack, driver in
            stack.target.state.withLock { $0.pollsBeforeDone = 1_000_000 }
            try await stack.apply("ping", type: "http", spec: stack.httpSpec(9))
            try await stack.apply("nightly", type: "pipeline", spec: Self.pipelineSpec(stack))
            try await stack.waitForStatus("nightly", type: "pipeline") { $0.phase == .active }
            try await stack.waitForStatus("ping", type: "http") { $0.phase == .active }
            try await Self.plantDocuments(stack)
            try await Self.publishLineage(stack)
            let console = try await stack.startConsole(allowActions: true, name: "console")

            // Resources, with the unreadable document by its key.
            try await driver.open(console + "/")
            try await driver.wait("the resources table", """
                return !!document.querySelector('[data-resource="public/http/ping"]') && !!document.querySelector('[data-resource="public/pipeline/nightly"]')
                  && !!document.querySelector('[data-unreadable-key="status.public.broken"]')
                """)
            let unreadable = try await driver.execute("return document.querySelector('[data-unreadable-key=\"status.public.broken\"]').textContent")
            #expect(unreadable.stringValue?.contains("unreadable") == true && unreadable.stringValue?.contains("status.public.broken") == true, "\(unreadable)")
            // Consumers on the bucket's stream now: the console's one watch and the operator's.
            let consumers = try await stack.jetStream.streamInfo("KV_http-operator-state").state.consumerCount
            try await Self.screenshot(driver, "resources")

            // By keyboard alone: Tab to the link of ping (a focus outline shows where), Enter opens it.
            var focused = ""
            for _ in 0..<30 where focused != "ping" {
                try await driver.press(WebDriver.tabKey)
                focused = try await driver.execute("return document.activeElement?.tagName === 'A' ? document.activeElement.textContent : ''").stringValue ?? ""
            }
            #expect(focused == "ping", "Tab never reached the link of ping")
            let outline = try await driver.execute("return getComputedStyle(document.activeElement).outlineStyle")
            #expect(outline.stringValue == "solid", "no visible focus on the link: \(outline)")
            try await driver.press(WebDriver.enterKey)
            try await driver.wait("the page of ping, opened by keyboard", "return location.pathname === '/resources/public/http/ping' && document.querySelector('h1')?.textContent.startsWith('ping')")

            // A pipeline run started from the page: refused without the token, accepted with it.
            try await driver.open(console + "/resources/public/pipeline/nightly")
            try await driver.wait("the pipeline's page with its actions", "return !!document.querySelector('#action-run')")
            try await driver.type("", into: "#token")
            try await driver.click("#action-run")
            try await driver.wait("the refusal", "return document.querySelector('#action-result').textContent.includes('refused (401)')")
            #expect(try await stack.runs("nightly").isEmpty, "a refused action started a run")
            try await driver.type(ConsoleStack.consoleToken, into: "#token")
            try await driver.click("#action-run")
            try await driver.wait("the acceptance", "return document.querySelector('#action-result').textContent.startsWith('accepted')")
            var run: PipelineRun?
            for _ in 0..<200 where run == nil {
                run = try await stack.runs("nightly").first
                if run == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let started = try #require(run, "the accepted action started no run")

            // The run's DAG, live: running, then (with the page never reloaded) succeeded.
            try await driver.open(console + "/pipelines/public/nightly/runs/\(started.id)")
            try await driver.wait("a running task in the DAG", "return document.querySelector('[data-task=\"orders\"]')?.dataset.state === 'running'")
            try await driver.execute("window.__sameDocument = 'yes'; return true")
            let labels = try await driver.execute("return document.querySelector('[data-task=\"orders\"]').textContent")
            #expect(labels.stringValue?.contains("running") == true && labels.stringValue?.contains("attempt 1") == true, "the box says its state and attempt in text: \(labels)")
            let boxes = try await driver.execute("return document.querySelectorAll('#dag .task').length")
            #expect(boxes.numberValue?.doubleValue == 3, "\(boxes)")
            try await Self.screenshot(driver, "run")
            stack.target.state.withLock { $0.pollsBeforeDone = 0 }
            try await driver.wait("the DAG to show the run's end without a reload", timeout: .seconds(60), """
                return window.__sameDocument === 'yes' && document.querySelector('[data-task="warehouse"]')?.dataset.state === 'succeeded'
                  && document.querySelector('#run-state').textContent.includes('succeeded')
                """)
            let edges = try await driver.execute("return document.querySelectorAll('#dag .edge').length")
            #expect(edges.numberValue?.doubleValue == 1, "extract → load: \(edges)")
            try await Self.screenshot(driver, "run-succeeded")

            // Pipelines: the last run, its result, the next scheduled slot.
            try await driver.open(console + "/pipelines")
            try await driver.wait("the pipelines table", "return (document.querySelector('[data-pipeline=\"public/nightly\"]')?.textContent || '').includes('succeeded')")
            let row = try await driver.execute("return document.querySelector('[data-pipeline=\"public/nightly\"]').textContent")
            #expect(row.stringValue?.contains(started.id) == true, "\(row)")
            #expect(try await driver.execute("return document.querySelector('[data-pipeline=\"public/nightly\"] td:last-child time') !== null").boolValue == true, "no next scheduled time")
            try await Self.screenshot(driver, "pipelines")

            // A resource's detail.
            try await driver.open(console + "/resources/public/http/ping")
            try await driver.wait("the detail of ping", "return document.querySelector('h1')?.textContent.startsWith('ping') && document.querySelectorAll('dl.rows').length >= 2")
            try await Self.screenshot(driver, "resource")

            // Lineage, columns on demand.
            try await driver.open(console + "/lineage/public/http/ping")
            try await driver.wait("the lineage of ping", "return !!document.querySelector('[data-dataset=\"raw.orders\"]') && !!document.querySelector('[data-dataset=\"contacts\"]')")
            #expect(try await driver.execute("return document.querySelector('#column-lineage').open").boolValue == false)
            try await driver.click("#column-lineage summary")
            let columns = try await driver.execute("return document.querySelector('#column-lineage').open && document.querySelector('#column-lineage').textContent")
            #expect(columns.stringValue?.contains("raw.orders.email") == true, "\(columns)")
            try await Self.screenshot(driver, "lineage")

            // HTML in an error message is text: no element made of it, no alert.
            try await driver.open(console + "/resources/public/http/xss-victim")
            try await driver.wait("the error of xss-victim", "return !!document.querySelector('#last-error')")
            let shown = try await driver.execute("return document.querySelector('#last-error').textContent")
            #expect(shown.stringValue?.contains(Self.payload) == true, "the message is not shown as text: \(shown)")
            #expect(try await driver.execute("return document.querySelectorAll('img').length").numberValue?.doubleValue == 0)
            #expect(try await driver.alertText() == nil)
            try await Self.screenshot(driver, "escaped-error")

            // An unreadable run document, by its key.
            try await driver.open(console + "/pipelines/public/nightly/runs/20260101-000000-bad000")
            try await driver.wait("the unreadable run", "return (document.querySelector('[data-unreadable-key]')?.textContent || '').includes('run.public.nightly.20260101-000000-bad000')")

            // An unknown URL: a 404 page.
            let missing = try await stack.get(console + "/no/such/page")
            #expect(missing.status == 404 && missing.body.contains("Page not found"))
            #expect(try await stack.get(console + "/api/nothing").status == 404)
            try await driver.open(console + "/no/such/page")
            try await driver.wait("the 404 page", "return document.querySelector('h1')?.textContent === 'Page not found'")
            try await Self.screenshot(driver, "not-found")

            // Every page above had its own event stream; the console still watches the bucket once.
            #expect(try await stack.jetStream.streamInfo("KV_http-operator-state").state.consumerCount == consumers, "a watch per page?")

            // Narrow window.
            _ = try await driver.call(.POST, "/session/\(driver.session)/window/rect", ["width": 420, "height": 800])
            try await driver.open(console + "/")
            try await driver.wait("the resources table (narrow)", "return !!document.querySelector('[data-resource=\"public/http/ping\"]')")
            let overflow = try await driver.execute("return document.documentElement.scrollWidth <= window.innerWidth + 1")
            #expect(overflow.boolValue == true, "the page scrolls sideways at 420 px")
            try await Self.screenshot(driver, "resources-narrow")
        }
    }

    @Test("actions: refused without --allow-actions (no buttons), without the token, from another origin; accepted with both: a run, a pipeline run and its cancel")
    func actions() async throws {
        try await withConsoleStack { stack, driver in
            stack.target.state.withLock { $0.pollsBeforeDone = 0 }
            try await stack.apply("ping", type: "http", spec: stack.httpSpec(4))
            try await stack.waitForStatus("ping", type: "http") { $0.phase == .active }
            let readOnly = try await stack.startConsole(allowActions: false, name: "readonly")
            let console = try await stack.startConsole(allowActions: true, name: "console")
            let body = #"{"workspace":"public","type":"http","name":"ping"}"#
            let token = ("X-Factory-Token", ConsoleStack.consoleToken)

            let refused = try await stack.post(readOnly + "/api/actions/run", body: body, headers: [("Origin", readOnly), token])
            #expect(refused.status == 403 && refused.body.contains("read-only"), "\(refused)")
            #expect(try await stack.post(readOnly + "/api/anything", body: "{}", headers: [("Origin", readOnly)]).status == 403)
            try await driver.open(readOnly + "/resources/public/http/ping")
            try await driver.wait("the read-only detail", "return document.querySelector('h1')?.textContent.startsWith('ping')")
            #expect(try await driver.execute("return document.querySelector('#action-run') === null && document.querySelector('#token') === null").boolValue == true)

            let noToken = try await stack.post(console + "/api/actions/run", body: body, headers: [("Origin", console)])
            #expect(noToken.status == 401, "\(noToken)")
            let wrongToken = try await stack.post(console + "/api/actions/run", body: body, headers: [("Origin", console), ("X-Factory-Token", ConsoleStack.consoleToken + "x")])
            #expect(wrongToken.status == 401, "\(wrongToken)")
            let foreign = try await stack.post(console + "/api/actions/run", body: body, headers: [("Origin", "http://evil.example"), token])
            #expect(foreign.status == 403, "\(foreign)")
            let noOrigin = try await stack.post(console + "/api/actions/run", body: body, headers: [token])
            #expect(noOrigin.status == 403, "\(noOrigin)")
            let runsBefore = stack.target.state.withLock { $0.effects }
            let accepted = try await stack.post(console + "/api/actions/run", body: body, headers: [("Origin", console), token])
            #expect(accepted.status == 202 && accepted.body.contains("run published"), "\(accepted)")
            // The run reached the vendor: one more effect at the target, and no more.
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            while stack.target.state.withLock({ $0.effects }) == runsBefore, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(stack.target.state.withLock { $0.effects } == runsBefore + 1)
            let bad = try await stack.post(console + "/api/actions/run", body: #"{"workspace":"public","type":"http","name":"Not A Name"}"#, headers: [("Origin", console), token])
            #expect(bad.status == 400, "\(bad)")

            // A pipeline run started and cancelled through the console.
            stack.target.state.withLock { $0.pollsBeforeDone = 1_000_000 }
            let hold: JSONValue = ["stages": [["name": "only", "tasks": [["name": "wait", "integration": "http", "job": "http_request", "parameters": stack.pipelineTaskParameters(7)]]]]]
            try await stack.apply("hold", type: "pipeline", spec: hold)
            try await stack.waitForStatus("hold", type: "pipeline") { $0.phase == .active }
            let pipeline = #"{"workspace":"public","type":"pipeline","name":"hold"}"#
            let started = try await stack.post(console + "/api/actions/run", body: pipeline, headers: [("Origin", console), token])
            #expect(started.status == 202, "\(started)")
            let running = ContinuousClock.now.advanced(by: .seconds(60))
            while try await stack.runs("hold").first?.tasks["wait"]?.state != .running, ContinuousClock.now < running { try await Task.sleep(for: .milliseconds(100)) }
            let cancelled = try await stack.post(console + "/api/actions/cancel", body: pipeline, headers: [("Origin", console), token])
            #expect(cancelled.status == 202 && cancelled.body.contains("cancel published"), "\(cancelled)")
            let ending = ContinuousClock.now.advanced(by: .seconds(60))
            while try await stack.runs("hold").first?.state.isFinished != true, ContinuousClock.now < ending { try await Task.sleep(for: .milliseconds(100)) }
            let ended = try await stack.runs("hold")
            #expect(ended.first?.state == .cancelled, "\(ended)")
            let nothing = try await stack.post(console + "/api/actions/cancel", body: pipeline, headers: [("Origin", console), token])
            #expect(nothing.status == 409 && nothing.body.contains("no run"), "\(nothing)")
        }
    }

    @Test("NATS down: every page shows a banner; back: the banner goes and the page is live again (the watches started again)")
    func natsDown() async throws {
        try await withConsoleStack { stack, driver in
            stack.target.state.withLock { $0.pollsBeforeDone = 0 }
            try await stack.apply("ping", type: "http", spec: stack.httpSpec(5))
            try await stack.waitForStatus("ping", type: "http") { $0.phase == .active }
            let console = try await stack.startConsole(allowActions: false, name: "readonly")
            try await driver.open(console + "/")
            try await driver.wait("the resources table", "return !!document.querySelector('[data-resource=\"public/http/ping\"]') && document.getElementById('banner').hidden")
            try await driver.execute("window.__sameDocument = 'yes'; return true")

            await stack.server.shutdown()
            try await driver.wait("the banner", "return !document.getElementById('banner').hidden && document.getElementById('banner').textContent.includes('NATS is unreachable')")
            try await Self.screenshot(driver, "nats-down")

            try await stack.server.restart()
            try await driver.wait("the banner to go", timeout: .seconds(60), "return document.getElementById('banner').hidden")
            try await stack.waitUntilProvisioned()
            try await stack.apply("pong", type: "http", spec: stack.httpSpec(6))
            try await driver.wait("a resource applied after the outage, in the same document", timeout: .seconds(60), """
                return window.__sameDocument === 'yes' && !!document.querySelector('[data-resource="public/http/pong"]')
                """)
        }
    }
}
