import CensusSimulator
import DBTCloudSimulator
import FivetranSimulator
import Foundation
import Logging
import SimulatorKit

// MARK: - DevVendorSimulators

/// The dev stack's other vendors, in this process, on the ports after `--sim-port`: Fivetran
/// (+1), dbt Cloud (+2), Census (+3) and a target for HTTP tasks (+4); the first replica receives
/// Fivetran's and dbt Cloud's completion webhooks on +5, signed with the stack's token. Their objects are the
/// examples' (connector `shrank_paparazzi`, account 1 with jobs 43167 and 43168, syncs 61 and 62),
/// seeded at every start: unlike Hightouch's, the operator creates none of them, so nothing of
/// theirs needs keeping across restarts but run history.
struct DevVendorSimulators: Sendable {
    static let fivetranCredential = FivetranSimulator.Credential.simulator

    let fivetran: FivetranSimulator
    let dbtCloud: DBTCloudSimulator
    let census: CensusSimulator
    let taskTarget: HTTPTaskTarget
    let basePort: Int
    let token: String

    var fivetranPort: Int { basePort + 1 }
    var dbtCloudPort: Int { basePort + 2 }
    var censusPort: Int { basePort + 3 }
    var taskTargetPort: Int { basePort + 4 }
    /// The first replica's webhook receiver (OPERATOR_WEBHOOK_PORT), where Fivetran and dbt Cloud
    /// send their run-ended notifications.
    var webhookPort: Int { basePort + 5 }

    /// Ports and what they serve, for the port check before anything starts.
    var ports: [(port: Int, what: String)] {
        [(fivetranPort, "the Fivetran simulator"), (dbtCloudPort, "the dbt Cloud simulator"), (censusPort, "the Census simulator"), (taskTargetPort, "the HTTP task target"), (webhookPort, "the first replica's webhook receiver")]
    }

    init(basePort: Int, token: String, runDuration: Duration, logger: @escaping @Sendable (String) -> Logger) {
        self.basePort = basePort
        self.token = token
        var fivetran = FivetranSimulator.Configuration(port: basePort + 1, credentials: [Self.fivetranCredential])
        fivetran.knobs.syncDuration = runDuration
        fivetran.webhook = SimWebhookSender.Target(url: "http://127.0.0.1:\(basePort + 5)/webhooks/fivetran", secret: token)
        self.fivetran = FivetranSimulator(configuration: fivetran, logger: logger("fivetran-simulator"))
        var dbtCloud = DBTCloudSimulator.Configuration(port: basePort + 2, tokens: [token])
        dbtCloud.knobs.runDuration = runDuration
        dbtCloud.webhook = SimWebhookSender.Target(url: "http://127.0.0.1:\(basePort + 5)/webhooks/dbtcloud", secret: token)
        self.dbtCloud = DBTCloudSimulator(configuration: dbtCloud, logger: logger("dbtcloud-simulator"))
        var census = CensusSimulator.Configuration(port: basePort + 3, tokens: ["secret-token:\(token)"])
        census.knobs.runDuration = runDuration
        self.census = CensusSimulator(configuration: census, logger: logger("census-simulator"))
        self.taskTarget = HTTPTaskTarget()
    }

    /// Starts each; a port that cannot be bound names the vendor and the option that moves it.
    func start() async throws(CLIError) {
        let starts: [(String, @Sendable () async throws -> Void)] = [
            ("the Fivetran simulator", { _ = try await fivetran.start() }),
            ("the dbt Cloud simulator", { _ = try await dbtCloud.start() }),
            ("the Census simulator", { _ = try await census.start() }),
            ("the HTTP task target", { _ = try await taskTarget.start(port: taskTargetPort) }),
        ]
        for (what, start) in starts {
            do {
                try await start()
            } catch {
                throw CLIError(.unavailable, "\(what) could not start (\(error)); move the simulators' ports with --sim-port")
            }
        }
    }

    func stop() async {
        await taskTarget.stop()
        await census.stop()
        await dbtCloud.stop()
        await fivetran.stop()
    }

    /// The replicas' variables for these vendors.
    var environment: [String: String] {
        [
            "FIVETRAN_API_KEY": Self.fivetranCredential.apiKey,
            "FIVETRAN_API_SECRET": Self.fivetranCredential.apiSecret,
            "FIVETRAN_SERVICE_URL": "http://127.0.0.1:\(fivetranPort)",
            "FIVETRAN_WEBHOOK_SECRET": token,
            "DBT_CLOUD_API_TOKEN": token,
            "DBT_CLOUD_ACCOUNT_ID": "1",
            "DBT_CLOUD_SERVICE_URL": "http://127.0.0.1:\(dbtCloudPort)",
            "DBT_CLOUD_WEBHOOK_SECRET": token,
            "CENSUS_API_TOKEN": token,
            "CENSUS_SERVICE_URL": "http://127.0.0.1:\(censusPort)",
        ]
    }

    /// One line each for the start-up summary.
    var summary: [String] {
        [
            "  fivetran     http://127.0.0.1:\(fivetranPort)/v1  Fivetran API, key \(Self.fivetranCredential.apiKey), connector shrank_paparazzi",
            "  dbtcloud     http://127.0.0.1:\(dbtCloudPort)/api/v2/accounts/1/  dbt Cloud API, token \(token), jobs 43167 and 43168",
            "  census       http://127.0.0.1:\(censusPort)/api/v1  Census API, token \(token), syncs 61 and 62",
            "  http target  http://127.0.0.1:\(taskTargetPort)  POST /jobs, GET /jobs/ID (for http resources: examples/http-local.yaml)",
            "  webhooks     http://127.0.0.1:\(webhookPort)/webhooks/fivetran and /webhooks/dbtcloud  the first replica's; the Fivetran and dbt Cloud simulators send their run ends there, signed with token \(token)",
        ]
    }
}
