import Foundation
import Hightouch
import HightouchSimulator
import NIOHTTP1
import Testing
import VendorHTTP

/// The simulator's state file: what a started simulator finds of its last run, and how it refuses
/// a file it cannot use (issue 18: the local stack must not forget half its state).
@Suite("Hightouch simulator: state file", .timeLimit(.minutes(2)))
struct HightouchSimulatorStateFileTests {
    @Test("objects, ids, runs and their progress, the trigger log and the counters survive a stop and a start with the same file")
    func stateSurvivesRestart() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("simulator.json")

        struct Seen {
            var model: String
            var sync: String
            var runs: String
            var triggers: [HightouchSimulator.TriggerRecord]
            var counters: HightouchSimulator.Counters
            var shortRun: Int
        }
        let before: Seen = try await withHightouch(knobs: { $0.runDuration = .seconds(60) }, simulator: { $0.stateFile = path }) { simulator, client in
            let sync = try await createSeedPipeline(client)
            _ = try await client.updateSync(id: sync.id, HightouchSyncUpdate(disabled: false))
            let flags = HightouchTriggerOptions(fullResync: false, resetCDC: false)
            // One run ended (simulated time jumps past it), one running, one queued behind it.
            let ended = try await client.triggerRun(syncID: sync.id, options: flags)
            simulator.advanceClock(by: .seconds(61))
            #expect(try await client.run(syncID: sync.id, runID: ended)?.status == .success)
            _ = try await client.triggerRun(syncID: sync.id, options: flags)
            _ = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: true, resetCDC: false))
            // A short run on a second sync, still going when the simulator stops.
            simulator.updateKnobs { $0.runDuration = .milliseconds(300) }
            let other = try await createSeedPipeline(client, suffix: "-b")
            let short = try await client.triggerRun(syncID: other.id, options: flags)
            #expect(try await client.run(syncID: other.id, runID: short)?.status != .success)
            return Seen(
                model: try await api(simulator, "/models/10001"),
                sync: try await api(simulator, "/syncs/20001"),
                runs: try await api(simulator, "/syncs/20001/runs"),
                triggers: simulator.triggerLog(),
                counters: simulator.counters(),
                shortRun: short.intValue ?? 0
            )
        }
        // Longer than the short run: it ends while nothing serves.
        try await Task.sleep(for: .milliseconds(500))
        let file = try jsonObject(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self))
        #expect(file["version"] as? Int == 1)

        try await withHightouch(knobs: { $0.runDuration = .seconds(60) }, simulator: { $0.stateFile = path }) { simulator, client in
            #expect(try await api(simulator, "/models/10001") == before.model)
            #expect(try await api(simulator, "/syncs/20001") == before.sync)
            #expect(try await api(simulator, "/syncs/20001/runs") == before.runs, "the ended, running and queued runs as they were")
            #expect(simulator.triggerLog() == before.triggers)
            #expect(simulator.counters().triggersBySyncSlug == before.counters.triggersBySyncSlug)
            #expect(simulator.counters().requests("POST /models", status: 200) == 2)
            // Knobs come from the configuration, not the file.
            #expect(simulator.knobs.runDuration == .seconds(60))

            let short = try #require(try await client.run(syncID: HightouchID(20002), runID: HightouchID(before.shortRun)))
            #expect(short.status == .success, "a run that ended while the simulator was down has ended")

            // The id counters go on where they were.
            let third = try await createSeedPipeline(client, suffix: "-c")
            #expect(third.modelID == HightouchID(10003))
            #expect(third.id == HightouchID(20003))
            #expect(try await client.triggerRun(syncID: third.id, options: .init(fullResync: false, resetCDC: false)) == HightouchID(500005))

            // The restored timelines go on: the running run ends a run duration after its start,
            // and the queued one starts exactly then.
            simulator.advanceClock(by: .seconds(61))
            let running = try #require(try await client.run(syncID: HightouchID(20001), runID: HightouchID(500002)))
            let queued = try #require(try await client.run(syncID: HightouchID(20001), runID: HightouchID(500003)))
            #expect(running.status == .success)
            let started = try #require(running.startedAt)
            let finished = try #require(running.finishedAt)
            #expect(abs(finished.timeIntervalSince(started) - 60) < 0.002)
            #expect(queued.startedAt == running.finishedAt)
        }
    }

    @Test("changes made concurrently up to the stop are all in the file: nothing acknowledged is lost")
    func concurrentChangesThenStop() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("simulator.json")
        let workers = 4
        let perWorker = 20
        // No rate limit on either side: the requests come as fast as they can.
        try await withHightouch(knobs: { $0.rateLimit = nil }, simulator: { $0.stateFile = path }, client: { $0.rateLimit = nil }) { _, client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        for index in 0..<perWorker {
                            let sync = try await createSeedPipeline(client, suffix: "-\(worker)-\(index)")
                            _ = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Stopped at once: the last changes are younger than the write interval.
        }
        try await withHightouch(simulator: { $0.stateFile = path }) { simulator, client in
            let total = workers * perWorker
            #expect(try await client.listModels().count == total)
            #expect(try await client.listSyncs().count == total)
            #expect(simulator.counters().totalTriggers == total)
            #expect(simulator.triggerLog().count == total)
            #expect(Set(simulator.triggerLog().map(\.runID)) == Set((0..<total).map { 500_001 + $0 }))
            let next = try await client.createModel(seedModel(slug: "after-restart"))
            #expect(next.id == HightouchID(10_001 + total))
        }
    }

    @Test("a change is written within the interval, atomically; reads write nothing; a first file is written at start")
    func writesAfterChangesOnly() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("simulator.json")
        try await withHightouch(simulator: { $0.stateFile = path }) { simulator, client in
            let first = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(try jsonObject(String(decoding: first, as: UTF8.self))["version"] as? Int == 1, "written at start")

            let sync = try await createSeedPipeline(client)
            let written = try await waitForFile(path) { $0.contains("icebase-excel-01") }
            // Reads (and the request counts they bump) do not rewrite the file.
            for _ in 0..<20 { _ = try await client.sync(id: sync.id) }
            try await Task.sleep(for: .milliseconds(600))
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == written)

            _ = try await client.updateSync(id: sync.id, HightouchSyncUpdate(disabled: true))
            _ = try await waitForFile(path) { $0.contains("\"disabled\" : true") }
            #expect(!FileManager.default.fileExists(atPath: path + ".tmp"), "no temporary file left beside it")
            _ = simulator
        }
    }

    @Test("start() on a running simulator is refused and loads nothing over the state it serves")
    func secondStart() async throws {
        let directory = try TemporaryDirectory()
        try await withHightouch(simulator: { $0.stateFile = directory.path("simulator.json") }) { simulator, client in
            // Younger than the write interval: the file does not hold it yet.
            _ = try await createSeedPipeline(client)
            await #expect(throws: HightouchSimulatorError.alreadyRunning) { try await simulator.start() }
            try await Task.sleep(for: .milliseconds(50))
            #expect(try await client.listSyncs().count == 1)
        }
    }

    @Test("a last write that fails when the simulator stops is kept in stateFileFailure, not lost in silence")
    func failedLastWrite() async throws {
        let directory = try TemporaryDirectory()
        let inner = directory.url.appendingPathComponent("gone")
        try FileManager.default.createDirectory(at: inner, withIntermediateDirectories: true)
        var configuration = HightouchSimulator.Configuration(tokens: [testToken])
        configuration.stateFile = inner.appendingPathComponent("simulator.json").path
        let simulator = HightouchSimulator(configuration: configuration)
        try await simulator.start()
        #expect(simulator.stateFileFailure == nil)
        try FileManager.default.removeItem(at: inner)
        await simulator.stop()
        guard case .stateFileNotWritable(let path, _)? = simulator.stateFileFailure else {
            Issue.record("expected stateFileNotWritable, got \(String(describing: simulator.stateFileFailure))")
            return
        }
        #expect(path == configuration.stateFile)
    }

    @Test("a state file that cannot be used fails start() with an error naming the file and what is wrong, and is left as it was")
    func corruptFiles() async throws {
        let directory = try TemporaryDirectory()
        let valid = directory.path("valid.json")
        try await withHightouch(simulator: { $0.stateFile = valid }) { _, client in
            _ = try await createSeedPipeline(client)
        }
        let validText = String(decoding: try Data(contentsOf: URL(fileURLWithPath: valid)), as: UTF8.self)
        func edited(_ edit: (inout [String: Any]) -> Void) throws -> String {
            var object = try jsonObject(validText)
            edit(&object)
            return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        }

        let cases: [(name: String, content: String, problem: String)] = [
            ("garbage", "this is not { JSON", "is not JSON"),
            ("empty", "", "is empty, not JSON"),
            ("array", "[1, 2, 3]", "is not a JSON object but an array"),
            ("no version", #"{"models": []}"#, "has no \"version\": it is not a simulator state file"),
            ("wrong type", try edited { $0["syncs"] = "none" }, "has the wrong shape: syncs is not an array"),
            ("missing field", try edited { $0["nextIds"] = ["model": 10002, "sync": 20002] }, "has the wrong shape: nextIds.run is missing"),
            ("dangling", try edited { $0["models"] = [] as [Any] }, "has the wrong shape: sync 20001 names model 10001, which the file does not hold"),
            ("version 2", try edited { $0["version"] = 2 }, "has format version 2, newer than this simulator reads (1); a newer simulator wrote it"),
        ]
        for (name, content, problem) in cases {
            let path = directory.path("\(name).json")
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            var configuration = HightouchSimulator.Configuration(tokens: [testToken])
            configuration.stateFile = path
            let simulator = HightouchSimulator(configuration: configuration)
            let expected = HightouchSimulatorError.stateFile(path: path, problem: problem)
            #expect(throws: expected, "\(name)") { try simulator.checkStateFile() }
            await #expect(throws: expected, "\(name)") { try await simulator.start() }
            #expect(simulator.port == nil, "\(name): not serving")
            #expect(expected.description.hasPrefix("The Hightouch simulator's state file \(path) \(problem);"))
            #expect(String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self) == content, "\(name): the file is left as it was")
            await simulator.stop()
        }

        // No file yet, in a directory that does not exist: the first write fails the start.
        var configuration = HightouchSimulator.Configuration(tokens: [testToken])
        configuration.stateFile = directory.path("missing/state.json")
        let simulator = HightouchSimulator(configuration: configuration)
        do {
            try await simulator.start()
            Issue.record("started without a writable state file")
            await simulator.stop()
        } catch let error as HightouchSimulatorError {
            guard case .stateFileNotWritable(let path, let reason) = error else { throw error }
            #expect(path == directory.path("missing/state.json"))
            #expect(reason.contains("No such file or directory"), "\(reason)")
        }
    }
}

// MARK: - Helpers

/// The API's JSON answer to `GET <path>` as text (field order and all).
private func api(_ simulator: HightouchSimulator, _ path: String) async throws -> String {
    let base = try #require(simulator.baseURL)
    let response = try await rawRequest(.GET, base + simulator.configuration.basePath + path, headers: [("Authorization", "Bearer \(testToken)")])
    #expect(response.status == 200, "GET \(path): \(response.body)")
    return response.body
}

/// Polls the file until its text satisfies `condition` (at most two seconds) and returns its bytes.
private func waitForFile(_ path: String, _ condition: (String) -> Bool) async throws -> Data {
    let deadline = ContinuousClock.now + .seconds(2)
    while true {
        let data = (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data()
        if condition(String(decoding: data, as: UTF8.self)) { return data }
        guard ContinuousClock.now < deadline else {
            Issue.record("\(path) did not change as expected within 2s")
            return data
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// A directory removed when the value is released.
private final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("simulator-state-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
