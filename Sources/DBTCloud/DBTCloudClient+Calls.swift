import Foundation
import NIOCore
import NIOHTTP1
import VendorHTTP

// MARK: - Jobs

extension DBTCloudClient {
    /// `GET /accounts/{account}/jobs/{job}/`: the job, or `.notFound`.
    public func job(account: Int, id: Int) async throws -> DBTCloudJob {
        let route = "/accounts/{accountId}/jobs/{jobId}/"
        try self.require(account, "account id", method: .GET, route: route)
        try self.require(id, "job id", method: .GET, route: route)
        return try await self.call(DBTCloudJob.self, method: .GET, route: route, path: Self.path(account: account, "jobs", String(id))).data
    }

    /// `POST /accounts/{account}/jobs/{job}/run/`: triggers a run and returns it (queued).
    ///
    /// Not retried after a 5xx or a timeout (the run may exist): the error then says
    /// `outcomeUnknown`, and the caller looks for the run by its cause (``runs(account:_:maxRuns:)``)
    /// before triggering again.
    ///
    /// - Throws: `.invalidArgument` (nothing sent) for a cause longer than 255 characters or empty
    ///   steps; `.notFound` for an unknown job; `.validation` for what dbt Cloud refuses.
    public func triggerRun(account: Int, jobID: Int, _ request: DBTCloudTriggerRequest) async throws -> DBTCloudRun {
        let route = "/accounts/{accountId}/jobs/{jobId}/run/"
        try self.require(account, "account id", method: .POST, route: route)
        try self.require(jobID, "job id", method: .POST, route: route)
        guard request.causeLength <= DBTCloudTriggerRequest.maxCauseLength else {
            throw self.error(
                .invalidArgument, method: .POST, route: route, path: [],
                message: "cause has \(request.causeLength) characters; dbt Cloud takes at most \(DBTCloudTriggerRequest.maxCauseLength)"
            )
        }
        if let steps = request.stepsOverride, steps.isEmpty {
            throw self.error(.invalidArgument, method: .POST, route: route, path: [], message: "stepsOverride must list at least one dbt command, or be nil")
        }
        return try await self.call(
            DBTCloudRun.self, method: .POST, route: route, path: Self.path(account: account, "jobs", String(jobID), "run"), body: request
        ).data
    }

    /// `POST /accounts/{account}/jobs/{job}/rerun/`: retries the job's last run from its point of
    /// failure if it ended in error; otherwise dbt Cloud triggers a new run of the job. No body:
    /// the rerun carries no cause of the caller's.
    public func rerun(account: Int, jobID: Int) async throws -> DBTCloudRun {
        let route = "/accounts/{accountId}/jobs/{jobId}/rerun/"
        try self.require(account, "account id", method: .POST, route: route)
        try self.require(jobID, "job id", method: .POST, route: route)
        return try await self.call(DBTCloudRun.self, method: .POST, route: route, path: Self.path(account: account, "jobs", String(jobID), "rerun")).data
    }
}

// MARK: - Runs

extension DBTCloudClient {
    /// `GET /accounts/{account}/runs/{id}/?include_related=["run_steps"]`: the run, or `.notFound`.
    public func run(account: Int, id: Int, including related: [DBTCloudRelated] = [.runSteps]) async throws -> DBTCloudRun {
        let route = "/accounts/{accountId}/runs/{runId}/"
        try self.require(account, "account id", method: .GET, route: route)
        try self.require(id, "run id", method: .GET, route: route)
        let query = related.isEmpty ? [] : [VendorRequest.QueryItem("include_related", DBTCloudRelated.queryValue(related))]
        return try await self.call(DBTCloudRun.self, method: .GET, route: route, path: Self.path(account: account, "runs", String(id)), query: query).data
    }

    /// One page of `GET /accounts/{account}/runs/` (`limit` 1...100).
    public func listRunsPage(account: Int, _ filter: DBTCloudRunFilter = .init(), limit: Int = 100, offset: Int = 0) async throws -> DBTCloudPage<DBTCloudRun> {
        let route = "/accounts/{accountId}/runs/"
        try self.require(account, "account id", method: .GET, route: route)
        return try await self.page(
            DBTCloudRun.self, route: route, path: Self.path(account: account, "runs"), query: filter.queryItems,
            limit: min(max(1, limit), 100), offset: max(0, offset)
        )
    }

    /// `GET /accounts/{account}/runs/`, page after page, at most `maxRuns` runs (all by default).
    /// With `order_by=-id` (the filter's default) the newest come first, so a small `maxRuns` reads
    /// only the recent ones.
    public func runs(account: Int, _ filter: DBTCloudRunFilter = .init(), maxRuns: Int? = nil) async throws -> [DBTCloudRun] {
        let route = "/accounts/{accountId}/runs/"
        try self.require(account, "account id", method: .GET, route: route)
        let pages = maxRuns.map { max(1, ($0 + self.configuration.pageSize - 1) / self.configuration.pageSize) }
        let all = try await self.collectPages(
            DBTCloudRun.self, route: route, path: Self.path(account: account, "runs"), query: filter.queryItems, maxPages: pages
        )
        return maxRuns.map { Array(all.prefix($0)) } ?? all
    }

    /// `POST /accounts/{account}/runs/{id}/cancel/`: cancels a queued or running run and returns it
    /// (status 30); a run that has ended comes back as it is.
    public func cancelRun(account: Int, id: Int) async throws -> DBTCloudRun {
        let route = "/accounts/{accountId}/runs/{runId}/cancel/"
        try self.require(account, "account id", method: .POST, route: route)
        try self.require(id, "run id", method: .POST, route: route)
        // Cancelling twice is harmless: retried like an idempotent call.
        return try await self.call(
            DBTCloudRun.self, method: .POST, route: route, path: Self.path(account: account, "runs", String(id), "cancel"), isIdempotent: true
        ).data
    }

    /// `GET /accounts/{account}/runs/{id}/artifacts/{path}` (`run_results.json`, `manifest.json`):
    /// the file as dbt wrote it (not enveloped). `.notFound` until the run has saved artifacts.
    public func artifact(account: Int, runID: Int, path: String, step: Int? = nil) async throws -> VendorJSON {
        let route = "/accounts/{accountId}/runs/{runId}/artifacts/{path}"
        try self.require(account, "account id", method: .GET, route: route)
        try self.require(runID, "run id", method: .GET, route: route)
        let segments = path.split(separator: "/").map(String.init)
        guard !segments.isEmpty, !segments.contains("..") else {
            throw self.error(.invalidArgument, method: .GET, route: route, path: [], message: "artifact path \"\(path)\" is not a file path such as run_results.json")
        }
        let query = step.map { [VendorRequest.QueryItem("step", String($0))] } ?? []
        // Artifact paths end with the file name, not a slash.
        let response = try await self.send(
            method: .GET, route: route, path: ["accounts", String(account), "runs", String(runID), "artifacts"] + segments, query: query
        )
        do {
            return try JSONDecoder().decode(VendorJSON.self, from: Data(response.body.readableBytesView))
        } catch {
            throw self.error(.decoding, method: .GET, route: route, path: segments, status: response.status, underlying: "the artifact is not JSON: \(error)")
        }
    }

    /// Polls the run every `pollInterval` until it ends, and returns it. Throws `.timeout` if it
    /// has not ended after `timeout` (the run goes on: cancel it with ``cancelRun(account:id:)``).
    public func waitForRun(account: Int, id: Int, pollInterval: Duration = .seconds(10), timeout: Duration = .seconds(3600)) async throws -> DBTCloudRun {
        let deadline = ContinuousClock.now + timeout
        while true {
            let run = try await self.run(account: account, id: id)
            if run.status.isTerminal { return run }
            guard ContinuousClock.now + pollInterval < deadline else {
                throw self.error(
                    .timeout, method: .GET, route: "/accounts/{accountId}/runs/{runId}/", path: Self.path(account: account, "runs", String(id)),
                    message: "run \(id) still \(run.status.humanized) after \(timeout)"
                )
            }
            try await Task.sleep(for: pollInterval)
        }
    }
}
