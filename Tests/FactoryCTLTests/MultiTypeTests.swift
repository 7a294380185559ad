import Foundation
import NATSTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension BinaryTests {
    /// factoryctl with a resource type other than Hightouch: a `factory-operator` hosting the HTTP
    /// task driver, a plain HTTP server as its target.
    @Suite("factoryctl with another resource type (binaries)", .timeLimit(.minutes(3)))
    struct MultiTypeTests {
        @Test("an http resource: applied and watched on its own subjects, listed beside no Hightouch operator, detail rows, run and cancel find its type")
        func httpResource() async throws {
            try await withNATSServer { server in
                let s = ["-s", server.url]
                // The target: Python's static file server; its status file says the job is done.
                let root = FileManager.default.temporaryDirectory.appendingPathComponent("http-target-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: root) }
                try Data(#"{"state": "done"}"#.utf8).write(to: root.appendingPathComponent("status.json"))
                let port = try FreePort.pick()
                let target = try CLIProcess.Background(
                    ["-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", root.path],
                    binary: CLIProcess.packageRoot.appendingPathComponent(".venv/bin/python")
                )
                let operatorProcess = try CLIProcess.Background(
                    ["operator", "sync"], binary: CLIProcess.binary("factory-operator"),
                    environment: ["NATS_URL": server.url, "OPERATOR_DRIVERS": "http", "METRIC_PORT": "\(try FreePort.pick())", "OPERATOR_RECONCILE_WORKERS_INTERVAL": "500ms"]
                )
                defer {
                    operatorProcess.signal(SIGTERM)
                    target.signal(SIGTERM)
                }
                let manifest = """
                    version: v1beta
                    name: ping-01
                    type: resource
                    resource:
                      operator: factory
                      type: http
                      spec:
                        baseUrl: "http://127.0.0.1:\(port)"
                        method: GET
                        endpoint: /
                        poll:
                          endpoint: /status.json
                          successWhen: {pointer: /state, equals: done}
                    """
                // The operator provisions its deployment: wait until its query subject answers.
                var ready = false
                for _ in 0..<100 where !ready {
                    let probe = try await CLIProcess.run(["get", "-t", "resource", "-w", "public", "--resource-type", "http"] + s)
                    ready = probe.status == 0
                    if !ready { try await Task.sleep(for: .milliseconds(200)) }
                }
                try #require(ready, "factory-operator did not answer:\n\(operatorProcess.output)\n\(operatorProcess.errorOutput)")

                let apply = try await CLIProcess.run(["apply", "-f", "-", "-w", "public", "--owner", "iamgroot", "--watch"] + s, standardInput: Data(manifest.utf8))
                #expect(apply.status == 0, "\(apply)\n\(operatorProcess.output)")
                #expect(apply.lines.first == "public/ping-01: apply published to dataos-http-entities, sequence 1", "\(apply)")
                #expect(apply.lines.last?.hasPrefix("public/ping-01: run ") == true && apply.lines.last?.contains("succeeded") == true, "\(apply)")

                let table = try await CLIProcess.run(["get", "-t", "resource", "-w", "public"] + s)
                #expect(table.status == 0, "no Hightouch operator here: only the http deployment answers\n\(table)")
                #expect(table.lines.dropFirst(2).first?.hasPrefix(" ping-01 | v1beta  | resource | public    | active | succeeded") == true, "\(table)")

                let detail = try await CLIProcess.run(["get", "ping-01", "-w", "public", "-d"] + s)
                #expect(detail.status == 0, "\(detail)")
                #expect(detail.output.contains("Type:               resource (http)"), "\(detail)")
                #expect(detail.output.contains("  Base URL:         http://127.0.0.1:\(port)"), "\(detail)")
                #expect(detail.output.contains("  Status code:      200") && detail.output.contains("  Matched:          success"), "\(detail)")

                let run = try await CLIProcess.run(["run", "ping-01", "-w", "public", "--watch"] + s)
                #expect(run.status == 0, "\(run)")
                #expect(run.lines.first?.hasPrefix("public/ping-01: run published to dataos-http-entities") == true, "the type was found: \(run)")

                let cancel = try await CLIProcess.run(["cancel", "ping-01", "-w", "public"] + s)
                #expect(cancel.status == 1 && cancel.errorOutput == "error: public/ping-01: no run in progress to cancel\n", "\(cancel)")
            }
        }

        @Test("a resource in error is re-driven by applying the same manifest again (after the cause is fixed); the same apply again is still a duplicate")
        func redrive() async throws {
            try await withNATSServer { server in
                let s = ["-s", server.url]
                let root = FileManager.default.temporaryDirectory.appendingPathComponent("http-target-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: root) }
                let port = try FreePort.pick()
                let target = try CLIProcess.Background(
                    ["-m", "http.server", "\(port)", "--bind", "127.0.0.1", "--directory", root.path],
                    binary: CLIProcess.packageRoot.appendingPathComponent(".venv/bin/python")
                )
                defer { target.signal(SIGTERM) }
                func startOperator(_ extra: [String: String]) throws -> CLIProcess.Background {
                    try CLIProcess.Background(
                        ["operator", "sync"], binary: CLIProcess.binary("factory-operator"),
                        environment: ["NATS_URL": server.url, "OPERATOR_DRIVERS": "http", "METRIC_PORT": "\(try FreePort.pick())", "HTTP_TASK_SECRET_ENV": "TARGET_TOKEN"]
                            .merging(extra) { $1 }
                    )
                }
                func waitForOperator() async throws {
                    for _ in 0..<100 {
                        if try await CLIProcess.run(["get", "-t", "resource", "-w", "public", "--resource-type", "http"] + s).status == 0 { return }
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    Issue.record("factory-operator did not answer")
                }
                let manifest = Data("""
                    version: v1beta
                    name: secret-ping
                    type: resource
                    resource:
                      operator: factory
                      type: http
                      spec:
                        baseUrl: "http://127.0.0.1:\(port)"
                        method: GET
                        headers: {Authorization: {secretEnv: TARGET_TOKEN}}
                    """.utf8)
                // The operator allows TARGET_TOKEN but does not have it: the spec is refused.
                var operatorProcess = try startOperator([:])
                try await waitForOperator()
                let first = try await CLIProcess.run(["apply", "-f", "-", "-w", "public", "--watch"] + s, standardInput: manifest)
                #expect(first.status == 1, "\(first)")
                #expect(first.output.contains("error (schemaViolation)") && first.output.contains("not set"), "\(first)")

                // Fixed: the operator restarts with the token. The same manifest re-drives it.
                operatorProcess.signal(SIGTERM)
                _ = await operatorProcess.waitForExit(timeout: .seconds(20))
                operatorProcess = try startOperator(["TARGET_TOKEN": "t0ken"])
                defer { operatorProcess.signal(SIGTERM) }
                try await waitForOperator()
                let again = try await CLIProcess.run(["apply", "-f", "-", "-w", "public", "--watch"] + s, standardInput: manifest)
                #expect(again.status == 0, "\(again)")
                #expect(again.lines.first?.hasSuffix("(again, to re-drive it after its error: schemaViolation)") == true, "\(again)")
                #expect(again.lines.last?.contains("succeeded") == true, "\(again)")
                let third = try await CLIProcess.run(["apply", "-f", "-", "-w", "public"] + s, standardInput: manifest)
                #expect(third.status == 0 && third.output.contains("unchanged (duplicate within the window)"), "\(third)")
            }
        }
    }
}
