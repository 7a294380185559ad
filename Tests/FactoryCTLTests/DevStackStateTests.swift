import Foundation
import NATSTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension BinaryTests {
    /// The local stack restarted the next morning (issue 18): JetStream's state and the simulator's
    /// are kept side by side in `--dir`, so the stack agrees with itself after a restart.
    @Suite("factoryctl dev keeps the simulator's state beside JetStream's (binaries)", .timeLimit(.minutes(6)))
    struct DevStackStateTests {
        @Test("dev up, apply the example, watch it succeed, Ctrl-C; up again: run succeeds, nothing repaired; simulator state deleted, up again: run succeeds, the repair recorded")
        func restartKeepsBothHalves() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("factoryctl-dev-state-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            let stateFile = directory.appendingPathComponent("hightouch-simulator.json")

            // Day one: apply and watch the example succeed.
            try await Self.withDevStack(directory: directory) { server in
                let apply = try await CLIProcess.run(["apply", "-f", "examples/resource.yaml", "-w", "public"] + server)
                #expect(apply.status == 0, "\(apply)")
                let watch = try await CLIProcess.run(["watch", "pipeline-01", "-w", "public"] + server, timeout: .seconds(60))
                #expect(watch.status == 0, "\(watch)")
                #expect(watch.lines.last?.hasPrefix("public/pipeline-01: run 500001 succeeded in ") == true, "\(watch)")
            }
            let saved = try Self.jsonObject(at: stateFile)
            #expect(saved["version"] as? Int == 1)
            #expect((saved["syncs"] as? [[String: Any]])?.first?["slug"] as? String == "icebase-excel-01", "\(saved)")

            // The next morning: the simulator still knows the sync, so the run needs no repair.
            try await Self.withDevStack(directory: directory) { server in
                let run = try await CLIProcess.run(["run", "pipeline-01", "-w", "public", "--watch"] + server, timeout: .seconds(60))
                #expect(run.status == 0, "\(run)")
                #expect(run.lines.last?.hasPrefix("public/pipeline-01: run 500002 succeeded in ") == true, "the simulator's run ids go on: \(run)")
                let status = try await Self.status(server)
                #expect(status["lastDrift"] == nil, "nothing needed repair: \(status)")
                #expect((status["lastRun"] as? [String: Any])?["status"] as? String == "success", "\(status)")
            }

            // The simulator's half deleted: the operator repairs on use, and says so.
            try FileManager.default.removeItem(at: stateFile)
            try await Self.withDevStack(directory: directory) { server in
                let run = try await CLIProcess.run(["run", "pipeline-01", "-w", "public", "--watch"] + server, timeout: .seconds(60))
                #expect(run.status == 0, "\(run)")
                #expect(run.lines.last?.contains(" succeeded in ") == true, "\(run)")
                let status = try await Self.status(server)
                let drift = try #require(status["lastDrift"] as? [String: Any], "the repair is recorded: \(status)")
                #expect(drift["kind"] as? String == "onUse", "\(drift)")
                #expect((drift["found"] as? String)?.contains("no longer exists at Hightouch") == true, "\(drift)")
            }
        }

        @Test("a corrupt simulator state file: factoryctl dev exits 2 with one line naming the file before anything starts; --fresh starts empty")
        func corruptStateFile() async throws {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("factoryctl-dev-state-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let stateFile = directory.appendingPathComponent("hightouch-simulator.json")
            try Data("{\"version\": 1, \"models\": ".utf8).write(to: stateFile)

            let natsPort = try FreePort.pick()
            let outcome = try await CLIProcess.run(
                ["dev", "--nats-port", "\(natsPort)", "--sim-port", "\(try FreePort.pickRun(of: 5))", "--metric-port", "\(try FreePort.pickRun(of: 2))", "--dir", directory.path],
                timeout: .seconds(30))
            #expect(outcome.status == 2, "\(outcome)")
            #expect(
                outcome.errorOutput
                    == "error: the Hightouch simulator's state file \(stateFile.path) is not JSON; fix it, delete it to start the simulator empty (the operator recreates a resource's vendor objects on its next command), or start the whole stack empty with --fresh\n",
                "\(outcome)")
            #expect(!outcome.output.contains("nats-server"), "nothing started: \(outcome)")
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("jetstream/jetstream").path))

            // --fresh clears both halves: the stack starts, with a new, empty simulator state.
            try await Self.withDevStack(directory: directory, extraArguments: ["--fresh"]) { _ in }
            let saved = try Self.jsonObject(at: stateFile)
            #expect(saved["version"] as? Int == 1)
            #expect((saved["syncs"] as? [Any])?.isEmpty == true, "\(saved)")
        }

        // MARK: - Helpers

        /// Starts `factoryctl dev` on fresh ports with `--dir directory`, waits until it is ready,
        /// runs `body` with the `-s` arguments, then stops it with Ctrl-C and expects exit 0.
        static func withDevStack(
            directory: URL,
            extraArguments: [String] = [],
            _ body: ([String]) async throws -> Void
        ) async throws {
            let natsPort = try FreePort.pick()
            let dev = try CLIProcess.Background(
                [
                    "dev", "--nats-port", "\(natsPort)", "--sim-port", "\(try FreePort.pickRun(of: 5))", "--metric-port", "\(try FreePort.pickRun(of: 2))",
                    "--dir", directory.path, "--run-duration", "2s",
                ] + extraArguments)
            do {
                let ready = await dev.waitForOutput("ready in", timeout: .seconds(90))
                try #require(ready, "factoryctl dev did not get ready:\n\(dev.output)\n\(dev.errorOutput)")
                #expect(dev.output.contains("state \(directory.appendingPathComponent("hightouch-simulator.json").path)"), "\(dev.output)")
                try await body(["-s", "nats://127.0.0.1:\(natsPort)"])
            } catch {
                dev.signal(SIGKILL)
                _ = await dev.waitForExit(timeout: .seconds(10))
                throw error
            }
            dev.signal(SIGINT)
            let status = await dev.waitForExit(timeout: .seconds(60))
            #expect(status == 0, "\(dev.output)\n\(dev.errorOutput)")
            #expect(dev.output.contains("stopped the simulator (its state kept in "), "\(dev.output)")
        }

        /// `factoryctl get pipeline-01 -w public -o json`.
        static func status(_ server: [String]) async throws -> [String: Any] {
            let json = try await CLIProcess.run(["get", "pipeline-01", "-w", "public", "-o", "json"] + server)
            #expect(json.status == 0, "\(json)")
            return try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any], "\(json)")
        }

        static func jsonObject(at url: URL) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any], "\(url.path) is not a JSON object")
        }
    }
}
