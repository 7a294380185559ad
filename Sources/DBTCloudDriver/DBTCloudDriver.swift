import DBTCloud
import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import VendorHTTP

/// The `dbtcloud` resource type: run a dbt Cloud job, follow the run, cancel it on request or
/// past its timeout.
///
/// The operator does not own dbt Cloud jobs: `ensure` only checks that the spec's job exists (a
/// missing one is refused for good, never retried), and `retire` leaves it alone. dbt Cloud takes
/// no idempotency key, so each trigger writes the command's marker into the run's `cause`
/// (``DBTCloudMarker``) and the resume check looks for it among the job's recent runs. A rerun
/// from failure carries no cause of ours; its resume check is "a run newer than the failed one it
/// reruns, created since the intent, carrying no other command's marker" (the baseline records
/// that failed run).
public struct DBTCloudDriver: ResourceDriver {
    public let client: DBTCloudClient
    /// DBT_CLOUD_ACCOUNT_ID: the account of specs that name none.
    public let defaultAccountID: Int?

    public init(client: DBTCloudClient, defaultAccountID: Int? = nil) {
        self.client = client
        self.defaultAccountID = defaultAccountID
    }

    public var descriptor: DriverDescriptor { Self.descriptor }
    public var summary: String {
        client.description + (defaultAccountID.map { ", default account \($0)" } ?? "")
    }

    // MARK: - Associated values

    /// The job a resource runs, as dbt Cloud described it when the resource was applied.
    public struct Objects: DriverValue, Hashable, Codable {
        public var accountID: Int
        public var jobID: Int
        public var jobName: String
        public var projectID: Int?
        public var projectName: String?
        public var environmentID: Int?
        public var environmentName: String?
        public var executeSteps: [String]

        public init(
            accountID: Int, jobID: Int, jobName: String, projectID: Int? = nil, projectName: String? = nil, environmentID: Int? = nil,
            environmentName: String? = nil, executeSteps: [String] = []
        ) {
            self.accountID = accountID
            self.jobID = jobID
            self.jobName = jobName
            self.projectID = projectID
            self.projectName = projectName
            self.environmentID = environmentID
            self.environmentName = environmentName
            self.executeSteps = executeSteps
        }
    }

    /// A run: its account and id (and its job, for people).
    public struct RunReference: DriverValue, Hashable, Codable {
        public var accountID: Int
        public var jobID: Int
        public var runID: Int

        public init(accountID: Int, jobID: Int, runID: Int) {
            self.accountID = accountID
            self.jobID = jobID
            self.runID = runID
        }
    }

    /// For `retryFromFailure`: the job's latest run just before the trigger (a rerun reruns it).
    public struct Baseline: DriverValue, Hashable, Codable {
        public var latestRunID: Int?
        public var latestStatus: Int?

        public init(latestRunID: Int? = nil, latestStatus: Int? = nil) {
            self.latestRunID = latestRunID
            self.latestStatus = latestStatus
        }
    }

    /// The spec, checked.
    public struct Spec: Sendable, Hashable {
        public var accountID: Int
        public var jobID: Int
        /// The human part of the cause; the marker is added at trigger time.
        public var cause: String?
        public var gitBranch: String?
        public var stepsOverride: [String]?
        public var threadsOverride: Int?
        public var retryFromFailure: Bool
        public var timeout: Duration?

        public init(
            accountID: Int, jobID: Int, cause: String? = nil, gitBranch: String? = nil, stepsOverride: [String]? = nil, threadsOverride: Int? = nil,
            retryFromFailure: Bool = false, timeout: Duration? = nil
        ) {
            self.accountID = accountID
            self.jobID = jobID
            self.cause = cause
            self.gitBranch = gitBranch
            self.stepsOverride = stepsOverride
            self.threadsOverride = threadsOverride
            self.retryFromFailure = retryFromFailure
            self.timeout = timeout
        }
    }

    public func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec {
        try DBTCloudSpec.decode(spec, defaultAccountID: defaultAccountID)
    }

    // MARK: - Ensure

    /// Checks the job exists (and is not deleted) and records what dbt Cloud says of it.
    public func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects {
        let job: DBTCloudJob
        do {
            job = try await client.job(account: spec.accountID, id: spec.jobID)
        } catch let error as VendorError where error.code == .notFound {
            throw Self.missingJob(spec)
        } catch {
            throw Self.classify(error, doing: "read job \(spec.jobID) of account \(spec.accountID)")
        }
        guard !job.isDeleted else { throw Self.missingJob(spec, deleted: true) }
        return Objects(
            accountID: spec.accountID, jobID: job.id, jobName: job.name, projectID: job.projectID ?? job.project?.id, projectName: job.project?.name,
            environmentID: job.environmentID ?? job.environment?.id, environmentName: job.environment?.name, executeSteps: job.executeSteps
        )
    }

    private static func missingJob(_ spec: Spec, deleted: Bool = false) -> VendorFailure {
        VendorFailure(
            kind: .rejected, reason: "vendorNotFound",
            message: "dbt Cloud job \(spec.jobID) \(deleted ? "was deleted" : "does not exist") in account \(spec.accountID); "
                + "the operator runs jobs but does not create them: create it in dbt Cloud or fix spec.jobId"
        )
    }

    // MARK: - Runs

    public func baseline(_ spec: Spec, objects: Objects) async throws(VendorFailure) -> Baseline {
        // Only a rerun needs to know what came before; a run with our marker is found by it.
        guard spec.retryFromFailure else { return Baseline() }
        do {
            let latest = try await latestRun(spec)
            return Baseline(latestRunID: latest?.id, latestStatus: latest?.status.rawValue)
        } catch {
            throw Self.classify(error, doing: "read the latest run of job \(spec.jobID)")
        }
    }

    /// Triggers a run with the command's marker in its cause; with `retryFromFailure` and a last
    /// run in error, reruns the job from its failed step instead (as Airflow's provider decides).
    public func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference> {
        do {
            let run: DBTCloudRun
            if spec.retryFromFailure, let latest = try await latestRun(spec), latest.status == .error {
                run = try await client.rerun(account: spec.accountID, jobID: spec.jobID)
            } else {
                run = try await client.triggerRun(account: spec.accountID, jobID: spec.jobID, Self.request(spec, commandID: context.commandID))
            }
            return TriggeredRun(reference: RunReference(accountID: spec.accountID, jobID: spec.jobID, runID: run.id), observation: Self.observation(run))
        } catch {
            throw Self.classify(error, doing: "trigger job \(spec.jobID)")
        }
    }

    /// The trigger's body: the spec's overrides and the cause with the marker.
    public static func request(_ spec: Spec, commandID: String) -> DBTCloudTriggerRequest {
        DBTCloudTriggerRequest(
            cause: DBTCloudMarker.cause(spec.cause, commandID: commandID), gitBranch: spec.gitBranch, stepsOverride: spec.stepsOverride,
            threadsOverride: spec.threadsOverride
        )
    }

    /// How many of the job's newest runs the resume check reads at most (two pages).
    static let resumeWindow = 200

    /// The resume check: among the job's recent runs (newest first, at most two pages, stopping
    /// at runs created before `since`), the one whose cause carries this command's marker. For a
    /// rerun from failure (the baseline's latest run was in error): runs newer than that one,
    /// created since the intent, without another command's marker.
    public func runs(since point: ResumePoint<Baseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>] {
        do {
            var recent: [DBTCloudRun] = []
            let filter = DBTCloudRunFilter(jobDefinitionID: spec.jobID, orderBy: "-id", includeRelated: [.trigger])
            let pageSize = 100
            for pageIndex in 0..<(Self.resumeWindow / pageSize) {
                let page = try await client.listRunsPage(account: spec.accountID, filter, limit: pageSize, offset: pageIndex * pageSize)
                recent += page.data
                // Newest first: once a page reaches runs created before `since`, older pages cannot match.
                let reachedOlder = page.data.contains { ($0.createdAt ?? .distantFuture) < point.since }
                guard page.hasMore, !reachedOlder else { break }
            }
            var found = recent.filter { DBTCloudMarker.carries($0.trigger?.cause, commandID: point.commandID) }
            if found.isEmpty, spec.retryFromFailure, let baseline = point.baseline, baseline.latestStatus == DBTCloudRunStatus.error.rawValue {
                let after = baseline.latestRunID ?? 0
                found = recent.filter { run in
                    run.id > after && (run.createdAt ?? .distantPast) >= point.since && !DBTCloudMarker.carriesAnyMarker(run.trigger?.cause)
                }
            }
            return found.sorted { $0.id < $1.id }.map { run in
                TriggeredRun(reference: RunReference(accountID: spec.accountID, jobID: spec.jobID, runID: run.id), observation: Self.observation(run))
            }
        } catch {
            throw Self.classify(error, doing: "list the recent runs of job \(spec.jobID)")
        }
    }

    public func observe(_ run: RunReference, objects: Objects) async throws(VendorFailure) -> RunObservation? {
        do {
            let found = try await client.run(account: run.accountID, id: run.runID, including: [.runSteps])
            var observation = Self.observation(found)
            if observation.phase.isFinished, found.artifactsSaved == true, let built = await builtLineage(run) {
                // The models the run built and what they read, for its lineage (DBTCloudDriver+Lineage).
                var details = observation.details?.objectValue ?? [:]
                details[Self.modelsKey] = .array(built.models.map { .string($0) })
                if !built.inputs.isEmpty { details[Self.inputsKey] = .array(built.inputs.map { .string($0) }) }
                observation.details = .object(details)
            }
            return observation
        } catch let error as VendorError where error.code == .notFound {
            return nil
        } catch {
            throw Self.classify(error, doing: "look at run \(run.runID)")
        }
    }

    public func runTimeout(_ spec: Spec) -> Duration? { spec.timeout }

    public var canCancel: Bool { true }

    public func cancel(_ run: RunReference, objects: Objects) async throws(VendorFailure) {
        do {
            _ = try await client.cancelRun(account: run.accountID, id: run.runID)
        } catch let error as VendorError where error.code == .notFound {
            throw VendorFailure(kind: .rejected, reason: "vendorNotFound", message: "dbt Cloud run \(run.runID) does not exist (any more) in account \(run.accountID)")
        } catch {
            throw Self.classify(error, doing: "cancel run \(run.runID)")
        }
    }

    /// The operator does not own dbt Cloud jobs: deleting the resource leaves the job as it is.
    public func retire(_ objects: Objects, spec: Spec?) async throws(VendorFailure) {}

    private func latestRun(_ spec: Spec) async throws -> DBTCloudRun? {
        try await client.listRunsPage(account: spec.accountID, DBTCloudRunFilter(jobDefinitionID: spec.jobID, orderBy: "-id"), limit: 1).data.first
    }

    // MARK: - Observations

    /// dbt Cloud's status codes as phases: 1 and 2 queued, 3 running, 10 succeeded, 20 failed,
    /// 30 cancelled. An unknown code is read from the run's flags, else kept followed.
    static func phase(_ run: DBTCloudRun) -> RunPhase {
        switch run.status {
        case .queued, .starting: return .queued
        case .running: return .running
        case .success: return .succeeded
        case .error: return .failed
        case .cancelled: return .cancelled
        default:
            if run.isComplete {
                return run.isSuccess ? .succeeded : run.isCancelled ? .cancelled : .failed
            }
            return .running
        }
    }

    static func observation(_ run: DBTCloudRun) -> RunObservation {
        let steps = run.runSteps ?? []
        let done = steps.filter { $0.status.isTerminal }.count
        var progress: Double?
        if !steps.isEmpty { progress = Double(done) / Double(steps.count) }
        if run.status == .success { progress = 1 }
        return RunObservation(
            phase: phase(run), vendorStatus: run.statusHumanized.lowercased(), vendorRunID: String(run.id),
            createdAt: run.createdAt, startedAt: run.startedAt, finishedAt: run.finishedAt,
            progress: progress, summary: summary(run),
            error: run.isError || run.isCancelled || run.status == .error || run.status == .cancelled ? run.statusMessage : nil,
            details: details(run)
        )
    }

    /// `step 3/5 dbt run` for the step running (or the one that failed or was cancelled, or the
    /// last one of a finished run); nil before the first step starts.
    static func summary(_ run: DBTCloudRun) -> String? {
        let steps = (run.runSteps ?? []).sorted { $0.index < $1.index }
        guard !steps.isEmpty else { return nil }
        func line(_ step: DBTCloudRunStep, _ suffix: String = "") -> String {
            "step \(step.index)/\(steps.count) \(step.shortName)\(suffix)"
        }
        if let running = steps.first(where: { $0.status == .running }) { return line(running) }
        if let failed = steps.first(where: { $0.status == .error }) { return line(failed, " failed") }
        if let cancelled = steps.first(where: { $0.status == .cancelled }) { return line(cancelled, " cancelled") }
        if let last = steps.last(where: { $0.status == .success }) { return line(last) }
        return nil
    }

    /// `status`, `statusHumanized`, `href`, `jobId`, `gitBranch` and each step's index, name and
    /// status: what `get -d` shows of a run.
    static func details(_ run: DBTCloudRun) -> JSONValue {
        var object: JSONObject = [
            "status": .number(JSONNumber(run.status.rawValue)),
            "statusHumanized": .string(run.statusHumanized),
        ]
        if let href = run.href { object["href"] = .string(href) }
        if let job = run.jobDefinitionID { object["jobId"] = .number(JSONNumber(job)) }
        if let branch = run.gitBranch { object["gitBranch"] = .string(branch) }
        if let steps = run.runSteps {
            object["steps"] = .array(
                steps.map { step in
                    .object([
                        "index": .number(JSONNumber(step.index)), "name": .string(step.name),
                        "status": .number(JSONNumber(step.status.rawValue)), "statusHumanized": .string(step.statusHumanized),
                    ])
                }
            )
        }
        return .object(object)
    }

    // MARK: - Detail

    public func objectRows(_ objects: Objects) -> [DetailRow] {
        func named(_ id: Int?, _ name: String?) -> String {
            switch (id, name) {
            case (let id?, let name?): return "\(id) (\(name))"
            case (let id?, nil): return String(id)
            case (nil, let name?): return name
            case (nil, nil): return "-"
            }
        }
        var rows = [
            DetailRow("Job", named(objects.jobID, objects.jobName)),
            DetailRow("Account", String(objects.accountID)),
            DetailRow("Project", named(objects.projectID, objects.projectName)),
            DetailRow("Environment", named(objects.environmentID, objects.environmentName)),
        ]
        if !objects.executeSteps.isEmpty { rows.append(DetailRow("Job steps", objects.executeSteps.joined(separator: ", "))) }
        return rows
    }

    /// The run's page, its status and each step's status.
    public func runRows(_ run: RunRecord) -> [DetailRow] {
        guard let details = run.details else { return [] }
        var rows: [DetailRow] = []
        if let href = details["href"]?.stringValue { rows.append(DetailRow("Run page", href)) }
        if let status = details["status"]?.numberValue?.intValue {
            rows.append(DetailRow("dbt Cloud status", "\(details["statusHumanized"]?.stringValue ?? "?") (\(status))"))
        }
        for step in details["steps"]?.arrayValue ?? [] {
            let index = step["index"]?.numberValue?.intValue.map(String.init) ?? "?"
            rows.append(DetailRow("Step \(index)", "\(step["name"]?.stringValue ?? "?"): \(step["statusHumanized"]?.stringValue ?? "?")"))
        }
        return rows
    }

    // MARK: - Errors

    static func classify(_ error: any Error, doing what: String) -> VendorFailure {
        if let failure = error as? VendorFailure { return failure }
        guard let error = error as? VendorError else {
            return VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "\(what): \(error)")
        }
        let detail = "\(what): \(error)"
        switch error.code {
        case .unauthorized where error.status == 403:
            return VendorFailure(
                kind: .unauthorized, reason: "vendorUnauthorized",
                message: detail + "; check that DBT_CLOUD_API_TOKEN is scoped to this account (spec.accountId or DBT_CLOUD_ACCOUNT_ID) with job permissions"
            )
        case .unauthorized:
            return VendorFailure(kind: .unauthorized, reason: "vendorUnauthorized", message: detail + "; check DBT_CLOUD_API_TOKEN and DBT_CLOUD_SERVICE_URL (the account's access URL)")
        case .validation, .invalidArgument:
            return VendorFailure(kind: .rejected, reason: "vendorRejected", message: detail)
        case .conflict:
            return VendorFailure(kind: .rejected, reason: "vendorConflict", message: detail)
        case .notFound:
            return VendorFailure(kind: .rejected, reason: "vendorNotFound", message: detail)
        case .unexpectedStatus where (error.status ?? 500) < 500 && error.status != 429:
            return VendorFailure(kind: .rejected, reason: "vendorRejected", message: detail)
        default:
            return VendorFailure(kind: .transient, reason: "vendorUnavailable", message: detail)
        }
    }
}
