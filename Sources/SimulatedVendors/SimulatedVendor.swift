import CensusSimulator
import DBTCloudSimulator
import FivetranSimulator
import Foundation
import JSONSchema
import SimulatorKit
import Synchronization

/// One resource type as process tests, chaos runs and benchmarks drive it: its vendor (a
/// simulator, or a target for HTTP tasks), what `factory-operator` needs in its environment to
/// reach it, a spec per target (a job, sync or connector of its own, so counts are per target),
/// what the vendor counts, and the faults it can be told to show.
///
/// A chaos run checks the operator against what the vendor itself recorded: how many runs each
/// target had (``runCounts()``, from the vendor's own counters), each run's id, marker and end
/// (``runLog()``), and the target the operator's recorded objects must name
/// (``objectsTargetMember``, ``objectID(_:serviceURL:)``).
public protocol SimulatedVendor: Sendable {
    /// The resource type (`dbtcloud`).
    var type: String { get }
    /// Whether the vendor can cancel a running run (the timeout and `cancel` then cancel it there).
    var canCancel: Bool { get }
    /// Starts the vendor; returns its base URL.
    func start() async throws -> String
    func stop() async
    /// The operator's variables for this type, with the vendor reached at `serviceURL` (the proxy).
    func environment(serviceURL: String) -> [String: String]
    /// Makes target `index` exist at the vendor, with runs that succeed quickly.
    func prepare(_ index: Int) throws
    /// The spec of a resource running target `index`.
    func spec(_ index: Int, serviceURL: String, timeout: String?) -> JSONValue
    /// A spec without its required field, and the field the refusal names.
    func specWithoutRequiredField(_ index: Int, serviceURL: String) -> (spec: JSONValue, field: String)
    /// Whether a request to the vendor is the trigger of target `index`.
    func isTrigger(_ request: FaultProxy.Seen, of index: Int) -> Bool
    /// Target `index` as the vendor's counters name it (a job id, a sync id or slug, a connector
    /// id; for HTTP tasks the `target` member of the request body).
    func target(_ index: Int) -> String
    /// Runs the vendor started for target `index`.
    func runs(_ index: Int) -> Int
    /// Runs started per target (``target(_:)``), from the vendor's own counters: dbt Cloud's runs
    /// per job, Census's triggers per sync, Fivetran's syncs started per connector, Hightouch's
    /// triggers per sync slug, the HTTP target's effects per body `target`.
    func runCounts() -> [String: Int]
    /// Every run the vendor started, oldest first, as the vendor records it.
    func runLog() -> [VendorRun]
    /// The member of the driver's recorded objects (`status.objects`) that names the target.
    var objectsTargetMember: String { get }
    /// What that member must hold for target `index` (as a string); nil if the vendor cannot say
    /// yet (Hightouch's sync id before its first run).
    func objectID(_ index: Int, serviceURL: String) -> String?
    /// Starts a run of target `index` through the vendor's public API, as someone else would,
    /// behind the operator's back; returns the HTTP status of the answer.
    func runOutOfBand(_ index: Int, serviceURL: String) async throws -> Int
    /// Shows `faults` from now on (``VendorFaults/none`` heals); false if this vendor has none.
    @discardableResult
    func applyFaults(_ faults: VendorFaults) -> Bool
    /// Requests answered with an injected 5xx, and with 429, so far.
    func faultCounts() -> (injected: Int, rateLimited: Int)
    /// The next run of target `index` fails.
    func failNextRun(_ index: Int)
    /// Runs of target `index` last until cancelled (minutes).
    func makeRunsEndless(_ index: Int)
    /// Whether the vendor saw target `index`'s last run cancelled.
    func lastRunCancelled(_ index: Int) -> Bool
    /// Deletes target `index`'s vendor objects as someone in the vendor's UI would (their run
    /// history goes with them); false where the operator does not own the vendor's objects and so
    /// cannot put them back (a missing job, sync or connector is an error by design).
    @discardableResult
    func deleteTargetObjects(_ index: Int) -> Bool
    /// How the vendor names target `index` (a job id, sync id, connector id), or nil where the
    /// vendor has no object the operator needs (HTTP tasks).
    func targetName(_ index: Int) -> String?
    /// Rows `factoryctl get NAME -d` shows for a finished run of this type.
    var detailLabels: [String] { get }
    /// What must never appear in a log line, KV entry, reply, metric or dead letter.
    var secrets: [String] { get }
    /// The vendor refuses the operator's credential (true) or accepts it again (false); false if
    /// this vendor checks none.
    @discardableResult
    func refuseCredential(_ refuse: Bool) -> Bool
}

extension SimulatedVendor {
    public var canCancel: Bool { false }
    public func deleteTargetObjects(_ index: Int) -> Bool { false }
    public func refuseCredential(_ refuse: Bool) -> Bool { false }
    public func lastRunCancelled(_ index: Int) -> Bool { false }
    public func applyFaults(_ faults: VendorFaults) -> Bool { false }
    public func faultCounts() -> (injected: Int, rateLimited: Int) { (0, 0) }
}

// MARK: - dbt Cloud

public struct SimulatedDBTCloud: SimulatedVendor {
    /// - Parameter webhook: where the simulator sends `job.run.completed` (nil: nowhere).
    public init(webhook: SimWebhookSender.Target? = nil) {
        var configuration = DBTCloudSimulator.Configuration(accountID: Self.account, tokens: [Self.token], jobs: [], webhook: webhook)
        configuration.knobs.runDuration = .milliseconds(600)
        configuration.knobs.rateLimit = nil
        simulator = DBTCloudSimulator(configuration: configuration)
    }

    public static let token = "dbtc_e2e_7c1d52"
    public static let account = 24_680
    public let type = "dbtcloud"
    public let canCancel = true
    public let detailLabels = ["Job:", "Project:", "dbt Cloud status:", "Step 1:", "Run page:"]
    public let simulator: DBTCloudSimulator

    public func job(_ index: Int) -> Int { 60_000 + index }
    public func targetName(_ index: Int) -> String? { String(job(index)) }
    public var secrets: [String] { [Self.token] }
    public func refuseCredential(_ refuse: Bool) -> Bool {
        simulator.setTokens(refuse ? ["another-token"] : [Self.token])
        return true
    }

    public func start() async throws -> String { "http://127.0.0.1:\(try await simulator.start())" }
    public func stop() async { await simulator.stop() }

    public func environment(serviceURL: String) -> [String: String] {
        ["DBT_CLOUD_API_TOKEN": Self.token, "DBT_CLOUD_ACCOUNT_ID": "\(Self.account)", "DBT_CLOUD_SERVICE_URL": serviceURL, "DBT_CLOUD_RATE_LIMIT": "100000"]
    }

    public func prepare(_ index: Int) throws {
        simulator.addJob(.init(id: job(index), name: "End-to-end job \(index)"))
        simulator.updateKnobs { $0.runDuration = .milliseconds(600) }
    }

    public func spec(_ index: Int, serviceURL: String, timeout: String?) -> JSONValue {
        var spec: JSONObject = ["jobId": .number(JSONNumber(job(index))), "cause": .string("end-to-end \(index)")]
        if let timeout { spec["timeout"] = .string(timeout) }
        return .object(spec)
    }

    public func specWithoutRequiredField(_ index: Int, serviceURL: String) -> (spec: JSONValue, field: String) {
        (["cause": "no job"], "jobId")
    }

    public func isTrigger(_ request: FaultProxy.Seen, of index: Int) -> Bool {
        request.method == "POST" && request.target.contains("/jobs/\(job(index))/run")
    }

    public func target(_ index: Int) -> String { String(job(index)) }
    public func runs(_ index: Int) -> Int { simulator.counters().runsTriggeredByJob[job(index)] ?? 0 }
    public func runCounts() -> [String: Int] {
        Dictionary(uniqueKeysWithValues: simulator.counters().runsTriggeredByJob.map { (String($0.key), $0.value) })
    }
    public func failNextRun(_ index: Int) { simulator.forceOutcome(.error, forJob: job(index), runs: 1) }
    public func makeRunsEndless(_ index: Int) { simulator.updateKnobs { $0.runDuration = .seconds(600) } }

    public func lastRunCancelled(_ index: Int) -> Bool {
        guard let run = simulator.triggerLog().last(where: { $0.jobID == job(index) }) else { return false }
        return simulator.runStatus(id: run.runID) == 30
    }

    public let objectsTargetMember = "jobID"
    public func objectID(_ index: Int, serviceURL: String) -> String? { String(job(index)) }

    /// Runs and reruns, with the command id of the cause's `[factory:<id>]` marker.
    public func runLog() -> [VendorRun] {
        simulator.triggerLog().map { trigger in
            let status = simulator.runStatus(id: trigger.runID)
            let phase: String? =
                switch status {
                case 10: "succeeded"
                case 20: "failed"
                case 30: "cancelled"
                default: nil
                }
            return VendorRun(
                target: String(trigger.jobID), runID: String(trigger.runID), marker: Self.marker(in: trigger.cause), phase: phase,
                vendorStatus: status.map(String.init) ?? "unknown"
            )
        }
    }

    /// The command id of `... [factory:<id>]` at the end of a cause.
    static func marker(in cause: String) -> String? {
        guard cause.hasSuffix("]"), let start = cause.range(of: "[factory:", options: .backwards) else { return nil }
        return String(cause[start.upperBound..<cause.index(before: cause.endIndex)])
    }

    public func runOutOfBand(_ index: Int, serviceURL: String) async throws -> Int {
        try await OutOfBand.send(
            "POST", serviceURL + "/api/v2/accounts/\(Self.account)/jobs/\(job(index))/run/", headers: ["Authorization": "Token \(Self.token)"],
            body: #"{"cause":"Run by hand in dbt Cloud"}"#
        )
    }

    /// dbt Cloud's simulator has no latency jitter: the latency is the spike's base.
    public func applyFaults(_ faults: VendorFaults) -> Bool {
        simulator.updateKnobs { knobs in
            knobs.serverErrorRate = faults.serverErrorRate
            knobs.latency = faults.latency
            knobs.rateLimit = faults.requestsPerSecond.map { .init(requests: $0, window: .seconds(1)) }
        }
        _ = refuseCredential(faults.refuseCredential)
        return true
    }

    public func faultCounts() -> (injected: Int, rateLimited: Int) {
        let counters = simulator.counters()
        return (counters.injectedFaults, counters.rateLimited)
    }
}

// MARK: - Census

public struct SimulatedCensus: SimulatedVendor {
    public init() {}

    public static let token = "census_e2e_31f0aa"
    public let type = "census"
    public let detailLabels = ["Sync:", "Operation:", "Records processed:", "Records updated:"]
    public let simulator: CensusSimulator = {
        var configuration = CensusSimulator.Configuration(tokens: ["secret-token:\(token)"], syncs: [])
        configuration.knobs.runDuration = .milliseconds(600)
        return CensusSimulator(configuration: configuration)
    }()

    public func sync(_ index: Int) -> Int { 7_000 + index }
    public func targetName(_ index: Int) -> String? { String(sync(index)) }
    public var secrets: [String] { [Self.token] }
    public func refuseCredential(_ refuse: Bool) -> Bool {
        simulator.setTokens(refuse ? ["secret-token:another"] : ["secret-token:\(Self.token)"])
        return true
    }

    public func start() async throws -> String { "http://127.0.0.1:\(try await simulator.start())" }
    public func stop() async { await simulator.stop() }

    public func environment(serviceURL: String) -> [String: String] {
        ["CENSUS_API_TOKEN": Self.token, "CENSUS_SERVICE_URL": serviceURL, "CENSUS_RATE_LIMIT": "100000"]
    }

    public func prepare(_ index: Int) throws {
        try simulator.addSync(.init(id: sync(index), label: "End-to-end sync \(index)"))
        simulator.updateKnobs { $0.runDuration = .milliseconds(600) }
    }

    public func spec(_ index: Int, serviceURL: String, timeout: String?) -> JSONValue {
        var spec: JSONObject = ["syncId": .number(JSONNumber(sync(index)))]
        if let timeout { spec["timeout"] = .string(timeout) }
        return .object(spec)
    }

    public func specWithoutRequiredField(_ index: Int, serviceURL: String) -> (spec: JSONValue, field: String) {
        (["forceFullSync": true], "syncId")
    }

    public func isTrigger(_ request: FaultProxy.Seen, of index: Int) -> Bool {
        request.method == "POST" && request.target.contains("/syncs/\(sync(index))/trigger")
    }

    public func target(_ index: Int) -> String { String(sync(index)) }
    public func runs(_ index: Int) -> Int { simulator.counters().triggersBySyncID[sync(index)] ?? 0 }
    public func runCounts() -> [String: Int] {
        Dictionary(uniqueKeysWithValues: simulator.counters().triggersBySyncID.map { (String($0.key), $0.value) })
    }
    public func failNextRun(_ index: Int) { simulator.forceOutcome(.failed, forSyncID: sync(index), runs: 1) }
    public func makeRunsEndless(_ index: Int) { simulator.updateKnobs { $0.runDuration = .seconds(600) } }

    public let objectsTargetMember = "syncID"
    public func objectID(_ index: Int, serviceURL: String) -> String? { String(sync(index)) }

    /// A completed run is `succeeded`: the simulator's failed and invalid record rates are 0 here,
    /// so no completed run is a `warning`. A `skipped` run (a trigger on a busy sync) is `failed`.
    public func runLog() -> [VendorRun] {
        simulator.triggerLog().map { trigger in
            let word = simulator.runStatus(id: trigger.runID) ?? "unknown"
            let phase: String? =
                switch word {
                case "completed": "succeeded"
                case "failed", "skipped": "failed"
                default: nil
                }
            return VendorRun(target: String(trigger.syncID), runID: String(trigger.runID), marker: nil, phase: phase, vendorStatus: word)
        }
    }

    public func runOutOfBand(_ index: Int, serviceURL: String) async throws -> Int {
        try await OutOfBand.send("POST", serviceURL + "/api/v1/syncs/\(sync(index))/trigger", headers: ["Authorization": "Bearer secret-token:\(Self.token)"], body: "{}")
    }

    public func applyFaults(_ faults: VendorFaults) -> Bool {
        simulator.updateKnobs { knobs in
            knobs.serverErrorRate = faults.serverErrorRate
            knobs.latency = faults.latency
            knobs.latencyJitter = faults.latencyJitter
            knobs.rateLimit = faults.requestsPerSecond.map { .init(requests: $0, window: .seconds(1)) }
        }
        _ = refuseCredential(faults.refuseCredential)
        return true
    }

    public func faultCounts() -> (injected: Int, rateLimited: Int) {
        let counters = simulator.counters()
        return (counters.injectedFaults, counters.rateLimited)
    }
}

// MARK: - Fivetran

public struct SimulatedFivetran: SimulatedVendor {
    /// - Parameter webhook: where the simulator sends `sync_end` (nil: nowhere).
    public init(webhook: SimWebhookSender.Target? = nil) {
        var configuration = FivetranSimulator.Configuration(credentials: [Self.credential], connectors: [], webhook: webhook)
        configuration.knobs.syncDuration = .milliseconds(600)
        simulator = FivetranSimulator(configuration: configuration)
    }

    public static let credential = FivetranSimulator.Credential(apiKey: "ft_e2e_key_5b2", apiSecret: "ft_e2e_secret_9d4")
    public let type = "fivetran"
    public let detailLabels = ["Connector:", "Service:", "Schema:", "Sync state:", "Succeeded at:", "Failed at:"]
    public let simulator: FivetranSimulator

    public func connector(_ index: Int) -> String { "end_to_end_\(index)" }
    public func targetName(_ index: Int) -> String? { connector(index) }
    /// The secret, and the Basic credential made of key and secret.
    public var secrets: [String] { [Self.credential.apiSecret, Data("\(Self.credential.apiKey):\(Self.credential.apiSecret)".utf8).base64EncodedString()] }
    public func refuseCredential(_ refuse: Bool) -> Bool {
        simulator.setCredentials(refuse ? [.init(apiKey: "other", apiSecret: "other")] : [Self.credential])
        return true
    }

    public func start() async throws -> String { "http://127.0.0.1:\(try await simulator.start())" }
    public func stop() async { await simulator.stop() }

    public func environment(serviceURL: String) -> [String: String] {
        [
            "FIVETRAN_API_KEY": Self.credential.apiKey, "FIVETRAN_API_SECRET": Self.credential.apiSecret,
            "FIVETRAN_SERVICE_URL": serviceURL, "FIVETRAN_RATE_LIMIT": "100000",
        ]
    }

    public func prepare(_ index: Int) throws {
        simulator.addConnector(.init(id: connector(index)))
        simulator.updateKnobs { $0.syncDuration = .milliseconds(600) }
    }

    public func spec(_ index: Int, serviceURL: String, timeout: String?) -> JSONValue {
        var spec: JSONObject = ["connectorId": .string(connector(index)), "action": "START"]
        if let timeout { spec["timeout"] = .string(timeout) }
        return .object(spec)
    }

    public func specWithoutRequiredField(_ index: Int, serviceURL: String) -> (spec: JSONValue, field: String) {
        (["action": "START"], "connectorId")
    }

    public func isTrigger(_ request: FaultProxy.Seen, of index: Int) -> Bool {
        request.method == "POST" && request.target.contains("/\(connector(index))/sync")
    }

    public func target(_ index: Int) -> String { connector(index) }
    public func runs(_ index: Int) -> Int { simulator.counters().syncsStarted[connector(index)] ?? 0 }
    public func runCounts() -> [String: Int] { simulator.counters().syncsStarted }
    public func failNextRun(_ index: Int) { simulator.forceOutcome(.failed, forConnector: connector(index), syncs: 1) }
    public func makeRunsEndless(_ index: Int) { simulator.updateKnobs { $0.syncDuration = .seconds(600) } }

    public let objectsTargetMember = "connectorId"
    public func objectID(_ index: Int, serviceURL: String) -> String? { connector(index) }

    /// Fivetran's syncs have no ids (nor markers): each is known by its connector, and its end.
    public func runLog() -> [VendorRun] {
        simulator.syncLog().map { sync in
            let phase = sync.ended ? (sync.outcome == .success ? "succeeded" : "failed") : nil
            return VendorRun(target: sync.connectorID, runID: nil, marker: nil, phase: phase, vendorStatus: sync.ended ? sync.outcome.rawValue : "syncing")
        }
    }

    public func runOutOfBand(_ index: Int, serviceURL: String) async throws -> Int {
        let basic = Data("\(Self.credential.apiKey):\(Self.credential.apiSecret)".utf8).base64EncodedString()
        return try await OutOfBand.send("POST", serviceURL + "/v1/connectors/\(connector(index))/sync", headers: ["Authorization": "Basic \(basic)"], body: "{}")
    }

    public func applyFaults(_ faults: VendorFaults) -> Bool {
        simulator.updateKnobs { knobs in
            knobs.serverErrorRate = faults.serverErrorRate
            knobs.latency = faults.latency
            knobs.latencyJitter = faults.latencyJitter
            knobs.rateLimit = faults.requestsPerSecond.map { .init(requests: $0, window: .seconds(1)) }
        }
        _ = refuseCredential(faults.refuseCredential)
        return true
    }

    public func faultCounts() -> (injected: Int, rateLimited: Int) {
        let counters = simulator.counters()
        return (counters.injectedFaults, counters.rateLimited)
    }
}

// MARK: - HTTP tasks

/// The target keeps idempotency keys: a run is one effect, however often its request is sent.
/// Target `index` is the `target` member of the request body the spec sends; the target counts
/// effects per body `target` and per key.
public final class SimulatedHTTPTarget: SimulatedVendor {
    public init() {}

    public let type = "http"
    public let detailLabels = ["Base URL:", "Status code:", "Matched:"]
    public let target = HTTPTaskTarget()

    public func start() async throws -> String { try await target.start() }
    public func stop() async { await target.stop() }

    public static let token = "task-target-token-e41b"
    public func targetName(_ index: Int) -> String? { nil }
    public var secrets: [String] { [Self.token] }

    /// Specs may send `TARGET_TOKEN` (in the allow-list) as a header.
    public func environment(serviceURL: String) -> [String: String] { ["HTTP_TASK_SECRET_ENV": "TARGET_TOKEN", "TARGET_TOKEN": Self.token] }

    public func prepare(_ index: Int) throws {
        target.state.withLock { state in
            state.jobOutcome = "done"
            state.pollsBeforeDone = 2
        }
    }

    public func spec(_ index: Int, serviceURL: String, timeout: String?) -> JSONValue {
        var spec: JSONObject = [
            "baseUrl": .string(serviceURL), "method": "POST", "endpoint": "/jobs", "body": ["target": .number(JSONNumber(index))],
            "headers": ["Authorization": ["secretEnv": "TARGET_TOKEN"]],
            "poll": [
                "endpoint": "/jobs/${response./id}", "interval": "200ms",
                "successWhen": ["pointer": "/state", "equals": "done"], "failureWhen": ["pointer": "/state", "equals": "failed"],
            ],
        ]
        if let timeout { spec["timeout"] = .string(timeout) }
        return .object(spec)
    }

    public func specWithoutRequiredField(_ index: Int, serviceURL: String) -> (spec: JSONValue, field: String) {
        (["method": "POST", "endpoint": "/jobs"], "baseUrl")
    }

    public func isTrigger(_ request: FaultProxy.Seen, of index: Int) -> Bool {
        request.method == "POST" && request.target == "/jobs"
    }

    public func target(_ index: Int) -> String { String(index) }
    public func runs(_ index: Int) -> Int { target.state.withLock { $0.effectsByTarget[index] ?? 0 } }
    public func runCounts() -> [String: Int] {
        Dictionary(uniqueKeysWithValues: target.state.withLock { $0.effectsByTarget }.map { (String($0.key), $0.value) })
    }

    /// The jobs of target `index` fail (whenever they are created).
    public func failNextRun(_ index: Int) { target.state.withLock { $0.outcomesByTarget[index] = "failed" } }
    public func makeRunsEndless(_ index: Int) { target.state.withLock { $0.pollsBeforeDone = .max } }

    public let objectsTargetMember = "baseURL"
    /// The driver records the spec's base URL: the address the spec was given.
    public func objectID(_ index: Int, serviceURL: String) -> String? { serviceURL }

    /// One run per effect, with the key it was created under; a job has ended once polled
    /// enough, and the simulator decides its outcome up front.
    public func runLog() -> [VendorRun] {
        target.state.withLock { state in
            state.effectLog.compactMap { effect -> VendorRun? in
                guard let index = effect.target else { return nil }
                let outcome = state.outcome(ofJob: effect.id) ?? state.jobOutcome
                let ended = (state.polls[effect.id] ?? 0) >= state.pollsBeforeDone
                let phase: String? = ended ? (outcome == "done" ? "succeeded" : "failed") : nil
                return VendorRun(target: String(index), runID: String(effect.id), marker: effect.key, phase: phase, vendorStatus: ended ? outcome : "running")
            }
        }
    }

    /// A request with a key of its own, as another client would send it.
    public func runOutOfBand(_ index: Int, serviceURL: String) async throws -> Int {
        try await OutOfBand.send(
            "POST", serviceURL + "/jobs", headers: ["Idempotency-Key": "out-of-band-\(index)-\(UUID().uuidString)"], body: #"{"target": \#(index)}"#
        )
    }
}
