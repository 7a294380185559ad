import Foundation
import NIOHTTP1
import VendorHTTP

// MARK: - Sync runs

extension HightouchClient {
    /// `GET /syncs/{syncId}/runs`, every page.
    public func listSyncRuns(syncID: HightouchID, _ filter: HightouchSyncRunFilter = .init()) async throws -> [HightouchSyncRun] {
        try self.require(syncID.rawValue, "sync id", method: .GET, route: "/syncs/{syncId}/runs")
        return try await self.collectPages(
            HightouchSyncRun.self,
            route: "/syncs/{syncId}/runs",
            path: ["syncs", syncID.rawValue, "runs"],
            query: filter.queryItems
        )
    }

    /// One page of `GET /syncs/{syncId}/runs`.
    public func listSyncRunsPage(
        syncID: HightouchID,
        _ filter: HightouchSyncRunFilter = .init(),
        limit: Int = 100,
        offset: Int = 0
    ) async throws -> HightouchPage<HightouchSyncRun> {
        try self.require(syncID.rawValue, "sync id", method: .GET, route: "/syncs/{syncId}/runs")
        return try await self.page(
            HightouchSyncRun.self,
            route: "/syncs/{syncId}/runs",
            path: ["syncs", syncID.rawValue, "runs"],
            query: filter.queryItems,
            limit: limit,
            offset: offset
        )
    }

    /// The run `runID` of sync `syncID` (`GET /syncs/{syncId}/runs?runId=`), or `nil` if the
    /// sync has no such run. Throws `.notFound` if the sync itself does not exist.
    public func run(syncID: HightouchID, runID: HightouchID) async throws -> HightouchSyncRun? {
        try self.require(runID.rawValue, "run id", method: .GET, route: "/syncs/{syncId}/runs")
        let page = try await self.listSyncRunsPage(syncID: syncID, HightouchSyncRunFilter(runID: runID), limit: 100, offset: 0)
        return page.data.first { $0.id == runID }
    }

    /// The runs of sync `syncID` created at or after `instant`, oldest first, including runs still
    /// queued behind another run.
    ///
    /// This is the look-up behind "trigger once": record an instant before triggering; after a
    /// crash or an ambiguous error, a non-empty answer means the trigger took effect. The API's
    /// `after` filter cannot be used for this: it selects runs by when they *started*, and a
    /// queued run has not started. So the runs are listed ordered by `createdAt` and filtered here;
    /// pages stop early when the answer is newest-first and has passed `instant`.
    public func runs(syncID: HightouchID, createdAtOrAfter instant: Date) async throws -> [HightouchSyncRun] {
        try self.require(syncID.rawValue, "sync id", method: .GET, route: "/syncs/{syncId}/runs")
        let all = try await self.collectPages(
            HightouchSyncRun.self,
            route: "/syncs/{syncId}/runs",
            path: ["syncs", syncID.rawValue, "runs"],
            query: HightouchSyncRunFilter(orderBy: .createdAt).queryItems
        ) { page in
            // Newest-first pages: once a page ends before `instant`, older pages cannot match.
            guard let first = page.first?.createdAt, let last = page.last?.createdAt else { return false }
            return first > last && last < instant
        }
        return all.filter { ($0.createdAt ?? .distantFuture) >= instant }
            .sorted { ($0.createdAt ?? .distantFuture, $0.id) < ($1.createdAt ?? .distantFuture, $1.id) }
    }

    /// Polls the run every `pollInterval` until it ends, and returns it. Throws `.notFound` if the
    /// run disappears, `.timeout` if it has not ended after `timeout`.
    public func waitForRun(
        syncID: HightouchID,
        runID: HightouchID,
        pollInterval: Duration = .seconds(3),
        timeout: Duration = .seconds(3600)
    ) async throws -> HightouchSyncRun {
        let deadline = ContinuousClock.now + timeout
        while true {
            guard let run = try await self.run(syncID: syncID, runID: runID) else {
                throw self.error(
                    .notFound,
                    method: .GET,
                    route: "/syncs/{syncId}/runs",
                    path: ["syncs", syncID.rawValue, "runs"],
                    message: "run \(runID) of sync \(syncID) not found"
                )
            }
            if run.status.isTerminal { return run }
            guard ContinuousClock.now + pollInterval < deadline else {
                throw self.error(
                    .timeout,
                    method: .GET,
                    route: "/syncs/{syncId}/runs",
                    path: ["syncs", syncID.rawValue, "runs"],
                    message: "run \(runID) of sync \(syncID) still \(run.status) after \(timeout)"
                )
            }
            try await Task.sleep(for: pollInterval)
        }
    }
}
