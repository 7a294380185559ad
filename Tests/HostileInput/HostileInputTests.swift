import ChaosKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HightouchSimulator
import Testing

/// Issue 8, item 2: the hostile-input corpus (`corpus.jsonl`, made by `make_corpus.py`), sent by
/// an independent nats-py client (`hostile_client.py`) to two real `hightouch-operator` replica
/// processes. The client checks that every message is terminated and reported, that queries are
/// answered throughout, and that bystanders are untouched; this test adds the vendor's side:
/// exactly one trigger per accepted command, none anywhere else, and no replica crashed.
@Suite("Hostile input", .serialized, .timeLimit(.minutes(4)))
struct HostileInputTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let root = directory.deletingLastPathComponent().deletingLastPathComponent()

    @Test("the hostile corpus: every message terminated and reported, replicas keep serving, nothing else disturbed")
    func hostileCorpus() async throws {
        let python = Self.root.appendingPathComponent(".venv/bin/python").path
        try #require(FileManager.default.isExecutableFile(atPath: python), "run scripts/bootstrap to install .venv with nats-py")
        let binary = ChaosScenario.defaultOperatorBinary(packageRoot: Self.root.path)
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build hightouch-operator first (swift build)")

        let runDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-input-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        let children = ChildProcesses(pidFile: runDirectory + "/pids")
        let simulator = HightouchSimulator(configuration: .init(tokens: ["hostile-token"], knobs: .init(runDuration: .milliseconds(500), rateLimit: nil)))
        var replicas: [ReplicaProcess] = []
        var nats: ChaosNATS?
        defer { children.killAll() }
        do {
            let port = try await simulator.start()
            let server = try await ChaosNATS.single(executable: nil, children: children)
            nats = server
            let environment = [
                "NATS_URL": server.urlList,
                "HIGHTOUCH_SERVICE_URL": "http://127.0.0.1:\(port)",
                "HIGHTOUCH_SERVICE_SECRET": "hostile-token",
                "HIGHTOUCH_RATE_LIMIT": "100000",
                "OPERATOR_MAX_WORKERS": "4",
                "OPERATOR_ACK_WAIT": "2s",
                "OPERATOR_RECONCILE_WORKERS_INTERVAL": "200ms",
                "OPERATOR_MAX_COMMAND_BYTES": "262144",
                "LOG_LEVEL": "info",
            ]
            for slot in 0..<2 {
                let replica = ReplicaProcess(slot: slot, binary: binary, environment: environment, directory: runDirectory, children: children)
                try replica.start()
                replicas.append(replica)
            }

            let (status, output) = try await Self.runClient(python: python, url: server.urls[0], timeout: .seconds(200))
            let summaryLine = output.split(separator: "\n").last { $0.hasPrefix("{") }
            let summary = summaryLine.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } ?? [:]
            let failures = summary["failures"] as? [[String: Any]] ?? []
            #expect(status == 0, "the client found problems:\n\(failures.map { "\($0["id"] ?? "?"): \($0["problem"] ?? "?")" }.joined(separator: "\n"))\n\(output.suffix(3000))")
            #expect(failures.isEmpty)
            #expect((summary["commands"] as? Int ?? 0) >= 200, "at least 200 hostile commands")
            print("hostile corpus: \(summary["messages"] ?? "?") messages, \(summary["deadLetters"] ?? "?") dead letters, sent in \(summary["sentInSeconds"] ?? "?") s, \(summary["totalSeconds"] ?? "?") s in all; pings \(summary["pings"] ?? "?"); queues \(summary["queues"] ?? "?")")

            // The vendor's side: one trigger per command that was to take effect, nothing else.
            let expected = (summary["acceptedSyncs"] as? [String] ?? []) + (summary["bystanderSyncs"] as? [String] ?? [])
            let counters = simulator.counters()
            let wrong = expected.filter { counters.triggersBySyncSlug[$0] != 1 }
            #expect(wrong.isEmpty, "not exactly one trigger: \(wrong.map { "\($0)=\(counters.triggersBySyncSlug[$0] ?? 0)" })")
            let stray = Set(counters.triggersBySyncSlug.keys).subtracting(expected)
            #expect(stray.isEmpty, "triggers on syncs no accepted command names: \(stray.sorted())")
            #expect(!expected.isEmpty)

            // ... and the bystanders' objects at the vendor are still their own (no hostile
            // slug reached them: a slug is looked up percent-encoded).
            for name in ["hostile-good-1", "hostile-good-2", "hostile-good-3"] {
                let model = try await Self.simulatorObject(port: port, path: "/api/v1/models?slug=\(name)-model")
                #expect(model?["name"] as? String == "\(name)-model", "the model of \(name) was changed: \(String(describing: model))")
                let sync = try await Self.simulatorObject(port: port, path: "/api/v1/syncs?slug=\(name)-sync")
                #expect(sync?["disabled"] as? Bool == false, "the sync of \(name) was changed: \(String(describing: sync))")
                #expect((sync?["configuration"] as? [String: Any])?["mode"] as? String == "mirror")
            }

            // The replicas never crashed on any of it.
            for replica in replicas {
                #expect(replica.isRunning, "replica \(replica.slot) exited; see \(replica.logFile)")
            }
        } catch {
            Issue.record("the hostile-input run could not be carried out: \(error)")
        }
        for replica in replicas { await replica.terminate(grace: .seconds(5)) }
        if let nats { await nats.stop() }
        await simulator.stop()
        if replicas.allSatisfy({ $0.terminationStatus == 0 }) {
            try? FileManager.default.removeItem(atPath: runDirectory)
        } else {
            print("replica logs kept in \(runDirectory)")
        }
    }

    /// The first object of a simulator list, read over plain HTTP.
    static func simulatorObject(port: Int, path: String) async throws -> [String: Any]? {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.setValue("Bearer hostile-token", forHTTPHeaderField: "Authorization")
        let (data, _) = try await URLSession.shared.data(for: request)
        return ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["data"] as? [[String: Any]])?.first
    }

    /// Runs the nats-py client; returns its exit status and output (bounded by `timeout`).
    static func runClient(python: String, url: String, timeout: Duration) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [directory.appendingPathComponent("hostile_client.py").path, url]
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-client-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        if process.isRunning {
            process.terminate()
            try await Task.sleep(for: .milliseconds(500))
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        try? handle.close()
        let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: outputFile)
        return (process.isRunning ? -1 : process.terminationStatus, output)
    }
}
