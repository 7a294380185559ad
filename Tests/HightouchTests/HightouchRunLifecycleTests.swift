import Foundation
import Hightouch
import HightouchSimulator
import Testing
import VendorHTTP

/// Runs driven through their lifecycle by the simulator's knobs.
@Suite("Hightouch client: run lifecycle", .timeLimit(.minutes(1)))
struct HightouchRunLifecycleTests {
    @Test(
        "a run ends in each terminal status with its documented fields",
        arguments: HightouchSimulator.RunOutcome.allCases
    )
    func terminalStatus(outcome: HightouchSimulator.RunOutcome) async throws {
        try await withHightouch(knobs: { $0.runDuration = .milliseconds(300) }) { simulator, client in
            let sync = try await createSeedPipeline(client)
            let vendorError = "Destination said no: quota exceeded for workbook 014W54"
            simulator.forceOutcome(outcome, nextRuns: 1, error: outcome == .failed ? vendorError : nil)
            let runID = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            let run = try await client.waitForRun(syncID: sync.id, runID: runID, pollInterval: .milliseconds(40), timeout: .seconds(10))

            #expect(run.status.rawValue == outcome.rawValue)
            #expect(run.status.isTerminal)
            let createdAt = try #require(run.createdAt)
            let startedAt = try #require(run.startedAt)
            let finishedAt = try #require(run.finishedAt)
            #expect(createdAt <= startedAt && startedAt <= finishedAt)
            let planned = try #require(run.plannedRows)
            let successful = try #require(run.successfulRows)
            let failed = try #require(run.failedRows)
            #expect((run.querySize ?? 0) >= 100)
            #expect(planned.total > 0)
            switch outcome {
            case .success:
                #expect(run.completionRatio == 1)
                #expect(successful == planned)
                #expect(failed.total == 0)
                #expect(run.error == nil)
            case .warning:
                #expect(run.completionRatio == 1)
                #expect(failed.total > 0)
                #expect(successful.total + failed.total == planned.total)
                #expect(run.error == nil)
            case .failed:
                #expect(run.error == vendorError)
                #expect(successful.total == 0)
                #expect(failed.total == planned.total)
            case .cancelled, .interrupted:
                #expect((run.completionRatio ?? 1) < 1)
                #expect(successful.total < planned.total, "a stopped run does not add up to plannedRows")
                #expect(run.error != nil)
            }
            #expect(simulator.counters().runsByStatus[outcome.rawValue] == 1)
            let after = try await client.sync(id: sync.id)
            #expect(after.status?.rawValue == outcome.rawValue)
            #expect(after.lastRunAt == startedAt)
        }
    }

    @Test("a run passes through queued, querying, processing and reporting with a rising completion ratio")
    func progressesThroughPhases() async throws {
        try await withHightouch(knobs: { $0.runDuration = .seconds(20); $0.queueDelay = .seconds(3) }) { simulator, client in
            let sync = try await createSeedPipeline(client)
            let runID = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: true, resetCDC: false))
            var seen: [HightouchSyncRunStatus] = []
            var ratios: [Double] = []
            // Simulated time moves in 1 s steps (every phase lasts at least 3 s); the run advances
            // lazily from its timestamps.
            for _ in 0..<40 {
                let run = try #require(try await client.run(syncID: sync.id, runID: runID))
                if seen.last != run.status { seen.append(run.status) }
                ratios.append(run.completionRatio ?? 0)
                if run.status.isTerminal { break }
                simulator.advanceClock(by: .seconds(1))
            }
            #expect(seen == [.queued, .querying, .processing, .reporting, .success])
            #expect(ratios == ratios.sorted(), "completionRatio never goes down")
            #expect(ratios.first == 0)
            #expect(ratios.last == 1)
            let done = try #require(try await client.run(syncID: sync.id, runID: runID))
            #expect(done.plannedRows?.addedCount == done.querySize, "a full resync plans every row as added")
        }
    }

    @Test("a trigger during an active run queues the next run: createdAt before startedAt, then both finish in order")
    func triggerWhileRunningQueues() async throws {
        try await withHightouch(knobs: { $0.runDuration = .seconds(60) }) { simulator, client in
            let sync = try await createSeedPipeline(client)
            let first = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            let second = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            let queued = try #require(try await client.run(syncID: sync.id, runID: second))
            #expect(queued.status == .queued)
            #expect(queued.startedAt == nil)
            #expect(try await client.run(syncID: sync.id, runID: first)?.status.isTerminal == false)
            #expect(try await client.sync(id: sync.id).status != .queued, "the sync shows its running run")

            simulator.advanceClock(by: .seconds(61))
            let firstDone = try #require(try await client.run(syncID: sync.id, runID: first))
            let secondRunning = try #require(try await client.run(syncID: sync.id, runID: second))
            #expect(firstDone.status == .success)
            #expect(!secondRunning.status.isTerminal)
            simulator.advanceClock(by: .seconds(61))
            let secondDone = try #require(try await client.run(syncID: sync.id, runID: second))
            #expect(secondDone.status == .success)
            let created = try #require(secondDone.createdAt)
            let started = try #require(secondDone.startedAt)
            #expect(created < started)
            #expect(started == firstDone.finishedAt, "the queued run starts when the previous one ends")
            #expect(try await client.listSyncRuns(syncID: sync.id).map(\.id) == [first, second])
        }
    }

    @Test("runs created at or after an instant are found, including a run still queued")
    func runsCreatedSinceAnInstant() async throws {
        try await withHightouch(knobs: { $0.runDuration = .seconds(30) }, client: { $0.pageSize = 2 }) { simulator, client in
            let sync = try await createSeedPipeline(client)
            for _ in 0..<3 { _ = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false)) }
            simulator.advanceClock(by: .seconds(5))
            let marker = try #require(try await client.listSyncRuns(syncID: sync.id).last?.createdAt).addingTimeInterval(2.5)
            let fourth = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            let fifth = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))

            let since = try await client.runs(syncID: sync.id, createdAtOrAfter: marker)
            #expect(since.map(\.id) == [fourth, fifth])
            #expect(since.allSatisfy { $0.status == .queued && $0.startedAt == nil })
            // The documented `after` filter is about start time, so it cannot see these queued runs.
            #expect(try await client.listSyncRuns(syncID: sync.id, .init(after: marker)).isEmpty)
            #expect(try await client.runs(syncID: sync.id, createdAtOrAfter: Date().addingTimeInterval(3600)).isEmpty)
        }
    }

    @Test("the outcome weights and the seed decide outcomes deterministically")
    func weightedOutcomesAreDeterministic() async throws {
        func outcomes(seed: UInt64) async throws -> [HightouchSyncRunStatus] {
            try await withHightouch(knobs: {
                $0.seed = seed
                $0.runDuration = .zero
                $0.outcomeWeights = [.success: 1, .failed: 1, .warning: 1]
            }) { _, client in
                let sync = try await createSeedPipeline(client)
                var statuses: [HightouchSyncRunStatus] = []
                for _ in 0..<12 {
                    let id = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
                    statuses.append(try #require(try await client.run(syncID: sync.id, runID: id)).status)
                }
                return statuses
            }
        }
        let first = try await outcomes(seed: 7)
        #expect(try await outcomes(seed: 7) == first)
        #expect(Set(first).isSubset(of: [.success, .failed, .warning]))
        #expect(Set(first).count > 1)
    }

    @Test("cancelling a running run from the admin side lets the queued run start at once")
    func cancelledRunUnblocksTheQueue() async throws {
        try await withHightouch(knobs: { $0.runDuration = .seconds(60) }) { simulator, client in
            let sync = try await createSeedPipeline(client)
            let first = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            let second = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            try simulator.cancelRun(id: try #require(first.intValue))
            #expect(try await client.run(syncID: sync.id, runID: first)?.status == .cancelled)
            #expect(try await client.run(syncID: sync.id, runID: second)?.status == .querying)
            #expect(throws: HightouchSimulatorError.runNotActive(try #require(first.intValue))) {
                try simulator.cancelRun(id: try #require(first.intValue))
            }
        }
    }
}
