import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NATSTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension BinaryTests {
    /// The product as a newcomer meets it: `factoryctl dev` brings the stack up, the example is
    /// applied, watched to success, listed, inspected, run again and deleted with the built
    /// `factoryctl`, and Ctrl-C takes everything down.
    @Suite("factoryctl against factoryctl dev (binaries)", .timeLimit(.minutes(4)))
    struct DevStackTests {
        @Test("dev up, apply the example, watch it succeed, get the table and JSON, run again, delete, Ctrl-C: exit 0, no child left")
        func userJourney() async throws {
            let natsPort = try FreePort.pick()
            let simulatorPort = try FreePort.pickRun(of: 5)
            let metricPort = try FreePort.pickRun(of: 2)
            let consolePort = try FreePort.pick()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("factoryctl-dev-test-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let server = ["-s", "nats://127.0.0.1:\(natsPort)"]

            let dev = try CLIProcess.Background([
                "dev", "--nats-port", "\(natsPort)", "--sim-port", "\(simulatorPort)", "--metric-port", "\(metricPort)",
                "--dir", directory.path, "--run-duration", "2s", "--console-port", "\(consolePort)",
            ])
            var children: [String: Int32] = [:]
            do {
                let ready = await dev.waitForOutput("ready in", timeout: .seconds(90))
                try #require(ready, "factoryctl dev did not get ready:\n\(dev.output)\n\(dev.errorOutput)")
                children = Self.childPIDs(in: dev.output)
                #expect(Set(children.keys) == ["nats-server", "operator-1", "operator-2"], "\(dev.output)")
                #expect(dev.output.contains("provisioned streams/: 3 streams, 2 consumers, 2 KV buckets"))
                // The welcome follows "ready in" once the console serves.
                let welcomed = await dev.waitForOutput("Ctrl-C stops everything", timeout: .seconds(30))
                #expect(welcomed, "\(dev.output)")
                #expect(dev.output.contains("apply -f examples/resource.yaml -w public"))
                #expect(dev.output.contains("The web console (read-only): http://127.0.0.1:\(consolePort)"), "\(dev.output)")

                // apply: validated locally, published once; the same content again is a duplicate.
                let apply = try await CLIProcess.run(["apply", "-f", "examples/resource.yaml", "-w", "public", "--owner", "iamgroot"] + server)
                #expect(apply.status == 0, "\(apply)")
                #expect(apply.output == "public/pipeline-01: apply published to dataos-hightouch-entities, sequence 1\n", "\(apply)")

                // watch: follows the KV state until the run ends.
                let watch = try await CLIProcess.run(["watch", "pipeline-01", "-w", "public"] + server, timeout: .seconds(60))
                #expect(watch.status == 0, "\(watch)")
                #expect(watch.lines.contains { $0.contains("public/pipeline-01  active  inprogress  run 500001") }, "\(watch)")
                #expect(watch.lines.last?.hasPrefix("public/pipeline-01: run 500001 succeeded in ") == true, "\(watch)")

                let again = try await CLIProcess.run(["apply", "-f", "examples/resource.yaml", "-w", "public", "--owner", "iamgroot"] + server)
                #expect(again.output == "public/pipeline-01: unchanged (duplicate within the window), sequence 1\n", "\(again)")

                // get: DESIGN.md's table.
                let table = try await CLIProcess.run(["get", "-t", "resource", "-w", "public"] + server)
                #expect(table.status == 0, "\(table)")
                #expect(table.lines.first == "    NAME     | VERSION |   TYPE   | WORKSPACE | STATUS |  RUNTIME  |  OWNER", "\(table)")
                #expect(table.lines.dropFirst().first == "-------------|---------|----------|-----------|--------|-----------|----------")
                #expect(table.lines.dropFirst(2).first == " pipeline-01 | v1beta  | resource | public    | active | succeeded | iamgroot")
                #expect(table.lines.contains { $0.contains("| active | succeeded |") })

                // The web console dev serves shows it too (its JSON; the pages are ConsoleTests').
                let consoleURL = try #require(URL(string: "http://127.0.0.1:\(consolePort)/api/resources"))
                let (consoleData, consoleResponse) = try await URLSession.shared.data(from: consoleURL)
                #expect((consoleResponse as? HTTPURLResponse)?.statusCode == 200)
                #expect(String(decoding: consoleData, as: UTF8.self).contains(#""name":"pipeline-01""#), "\(String(decoding: consoleData, as: UTF8.self))")

                // get -d: the detail.
                let detail = try await CLIProcess.run(["get", "-t", "resource", "-w", "public", "-n", "pipeline-01", "-d"] + server)
                #expect(detail.status == 0, "\(detail)")
                #expect(detail.output.contains("Sync:             20001 (icebase-excel-01)"), "\(detail)")
                #expect(detail.output.contains("  Status:           success (succeeded)"), "\(detail)")

                // get -o json: the whole status view.
                let json = try await CLIProcess.run(["get", "pipeline-01", "-w", "public", "-o", "json"] + server)
                #expect(json.status == 0, "\(json)")
                let document = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any], "\(json)")
                #expect(document["status"] as? String == "active")
                #expect(document["owner"] as? String == "iamgroot")
                let firstRun = try #require(document["lastRun"] as? [String: Any])
                #expect(firstRun["status"] as? String == "success")
                #expect((document["spec"] as? [String: Any])?["sync"] != nil)

                // run --watch: triggers again (a new run id) and follows it.
                let run = try await CLIProcess.run(["run", "pipeline-01", "-w", "public", "--watch"] + server, timeout: .seconds(60))
                #expect(run.status == 0, "\(run)")
                #expect(run.lines.first == "public/pipeline-01: run published to dataos-hightouch-entities, sequence 2", "\(run)")
                #expect(run.lines.last?.hasPrefix("public/pipeline-01: run 500002 succeeded in ") == true, "\(run)")

                // delete --watch.
                let delete = try await CLIProcess.run(["delete", "pipeline-01", "-w", "public", "--watch"] + server, timeout: .seconds(60))
                #expect(delete.status == 0, "\(delete)")
                #expect(delete.lines.last == "public/pipeline-01: deleted", "\(delete)")
                let afterDelete = try await CLIProcess.run(["get", "-t", "resource", "-w", "public"] + server)
                #expect(afterDelete.lines.contains { $0.contains("| deleted |") }, "\(afterDelete)")

                let missing = try await CLIProcess.run(["get", "nothing-here", "-w", "public"] + server)
                #expect(missing.status == 1)
                #expect(missing.errorOutput == "error: resource nothing-here not found in workspace public; list the workspace with factoryctl get -t resource -w public\n")
            } catch {
                dev.signal(SIGKILL)
                throw error
            }

            // Ctrl-C: everything stops, in order, and the exit status is 0.
            dev.signal(SIGINT)
            let status = await dev.waitForExit(timeout: .seconds(60))
            #expect(status == 0, "\(dev.output)\n\(dev.errorOutput)")
            #expect(dev.output.contains("stopped nats-server"))
            #expect(dev.output.hasSuffix("stopped\n"), "\(dev.output)")
            for (name, pid) in children {
                #expect(!CLIProcess.isAlive(pid), "\(name) (pid \(pid)) outlived factoryctl dev")
            }
        }

        @Test("every example of every type runs in the dev stack as it is (HTTP tasks against the stack's task target), get lists them all, and the pipeline example runs to success")
        func everyType() async throws {
            let natsPort = try FreePort.pick()
            let simulatorPort = try FreePort.pickRun(of: 6)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("factoryctl-dev-test-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let server = ["-s", "nats://127.0.0.1:\(natsPort)"]
            let dev = try CLIProcess.Background([
                "dev", "--nats-port", "\(natsPort)", "--sim-port", "\(simulatorPort)", "--metric-port", "\(try FreePort.pickRun(of: 2))",
                "--dir", directory.path, "--run-duration", "1s",
            ])
            do {
                try #require(await dev.waitForOutput("ready in", timeout: .seconds(90)), "factoryctl dev did not get ready:\n\(dev.output)\n\(dev.errorOutput)")
                for line in ["fivetran     http://127.0.0.1:\(simulatorPort + 1)/v1", "dbtcloud     http://127.0.0.1:\(simulatorPort + 2)/api/v2/accounts/1/", "census       http://127.0.0.1:\(simulatorPort + 3)/api/v1", "http target  http://127.0.0.1:\(simulatorPort + 4)"] {
                    #expect(dev.output.contains(line), "\(dev.output)")
                }
                let local = try String(contentsOfFile: "examples/http-local.yaml", encoding: .utf8).replacingOccurrences(of: "127.0.0.1:8084", with: "127.0.0.1:\(simulatorPort + 4)")
                let localFile = directory.appendingPathComponent("http-local.yaml")
                try local.write(to: localFile, atomically: true, encoding: .utf8)
                let apply = try await CLIProcess.run(
                    ["apply", "-f", "examples/resource.yaml", "-f", "examples/dbtcloud.yaml", "-f", "examples/census.yaml", "-f", "examples/fivetran.yaml", "-f", localFile.path, "-w", "public"] + server)
                #expect(apply.status == 0, "\(apply)")
                let names = ["dbt-nightly", "local-check", "pipeline-01", "sales-postgres", "users-to-braze"]
                let deadline = ContinuousClock.now.advanced(by: .seconds(60))
                var table = try await CLIProcess.run(["get", "-w", "public"] + server)
                while ContinuousClock.now < deadline, table.lines.filter({ $0.contains("| succeeded |") }).count < names.count {
                    try await Task.sleep(for: .milliseconds(500))
                    table = try await CLIProcess.run(["get", "-w", "public"] + server)
                }
                for name in names {
                    #expect(table.lines.contains { $0.hasPrefix(" \(name) ") && $0.contains("| active | succeeded |") }, "\(name):\n\(table)")
                }

                // The pipeline example, once the vendors are idle: Fivetran → dbt Cloud → Hightouch +
                // Census, its notification skipped and its finally task run, to success.
                let pipeline = try String(contentsOfFile: "examples/pipeline.yaml", encoding: .utf8).replacingOccurrences(of: "127.0.0.1:8084", with: "127.0.0.1:\(simulatorPort + 4)")
                let pipelineFile = directory.appendingPathComponent("pipeline.yaml")
                try pipeline.write(to: pipelineFile, atomically: true, encoding: .utf8)
                let applyPipeline = try await CLIProcess.run(["apply", "-f", pipelineFile.path, "-w", "public"] + server)
                #expect(applyPipeline.status == 0, "\(applyPipeline)")
                let run = try await CLIProcess.run(["run", "daily-revenue", "-w", "public", "--watch"] + server, timeout: .seconds(90))
                #expect(run.status == 0, "\(run)")
                #expect(run.lines.last?.contains("public/daily-revenue: run ") == true && run.lines.last?.contains(" succeeded in ") == true, "\(run)")
                let runs = try await CLIProcess.run(["runs", "daily-revenue", "-w", "public"] + server)
                #expect(runs.lines.contains { $0.contains("| succeeded | manual ") && $0.contains("| 6/6 ") }, "\(runs)")

                // Fivetran's and dbt Cloud's run ends reached the first replica as signed webhooks.
                #expect(dev.output.contains("webhooks     http://127.0.0.1:\(simulatorPort + 5)/webhooks/fivetran and /webhooks/dbtcloud"), "\(dev.output)")
                let replicaLog = try String(contentsOf: directory.appendingPathComponent("operator-1.log"), encoding: .utf8)
                let webhooks = replicaLog.split(separator: "\n").filter { $0.contains("\"Webhook\"") }
                #expect(webhooks.contains { $0.contains(#""webhook":"fivetran""#) } && webhooks.contains { $0.contains(#""webhook":"dbtcloud""#) }, "\(webhooks)")
                #expect(!replicaLog.contains("Refused a webhook"), "\(replicaLog.split(separator: "\n").filter { $0.contains("Refused") })")
            } catch {
                dev.signal(SIGKILL)
                throw error
            }
            dev.signal(SIGINT)
            #expect(await dev.waitForExit(timeout: .seconds(60)) == 0, "\(dev.output)\n\(dev.errorOutput)")
            #expect(dev.output.contains("stopped the Fivetran, dbt Cloud and Census simulators and the HTTP task target"))
        }

        @Test("a busy NATS port is reported with the option to change it, before anything starts")
        func busyPort() async throws {
            let listener = try LoopbackListener()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("factoryctl-dev-test-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let outcome = try await CLIProcess.run(["dev", "--nats-port", "\(listener.port)", "--dir", directory.path], timeout: .seconds(30))
            #expect(outcome.status == 3, "\(outcome)")
            #expect(
                outcome.errorOutput
                    == "error: port \(listener.port) (for NATS) is already in use, perhaps by another nats-server or factoryctl dev; stop that, or choose another port with --nats-port\n")
        }

        /// `nats-server  nats://… JetStream, pid 123, …` and `operator-1   pid 124, …` → names and pids.
        static func childPIDs(in output: String) -> [String: Int32] {
            var pids: [String: Int32] = [:]
            for line in output.split(separator: "\n") {
                let words = line.split(whereSeparator: { $0 == " " || $0 == "," })
                guard let name = words.first, name == "nats-server" || name.hasPrefix("operator-"),
                    let index = words.firstIndex(of: "pid"), index + 1 < words.count, let pid = Int32(words[index + 1])
                else { continue }
                pids[String(name)] = pid
            }
            return pids
        }
    }
}
