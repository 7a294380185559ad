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
    /// Runs the vendor started for target `index`.
    func runs(_ index: Int) -> Int
    /// The next run of target `index` fails.
    func failNextRun(_ index: Int)
    /// Runs of target `index` last until cancelled (minutes).
    func makeRunsEndless(_ index: Int)
    /// Whether the vendor saw target `index`'s last run cancelled.
    func lastRunCancelled(_ index: Int) -> Bool
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
    public func refuseCredential(_ refuse: Bool) -> Bool { false }
    public func lastRunCancelled(_ index: Int) -> Bool { false }
}

// MARK: - dbt Cloud

public struct SimulatedDBTCloud: SimulatedVendor {
    public init() {}

    public static let token = "dbtc_e2e_7c1d52"
    public static let account = 24_680
    public let type = "dbtcloud"
    public let canCancel = true
    public let detailLabels = ["Job:", "Project:", "dbt Cloud status:", "Step 1:", "Run page:"]
    public let simulator: DBTCloudSimulator = {
        var configuration = DBTCloudSimulator.Configuration(accountID: account, tokens: [token], jobs: [])
        configuration.knobs.runDuration = .milliseconds(600)
        configuration.knobs.rateLimit = nil
        return DBTCloudSimulator(configuration: configuration)
    }()

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

    public func runs(_ index: Int) -> Int { simulator.counters().runsTriggeredByJob[job(index)] ?? 0 }
    public func failNextRun(_ index: Int) { simulator.forceOutcome(.error, forJob: job(index), runs: 1) }
    public func makeRunsEndless(_ index: Int) { simulator.updateKnobs { $0.runDuration = .seconds(600) } }

    public func lastRunCancelled(_ index: Int) -> Bool {
        guard let run = simulator.triggerLog().last(where: { $0.jobID == job(index) }) else { return false }
        return simulator.runStatus(id: run.runID) == 30
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

    public func runs(_ index: Int) -> Int { simulator.counters().triggersBySyncID[sync(index)] ?? 0 }
    public func failNextRun(_ index: Int) { simulator.forceOutcome(.failed, forSyncID: sync(index), runs: 1) }
    public func makeRunsEndless(_ index: Int) { simulator.updateKnobs { $0.runDuration = .seconds(600) } }
}

// MARK: - Fivetran

public struct SimulatedFivetran: SimulatedVendor {
    public init() {}

    public static let credential = FivetranSimulator.Credential(apiKey: "ft_e2e_key_5b2", apiSecret: "ft_e2e_secret_9d4")
    public let type = "fivetran"
    public let detailLabels = ["Connector:", "Service:", "Schema:", "Sync state:", "Succeeded at:", "Failed at:"]
    public let simulator: FivetranSimulator = {
        var configuration = FivetranSimulator.Configuration(credentials: [credential], connectors: [])
        configuration.knobs.syncDuration = .milliseconds(600)
        return FivetranSimulator(configuration: configuration)
    }()

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

    public func runs(_ index: Int) -> Int { simulator.counters().syncsStarted[connector(index)] ?? 0 }
    public func failNextRun(_ index: Int) { simulator.forceOutcome(.failed, forConnector: connector(index), syncs: 1) }
    public func makeRunsEndless(_ index: Int) { simulator.updateKnobs { $0.syncDuration = .seconds(600) } }
}

// MARK: - HTTP tasks

/// The target keeps idempotency keys: a run is one effect, however often its request is sent.
public final class SimulatedHTTPTarget: SimulatedVendor {
    public init() {}

    public let type = "http"
    public let detailLabels = ["Base URL:", "Status code:", "Matched:"]
    public let target = HTTPTaskTarget()
    /// Effects before each target's scenario (the target counts effects of every command).
    private let baseline = Mutex<[Int: Int]>([:])

    public func start() async throws -> String { try await target.start() }
    public func stop() async { await target.stop() }

    public static let token = "task-target-token-e41b"
    public func targetName(_ index: Int) -> String? { nil }
    public var secrets: [String] { [Self.token] }

    /// Specs may send `TARGET_TOKEN` (in the allow-list) as a header.
    public func environment(serviceURL: String) -> [String: String] { ["HTTP_TASK_SECRET_ENV": "TARGET_TOKEN", "TARGET_TOKEN": Self.token] }

    public func prepare(_ index: Int) throws {
        let effects = target.state.withLock { state -> Int in
            state.jobOutcome = "done"
            state.pollsBeforeDone = 2
            return state.effects
        }
        baseline.withLock { $0[index] = effects }
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

    public func runs(_ index: Int) -> Int {
        target.state.withLock { $0.effects } - (baseline.withLock { $0[index] } ?? 0)
    }

    public func failNextRun(_ index: Int) { target.state.withLock { $0.jobOutcome = "failed" } }
    public func makeRunsEndless(_ index: Int) { target.state.withLock { $0.pollsBeforeDone = .max } }
}
