import Foundation
import NIOHTTP1
import VendorHTTP

// MARK: - Sync runs

extension CensusClient {
    /// `GET /sync_runs/{id}`. Throws ``VendorError`` `.notFound` if there is no such run.
    public func syncRun(id: CensusID) async throws -> CensusSyncRun {
        try self.require(id, "sync run id", method: .GET, route: "/sync_runs/{sync_run_id}")
        return try await self.call(CensusSyncRun.self, route: "/sync_runs/{sync_run_id}", path: ["sync_runs", id.rawValue])
    }

    /// One page of `GET /syncs/{id}/sync_runs` (`page` starts at 1; `perPage` at most 100; Census
    /// orders by creation time, newest first unless `order` says `asc`).
    public func listSyncRunsPage(syncID: CensusID, page: Int = 1, perPage: Int = 25, order: CensusOrder? = nil) async throws -> CensusPage<CensusSyncRun> {
        try self.require(syncID, "sync id", method: .GET, route: "/syncs/{sync_id}/sync_runs")
        return try await self.page(
            CensusSyncRun.self, route: "/syncs/{sync_id}/sync_runs", path: ["syncs", syncID.rawValue, "sync_runs"],
            page: page, perPage: Self.clamp(perPage), order: order
        )
    }

    /// `GET /syncs/{id}/sync_runs`, every page.
    public func listSyncRuns(syncID: CensusID, order: CensusOrder = .descending) async throws -> [CensusSyncRun] {
        try self.require(syncID, "sync id", method: .GET, route: "/syncs/{sync_id}/sync_runs")
        return try await self.collectPages(
            CensusSyncRun.self, route: "/syncs/{sync_id}/sync_runs", path: ["syncs", syncID.rawValue, "sync_runs"], order: order
        )
    }

    /// The runs of sync `syncID` created at or after `instant`, oldest first.
    ///
    /// The look-up behind "trigger once": record an instant before triggering; after a crash or
    /// an ambiguous error, a run in this answer may be the trigger's. Census has no filter by time,
    /// so the runs are listed newest first (`order=desc`) and the pages stop once one reaches back
    /// before `instant`.
    public func runs(syncID: CensusID, createdAtOrAfter instant: Date) async throws -> [CensusSyncRun] {
        try self.require(syncID, "sync id", method: .GET, route: "/syncs/{sync_id}/sync_runs")
        let all = try await self.collectPages(
            CensusSyncRun.self, route: "/syncs/{sync_id}/sync_runs", path: ["syncs", syncID.rawValue, "sync_runs"], order: .descending
        ) { page in
            // Newest first: once a page holds a run older than `instant`, later pages are older still.
            page.contains { ($0.createdAt ?? .distantFuture) < instant }
        }
        return all.filter { ($0.createdAt ?? .distantFuture) >= instant }
            .sorted { ($0.createdAt ?? .distantFuture, $0.id) < ($1.createdAt ?? .distantFuture, $1.id) }
    }

    /// Polls the run every `pollInterval` until it ends (`completed`, `failed`, `skipped`) and
    /// returns it. Throws `.timeout` if it has not ended after `timeout`.
    public func waitForRun(id: CensusID, pollInterval: Duration = .seconds(3), timeout: Duration = .seconds(3600)) async throws -> CensusSyncRun {
        let deadline = ContinuousClock.now + timeout
        while true {
            let run = try await self.syncRun(id: id)
            if run.status.isTerminal { return run }
            guard ContinuousClock.now + pollInterval < deadline else {
                throw self.error(
                    .timeout, method: .GET, route: "/sync_runs/{sync_run_id}", path: ["sync_runs", id.rawValue],
                    message: "sync run \(id) still \(run.status) after \(timeout)"
                )
            }
            try await Task.sleep(for: pollInterval)
        }
    }
}
