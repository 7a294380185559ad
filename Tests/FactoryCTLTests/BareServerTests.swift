import Foundation
import NATSTestKit
import Testing

extension BinaryTests {
    /// factoryctl against a nats-server that no operator has touched: the errors a user meets
    /// before the stack is complete, and input refused before anything is sent.
    @Suite("factoryctl errors and input checks (binaries)", .timeLimit(.minutes(2)))
    struct BareServerTests {
        @Test("no operator: get says no operator answers, apply says no stream stores the subject, watch says no state bucket; exit 3")
        func noOperator() async throws {
            try await withNATSServer { server in
                let get = try await CLIProcess.run(["get", "-t", "resource", "-w", "public", "-s", server.url])
                #expect(get.status == 3, "\(get)")
                #expect(
                    get.errorOutput
                        == "error: no operator answered on hightouch.pipeline.run.query at \(server.url): no replica serving it is running there; start one (scripts/dev starts two) or check --query-subject\n"
                )
                let apply = try await CLIProcess.run(["apply", "-f", "examples/resource.yaml", "-w", "public", "-s", server.url])
                #expect(apply.status == 3, "\(apply)")
                #expect(apply.errorOutput.hasPrefix("error: no JetStream stream stores hightouch.pipeline.run at \(server.url)"), "\(apply)")
                let watch = try await CLIProcess.run(["watch", "pipeline-01", "-w", "public", "-s", server.url])
                #expect(watch.status == 3, "\(watch)")
                #expect(watch.errorOutput.hasPrefix("error: the state bucket hightouch-operator-state does not exist at \(server.url)"), "\(watch)")
                for outcome in [get, apply, watch] {
                    #expect(outcome.errorOutput.split(separator: "\n").count == 1, "one line: \(outcome)")
                }
            }
        }

        @Test("no server: one line naming the URL and scripts/dev, exit 3, within the timeout")
        func noServer() async throws {
            let port = try FreePort.pick()
            let started = ContinuousClock.now
            let outcome = try await CLIProcess.run(["get", "-t", "resource", "-w", "public", "-s", "nats://127.0.0.1:\(port)", "--timeout", "2s"])
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(outcome.status == 3)
            #expect(
                outcome.errorOutput
                    == "error: cannot connect to NATS at nats://127.0.0.1:\(port): no server is listening there; start the local stack with scripts/dev (or factoryctl dev), or point --server or NATS_URL at your server\n"
            )
        }

        @Test("apply refuses invalid manifests before connecting: every problem on its own line, nothing published, exit 2")
        func invalidManifest() async throws {
            let text = try String(contentsOf: CLIProcess.packageRoot.appendingPathComponent("examples/resource.yaml"), encoding: .utf8)
                .replacingOccurrences(of: "isSchema: false", with: "isSchema: \"no\"")
            // No server is listening on this port: the refusal must come before any connection.
            let port = try FreePort.pick()
            let outcome = try await CLIProcess.run(["apply", "-f", "-", "-w", "public", "-s", "nats://127.0.0.1:\(port)"], standardInput: Data(text.utf8))
            #expect(outcome.status == 2, "\(outcome)")
            #expect(outcome.output.isEmpty)
            #expect(
                outcome.errorOutput
                    == "error: stdin: /spec/model/isSchema: expected boolean, got string\nerror: nothing was published: 1 problem above\n", "\(outcome)")

            let workspace = try await CLIProcess.run(["apply", "-f", "examples/resource.yaml", "-w", "elsewhere", "-s", "nats://127.0.0.1:\(port)"])
            #expect(workspace.status == 2)
            #expect(workspace.errorOutput.contains("workspace \"elsewhere\" is not enabled; enabled workspaces: public, sandbox"), "\(workspace)")

            let badName = try await CLIProcess.run(["run", "Pipeline", "-w", "public", "-s", "nats://127.0.0.1:\(port)"])
            #expect(badName.status == 2)
            #expect(badName.errorOutput.hasPrefix("error: invalid resource name \"Pipeline\""), "\(badName)")
        }

        @Test("apply --dry-run: a multi-document file, each with its content-derived Nats-Msg-Id, the owner part of the content")
        func dryRun() async throws {
            let text = try String(contentsOf: CLIProcess.packageRoot.appendingPathComponent("examples/resource.yaml"), encoding: .utf8)
            let two = text + "\n---\n" + text.replacingOccurrences(of: "name: pipeline-01", with: "name: pipeline-02")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("factoryctl-two-\(UUID().uuidString).yaml")
            try two.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let first = try await CLIProcess.run(["apply", "-f", file.path, "-w", "sandbox", "--dry-run", "--owner", "iamgroot"])
            #expect(first.status == 0, "\(first)")
            #expect(first.lines.count == 2)
            #expect(first.lines[0].hasPrefix("sandbox/pipeline-01: valid, Nats-Msg-Id "))
            #expect(first.lines[1].hasPrefix("sandbox/pipeline-02: valid, Nats-Msg-Id "))
            let repeated = try await CLIProcess.run(["apply", "-f", file.path, "-w", "sandbox", "--dry-run", "--owner", "iamgroot"])
            #expect(repeated.output == first.output, "same content, same id")
            let otherOwner = try await CLIProcess.run(["apply", "-f", file.path, "-w", "sandbox", "--dry-run", "--owner", "someone-else"])
            #expect(otherOwner.output != first.output, "the owner is part of the content")
        }
    }
}
