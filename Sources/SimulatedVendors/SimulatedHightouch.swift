import Foundation
import HightouchSimulator
import JSONSchema
import SimulatorKit

// MARK: - Hightouch

/// The Hightouch simulator behind ``SimulatedVendor``. Unlike the other vendors, the operator
/// creates the vendor objects itself: target `index` is the model `model-<index>` and the sync
/// `sync-<index>` the spec declares, and `prepare` has nothing to make.
public struct SimulatedHightouch: SimulatedVendor {
    public static let token = "ht_e2e_5a9c31"
    public let type = "hightouch"
    public let canCancel = false
    public let detailLabels = ["Model:", "Sync:", "Rows planned:"]
    public let objectsTargetMember = "syncID"
    public let simulator: HightouchSimulator

    /// Runs last `runDuration` and end as the seeded `outcomes` decide (success by default).
    public init(runDuration: Duration = .milliseconds(600), outcomes: [HightouchSimulator.RunOutcome: Double] = [.success: 1], seed: UInt64 = 1) {
        simulator = HightouchSimulator(
            configuration: .init(tokens: [Self.token], knobs: .init(runDuration: runDuration, outcomeWeights: outcomes, rateLimit: nil, seed: seed))
        )
    }

    public var secrets: [String] { [Self.token] }
    public func refuseCredential(_ refuse: Bool) -> Bool {
        simulator.setTokens(refuse ? [] : [Self.token])
        return true
    }

    public func start() async throws -> String { "http://127.0.0.1:\(try await simulator.start())" }
    public func stop() async { await simulator.stop() }

    public func environment(serviceURL: String) -> [String: String] {
        ["HIGHTOUCH_SERVICE_URL": serviceURL, "HIGHTOUCH_SERVICE_SECRET": Self.token, "HIGHTOUCH_RATE_LIMIT": "100000"]
    }

    public func prepare(_ index: Int) throws {}

    public func target(_ index: Int) -> String { "sync-\(index)" }
    /// None: the operator makes the model and sync itself, so there is no vendor object a spec
    /// could name that is missing.
    public func targetName(_ index: Int) -> String? { nil }

    /// The seed resource's shape (examples/resource.yaml) with slugs of its own. Hightouch specs
    /// take no timeout: `timeout` is ignored.
    public func spec(_ index: Int, serviceURL: String, timeout: String?) -> JSONValue {
        [
            "model": [
                "name": .string("model-\(index)"), "slug": .string("model-\(index)"), "queryType": "raw_sql", "sourceId": "23474", "isSchema": false,
                "primaryKey": "__metadata", "raw": ["sql": "SELECT * FROM icebase.retail.city LIMIT 10000"],
            ],
            "sync": [
                "slug": .string(target(index)),
                "configuration": ["mode": "mirror", "driveId": "me/drive", "mappings": [], "configVersion": 0, "autoSyncColumns": true],
                "destinationId": "80565",
                "schedule": ["type": "cron", "schedule": ["expression": "*/5 * * * *"]],
                "disabled": false,
            ],
            "trigger": ["resetCDC": false, "fullResync": false],
        ]
    }

    public func specWithoutRequiredField(_ index: Int, serviceURL: String) -> (spec: JSONValue, field: String) {
        var spec = self.spec(index, serviceURL: serviceURL, timeout: nil).objectValue ?? [:]
        _ = spec.removeValue(forKey: "trigger")
        return (.object(spec), "trigger")
    }

    /// Any trigger: the sync's id (in the path) is the simulator's, known only once the operator
    /// created the sync.
    public func isTrigger(_ request: FaultProxy.Seen, of index: Int) -> Bool {
        request.method == "POST" && request.target.hasSuffix("/trigger")
    }

    public func runs(_ index: Int) -> Int { simulator.counters().triggersBySyncSlug[target(index)] ?? 0 }
    public func runCounts() -> [String: Int] { simulator.counters().triggersBySyncSlug }
    public func failNextRun(_ index: Int) { simulator.forceOutcome(.failed, forSyncSlug: target(index), runs: 1) }
    public func makeRunsEndless(_ index: Int) { simulator.updateKnobs { $0.runDuration = .seconds(600) } }

    /// The id of the sync with the target's slug now (a sync deleted and made again has a new one).
    public func objectID(_ index: Int, serviceURL: String) -> String? {
        simulator.syncID(slug: target(index)).map(String.init)
    }

    /// Deletes the target's sync (the model stays), as someone would in Hightouch's UI; the
    /// operator owns it and puts it back (drift repair).
    public func deleteTargetObjects(_ index: Int) -> Bool {
        guard let id = simulator.syncID(slug: target(index)) else { return false }
        return (try? simulator.deleteSync(id: id)) != nil
    }

    public func runLog() -> [VendorRun] {
        simulator.triggerLog().map { trigger in
            let word = simulator.runStatus(id: trigger.runID) ?? "unknown"
            return VendorRun(target: trigger.syncSlug, runID: String(trigger.runID), marker: nil, phase: Self.phase(word), vendorStatus: word)
        }
    }

    /// The phase Hightouch's driver records for an ended run's status; nil while it runs.
    static func phase(_ word: String) -> String? {
        switch word {
        case "success": "succeeded"
        case "warning": "warning"
        case "failed", "interrupted": "failed"
        case "cancelled": "cancelled"
        default: nil
        }
    }

    public func runOutOfBand(_ index: Int, serviceURL: String) async throws -> Int {
        try await OutOfBand.send(
            "POST", serviceURL + "/api/v1/syncs/trigger", headers: ["Authorization": "Bearer \(Self.token)"],
            body: #"{"syncSlug":"\#(target(index))","fullResync":false,"resetCDC":false}"#
        )
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
