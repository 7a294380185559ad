import Census
import CensusSimulator
import Foundation
import Testing
import VendorHTTP

/// Every endpoint the client calls, against the simulator over HTTP.
@Suite("Census client: endpoints", .timeLimit(.minutes(1)))
struct CensusClientTests {
    @Test("GET /syncs/{id}: label, operation and both connections, as Census documents the sync")
    func getSync() async throws {
        try await withCensus { _, client in
            let sync = try await client.sync(id: 61)
            #expect(sync.id == 61)
            #expect(sync.label == "Users to Braze")
            #expect(sync.operation == "upsert")
            #expect(sync.sourceConnectionID == 4)
            #expect(sync.destinationConnectionID == 15)
            #expect(sync.status == "Ready" && sync.paused == false)
            #expect(sync.sourceAttributes?.object?["type"]?.stringValue == "model")
            #expect(sync.destinationAttributes?.object?.stringValue == "user")
            #expect(sync.createdAt != nil)
            let other = try await client.sync(id: "62")
            #expect(other.label == nil && other.operation == "mirror" && other.sourceConnectionID == 10 && other.destinationConnectionID == 12)
        }
    }

    @Test("GET /syncs (the connection test, page=1&per_page=1), every page, and the pagination object")
    func listSyncs() async throws {
        try await withCensus(simulator: { $0.syncs = (1...7).map { CensusSimulator.SeedSync(id: 100 + $0, label: "sync-\($0)") } }) { simulator, client in
            try await client.checkConnection()
            #expect(simulator.counters().requests("GET /syncs", status: 200) == 1)
            let first = try await client.listSyncsPage(page: 1, perPage: 3, order: .ascending)
            #expect(first.data.map(\.id) == [101, 102, 103])
            let pagination = try #require(first.pagination)
            #expect(pagination.totalRecords == 7 && pagination.perPage == 3 && pagination.page == 1)
            #expect(pagination.previousPage == nil && pagination.nextPage == 2 && pagination.lastPage == 3)
            #expect(first.next?.contains("page=2") == true)
            let last = try await client.listSyncsPage(page: 3, perPage: 3, order: .ascending)
            #expect(last.data.map(\.id) == [107] && last.pagination?.nextPage == nil && last.pagination?.previousPage == 2 && last.next == nil)
            let descending = try await client.listSyncsPage(page: 1, perPage: 2)
            #expect(descending.data.map(\.id) == [107, 106], "Census orders newest first by default")
        }
        try await withCensus(
            simulator: { $0.syncs = (1...7).map { CensusSimulator.SeedSync(id: 100 + $0) } },
            client: { $0.pageSize = 2 }
        ) { simulator, client in
            let all = try await client.listSyncs(order: .ascending)
            #expect(all.map(\.id) == (101...107).map { CensusID($0) })
            #expect(simulator.counters().requests("GET /syncs") == 4, "four pages of two")
        }
    }

    @Test("GET /sources/{id}, /destinations/{id} and their lists")
    func connections() async throws {
        try await withCensus { _, client in
            let source = try await client.source(id: 4)
            #expect(source.id == 4 && source.type == "snowflake" && source.name?.isEmpty == false && source.lastTestSucceeded == true)
            let destination = try await client.destination(id: 15)
            #expect(destination.id == 15 && destination.name == "Braze")
            #expect(destination.objects?.arrayValue?.first?["full_name"]?.stringValue == "user")
            #expect(Set(try await client.listSources().map(\.id)) == [4, 10])
            #expect(Set(try await client.listDestinations().map(\.id)) == [12, 15])
            _ = try await expectVendorError(.notFound) { _ = try await client.source(id: 15_000) }
            _ = try await expectVendorError(.notFound) { _ = try await client.destination(id: 4_000) }
        }
    }

    @Test("trigger: the run id from data.sync_run_id; force_full_sync sent explicitly in the query, or not at all")
    func trigger() async throws {
        try await withCensus { simulator, client in
            let plain = try await client.triggerSync(id: 61)
            let full = try await client.triggerSync(id: 61, forceFullSync: true)
            let incremental = try await client.triggerSync(id: 62, forceFullSync: false)
            #expect(plain != full && full != incremental && plain.isWellFormed)
            let log = simulator.triggerLog()
            #expect(log.map(\.runID) == [plain, full, incremental].compactMap(\.intValue))
            #expect(log.map(\.forceFullSync) == [nil, true, false])
            #expect(log.map(\.via) == ["none", "query", "query"])
            #expect(try await client.syncRun(id: full).fullSync == true)
            #expect(try await client.syncRun(id: incremental).fullSync == false)
            #expect(simulator.counters().triggersBySyncID == [61: 2, 62: 1])
            _ = try await expectVendorError(.notFound) { _ = try await client.triggerSync(id: 999) }
            #expect(simulator.counters().totalTriggers == 3)
        }
    }

    @Test("GET /sync_runs/{id}: queued, then working with counts growing, then completed with completed_at")
    func syncRunLifecycle() async throws {
        // The clock is frozen: only the test moves it, a second per look, so the looks land in
        // each state however long the requests take.
        try await withCensus(knobs: { $0.runDuration = .seconds(10); $0.queueDelay = .seconds(2) }) { simulator, client in
            simulator.freezeClock()
            let id = try await client.triggerSync(id: 61, forceFullSync: false)
            var seen: [CensusSyncRunStatus] = []
            var updated: [Int] = []
            for _ in 0..<30 {
                let run = try await client.syncRun(id: id)
                if seen.last != run.status { seen.append(run.status) }
                if let count = run.recordsUpdated { updated.append(count) }
                #expect(run.syncID == 61)
                if run.status.isTerminal { break }
                simulator.advanceClock(by: .seconds(1))
            }
            #expect(seen == [.queued, .working, .completed])
            #expect(updated == updated.sorted(), "records_updated never goes down")
            let done = try await client.syncRun(id: id)
            #expect(done.completedAt != nil && done.finishedAt == done.completedAt && done.currentStep == nil)
            #expect(done.recordsProcessed == done.recordsUpdated && (done.recordsProcessed ?? 0) > 0)
            #expect(done.recordsFailed == 0 && done.recordsInvalid == 0 && done.errorMessage == nil)
            #expect(done.triggerReason?.tag == "API" && done.canceled == false)
            let waited = try await client.waitForRun(id: id, pollInterval: .milliseconds(10), timeout: .seconds(1))
            #expect(waited.status == .completed)
        }
    }

    @Test("a failed run carries error_code, error_message and error_detail, and no completed_at")
    func failedRun() async throws {
        try await withCensus { simulator, client in
            simulator.forceOutcome(.failed, nextRuns: 1, error: "Braze said no: invalid external_id")
            let id = try await client.triggerSync(id: 61)
            finishRuns(simulator)
            let run = try await client.waitForRun(id: id, pollInterval: .milliseconds(20), timeout: .seconds(30))
            #expect(run.status == .failed)
            #expect(run.errorMessage == "Braze said no: invalid external_id")
            #expect(run.errorCode == "DESTINATION_ERROR" && run.errorDetail?.contains("invalid external_id") == true)
            #expect(run.completedAt == nil && run.finishedAt != nil, "finishedAt falls back on updated_at")
        }
    }

    @Test("the runs of a sync: every page, newest first, and the runs created since an instant, oldest first")
    func listRuns() async throws {
        try await withCensus(client: { $0.pageSize = 3 }) { simulator, client in
            let old = try simulator.addPastRun(syncID: 61, ago: .seconds(600))
            var triggered: [CensusID] = []
            for _ in 0..<7 { triggered.append(try await client.triggerSync(id: 61)) }
            let all = try await client.listSyncRuns(syncID: 61)
            #expect(all.map(\.id) == (triggered.reversed() + [CensusID(old)]))
            let page = try await client.listSyncRunsPage(syncID: 61, page: 2, perPage: 3, order: .ascending)
            #expect(page.data.map(\.id) == Array(triggered[2..<5]))
            #expect(page.pagination?.totalRecords == 8 && page.pagination?.lastPage == 3)

            let since = try await client.runs(syncID: 61, createdAtOrAfter: Date().addingTimeInterval(-60))
            #expect(since.map(\.id) == triggered, "the past run is older than the instant")
            let requests = simulator.counters().requests("GET /syncs/{sync_id}/sync_runs")
            #expect(requests == 3 + 1 + 3, "the look-up stops at the first page reaching back before the instant: \(requests)")
            _ = try await expectVendorError(.notFound) { _ = try await client.listSyncRuns(syncID: 404) }
        }
    }

    @Test("ids that Census cannot have issued are refused before anything is sent")
    func invalidIDs() async throws {
        try await withCensus { simulator, client in
            for id: CensusID in ["", "abc", "0", "-4", "1/2"] {
                let error = try await expectVendorError(.invalidArgument) { _ = try await client.sync(id: id) }
                #expect(error.description.contains("positive whole number"))
            }
            _ = try await expectVendorError(.invalidArgument) { _ = try await client.triggerSync(id: "61x") }
            #expect(simulator.counters().totalRequests == 0)
        }
    }
}
