import CensusSimulator
import DBTCloudSimulator
import FivetranSimulator
import Foundation
import JSONSchema
import SimulatorKit
import Synchronization

/// One resource type as an end-to-end test drives it: its vendor (a simulator, or a target for
/// HTTP tasks), what `factory-operator` needs in its environment to reach it, a spec per target
/// (a job, sync or connector of its own, so counts are per scenario), and what the vendor counts.
protocol VendorUnderTest: Sendable {
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
    /// Rows `factoryctl get NAME -d` shows for a finished run of this type.
    var detailLabels: [String] { get }
    /// What must never appear in a log line, KV entry, reply, metric or dead letter.
    var secrets: [String] { get }
    /// The vendor refuses the operator's credential (true) or accepts it again (false); false if
    /// this vendor checks none.
    @discardableResult
    func refuseCredential(_ refuse: Bool) -> Bool
}

extension VendorUnderTest {
    var canCancel: Bool { false }
    func refuseCredential(_ refuse: Bool) -> Bool { false }
    func lastRunCancelled(_ index: Int) -> Bool { false }
}

// MARK: - dbt Cloud

struct DBTCloudUnderTest: VendorUnderTest {
    static let token = "dbtc_e2e_7c1d52"
    static let account = 24_680
    let type = "dbtcloud"
    let canCancel = true
    let detailLabels = ["Job:", "Project:", "dbt Cloud status:", "Step 1:", "Run page:"]
    let simulator: DBTCloudSimulator = {
        var configuration = DBTCloudSimulator.Configuration(accountID: account, tokens: [token], jobs: [])
        configuration.knobs.runDuration = .milliseconds(600)
        configuration.knobs.rateLimit = nil
        return DBTCloudSimulator(configuration: configuration)
    }()

    func job(_ index: Int) -> Int { 60_000 + index }
    var secrets: [String] { [Self.token] }
    func refuseCredential(_ refuse: Bool) -> Bool {
        simulator.setTokens(refuse ? ["another-token"] : [Self.token])
        return true
    }

    func start() async throws -> String { "http://127.0.0.1:\(try await simulator.start())" }
    func stop() async { await simulator.stop() }

    func environment(serviceURL: String) -> [String: String] {
        ["DBT_CLOUD_API_TOKEN": Self.token, "DBT_CLOUD_ACCOUNT_ID": "\(Self.account)", "DBT_CLOUD_SERVICE_URL": serviceURL, "DBT_CLOUD_RATE_LIMIT": "100000"]
    }

    func prepare(_ index: Int) throws {
        simulator.addJob(.init(id: job(index), name: "End-to-end job \(index)"))
        simulator.updateKnobs { $0.runDuration = .milliseconds(600) }
    }

    func spec(_ index: Int, serviceURL: String, timeout: String?) -> JSONValue {
        var spec: JSONObject = ["jobId": .number(JSONNumber(job(index))), "cause": .string("end-to-end \(index)")]
        if let timeout { spec["timeout"] = .string(timeout) }
        return .object(spec)
    }

    func specWithoutRequiredField(_ index: Int, serviceURL: String) -> (spec: JSONValue, field: String) {
        (["cause": "no job"], "jobId")
    }

    func isTrigger(_ request: FaultProxy.Seen, of index: Int) -> Bool {
        request.method == "POST" && request.target.contains("/jobs/\(job(index))/run")
    }

    func runs(_ index: Int) -> Int { simulator.counters().runsTriggeredByJob[job(index)] ?? 0 }
    func failNextRun(_ index: Int) { simulator.forceOutcome(.error, forJob: job(index), runs: 1) }
    func makeRunsEndless(_ index: Int) { simulator.updateKnobs { $0.runDuration = .seconds(600) } }

    func lastRunCancelled(_ index: Int) -> Bool {
        guard let run = simulator.triggerLog().last(where: { $0.jobID == job(index) }) else { return false }
        return simulator.runStatus(id: run.runID) == 30
    }
}

// MARK: - Census

struct CensusUnderTest: VendorUnderTest {
    static let token = "census_e2e_31f0aa"
    let type = "census"
    let detailLabels = ["Sync:", "Operation:", "Records processed:", "Records updated:"]
    let simulator: CensusSimulator = {
        var configuration = CensusSimulator.Configuration(tokens: ["secret-token:\(token)"], syncs: [])
        configuration.knobs.runDuration = .milliseconds(600)
        return CensusSimulator(configuration: configuration)
    }()

    func sync(_ index: Int) -> Int { 7_000 + index }
    var secrets: [String] { [Self.token] }
    func refuseCredential(_ refuse: Bool) -> Bool {
        simulator.setTokens(refuse ? ["secret-token:another"] : ["secret-token:\(Self.token)"])
        return true
    }

    func start() async throws -> String { "http://127.0.0.1:\(try await simulator.start())" }
    func stop() async { await simulator.stop() }

    func environment(serviceURL: String) -> [String: String] {
        ["CENSUS_API_TOKEN": Self.token, "CENSUS_SERVICE_URL": serviceURL, "CENSUS_RATE_LIMIT": "100000"]
    }

    func prepare(_ index: Int) throws {
        try simulator.addSync(.init(id: sync(index), label: "End-to-end sync \(index)"))
        simulator.updateKnobs { $0.runDuration = .milliseconds(600) }
    }

    func spec(_ index: Int, serviceURL: String, timeout: String?) -> JSONValue {
        var spec: JSONObject = ["syncId": .number(JSONNumber(sync(index)))]
        if let timeout { spec["timeout"] = .string(timeout) }
        return .object(spec)
    }

    func specWithoutRequiredField(_ index: Int, serviceURL: String) -> (spec: JSONValue, field: String) {
        (["forceFullSync": true], "syncId")
    }

    func isTrigger(_ request: FaultProxy.Seen, of index: Int) -> Bool {
        request.method == "POST" && request.target.contains("/syncs/\(sync(index))/trigger")
    }

    func runs(_ index: Int) -> Int { simulator.counters().triggersBySyncID[sync(index)] ?? 0 }
    func failNextRun(_ index: Int) { simulator.forceOutcome(.failed, forSyncID: sync(index), runs: 1) }
    func makeRunsEndless(_ index: Int) { simulator.updateKnobs { $0.runDuration = .seconds(600) } }
}

// MARK: - Fivetran

struct FivetranUnderTest: VendorUnderTest {
    static let credential = FivetranSimulator.Credential(apiKey: "ft_e2e_key_5b2", apiSecret: "ft_e2e_secret_9d4")
    let type = "fivetran"
    let detailLabels = ["Connector:", "Service:", "Schema:", "Sync state:", "Succeeded at:", "Failed at:"]
    let simulator: FivetranSimulator = {
        var configuration = FivetranSimulator.Configuration(credentials: [credential], connectors: [])
        configuration.knobs.syncDuration = .milliseconds(600)
        return FivetranSimulator(configuration: configuration)
    }()

    func connector(_ index: Int) -> String { "end_to_end_\(index)" }
    /// The secret, and the Basic credential made of key and secret.
    var secrets: [String] { [Self.credential.apiSecret, Data("\(Self.credential.apiKey):\(Self.credential.apiSecret)".utf8).base64EncodedString()] }
    func refuseCredential(_ refuse: Bool) -> Bool {
        simulator.setCredentials(refuse ? [.init(apiKey: "other", apiSecret: "other")] : [Self.credential])
        return true
    }

    func start() async throws -> String { "http://127.0.0.1:\(try await simulator.start())" }
    func stop() async { await simulator.stop() }

    func environment(serviceURL: String) -> [String: String] {
        [
            "FIVETRAN_API_KEY": Self.credential.apiKey, "FIVETRAN_API_SECRET": Self.credential.apiSecret,
            "FIVETRAN_SERVICE_URL": serviceURL, "FIVETRAN_RATE_LIMIT": "100000",
        ]
    }

    func prepare(_ index: Int) throws {
        simulator.addConnector(.init(id: connector(index)))
        simulator.updateKnobs { $0.syncDuration = .milliseconds(600) }
    }

    func spec(_ index: Int, serviceURL: String, timeout: String?) -> JSONValue {
        var spec: JSONObject = ["connectorId": .string(connector(index)), "action": "START"]
        if let timeout { spec["timeout"] = .string(timeout) }
        return .object(spec)
    }

    func specWithoutRequiredField(_ index: Int, serviceURL: String) -> (spec: JSONValue, field: String) {
        (["action": "START"], "connectorId")
    }

    func isTrigger(_ request: FaultProxy.Seen, of index: Int) -> Bool {
        request.method == "POST" && request.target.contains("/\(connector(index))/sync")
    }

    func runs(_ index: Int) -> Int { simulator.counters().syncsStarted[connector(index)] ?? 0 }
    func failNextRun(_ index: Int) { simulator.forceOutcome(.failed, forConnector: connector(index), syncs: 1) }
    func makeRunsEndless(_ index: Int) { simulator.updateKnobs { $0.syncDuration = .seconds(600) } }
}

// MARK: - HTTP tasks

/// The target keeps idempotency keys: a run is one effect, however often its request is sent.
final class HTTPTaskUnderTest: VendorUnderTest {
    let type = "http"
    let detailLabels = ["Base URL:", "Status code:", "Matched:"]
    let target = HTTPTaskTarget()
    /// Effects before each target's scenario (the target counts effects of every command).
    private let baseline = Mutex<[Int: Int]>([:])

    func start() async throws -> String { try await target.start() }
    func stop() async { await target.stop() }

    static let token = "task-target-token-e41b"
    var secrets: [String] { [Self.token] }

    /// Specs may send `TARGET_TOKEN` (in the allow-list) as a header.
    func environment(serviceURL: String) -> [String: String] { ["HTTP_TASK_SECRET_ENV": "TARGET_TOKEN", "TARGET_TOKEN": Self.token] }

    func prepare(_ index: Int) throws {
        let effects = target.state.withLock { state -> Int in
            state.jobOutcome = "done"
            state.pollsBeforeDone = 2
            return state.effects
        }
        baseline.withLock { $0[index] = effects }
    }

    func spec(_ index: Int, serviceURL: String, timeout: String?) -> JSONValue {
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

    func specWithoutRequiredField(_ index: Int, serviceURL: String) -> (spec: JSONValue, field: String) {
        (["method": "POST", "endpoint": "/jobs"], "baseUrl")
    }

    func isTrigger(_ request: FaultProxy.Seen, of index: Int) -> Bool {
        request.method == "POST" && request.target == "/jobs"
    }

    func runs(_ index: Int) -> Int {
        target.state.withLock { $0.effects } - (baseline.withLock { $0[index] } ?? 0)
    }

    func failNextRun(_ index: Int) { target.state.withLock { $0.jobOutcome = "failed" } }
    func makeRunsEndless(_ index: Int) { target.state.withLock { $0.pollsBeforeDone = .max } }
}
