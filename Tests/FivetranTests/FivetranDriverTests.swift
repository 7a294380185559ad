import FactoryEngine
import FactoryModel
import FactoryState
import Fivetran
import FivetranDriver
import FivetranSimulator
import Foundation
import JSONSchema
import Testing
import VendorHTTP

/// The driver's operations one by one against the simulator: specs, ensure, each action, the
/// resume check.
@Suite("Fivetran driver", .timeLimit(.minutes(1)))
struct FivetranDriverTests {
    static func spec(_ members: JSONObject) -> JSONValue { .object(members) }

    @Test("specs: defaults from the configuration; FORCE_RESYNC needs schema and table, other actions refuse them; ids and timeouts are checked")
    func specs() throws {
        let driver = FivetranDriver(
            client: try FivetranClient(configuration: .init(apiKey: VendorSecret("k"), apiSecret: VendorSecret("s")), logger: silentLogger),
            defaults: .init(keepSchedule: true, timeout: .seconds(90))
        )
        let plain = try driver.decodeSpec(Self.spec(["connectorId": "shrank_paparazzi"]))
        #expect(plain == FivetranDriver.Spec(connectorID: "shrank_paparazzi", action: .start, keepSchedule: true, timeout: .seconds(90)))
        let full = try driver.decodeSpec(Self.spec([
            "connectorId": "c_1", "action": "FORCE_RESYNC", "schema": "public", "table": "orders", "keepSchedule": false, "unpause": true, "timeout": "1h30m",
        ]))
        #expect(full.action == .forceResync && full.schema == "public" && full.table == "orders" && !full.keepSchedule && full.unpause)
        #expect(full.timeout == .seconds(5_400) && driver.runTimeout(full) == .seconds(5_400))
        #expect(try driver.decodeSpec(Self.spec(["connectorId": "c", "timeout": "120"])).timeout == .seconds(120))

        let refusals: [(JSONObject, String)] = [
            (["connectorId": "c", "action": "FORCE_RESYNC", "schema": "public"], "FORCE_RESYNC needs schema and table"),
            (["connectorId": "c", "action": "FORCE_RESYNC"], "FORCE_RESYNC needs schema and table"),
            (["connectorId": "c", "table": "orders"], "only FORCE_RESYNC re-syncs a table"),
            (["connectorId": "c", "action": "STATUS", "schema": "s"], "the action is STATUS"),
            (["connectorId": "Shrank-Paparazzi"], "is not a Fivetran connector id"),
            (["connectorId": "c", "action": "SYNC"], "must be one of START, STATUS, TEST, FORCE_RESYNC"),
            (["connectorId": "c", "timeout": "soon"], "must be a duration"),
            (["connectorId": "c", "timeout": "10ms"], "at least 1s"),
        ]
        for (members, expected) in refusals {
            do {
                _ = try driver.decodeSpec(Self.spec(members))
                Issue.record("accepted \(members)")
            } catch {
                #expect(error.kind == .rejected && error.message.contains(expected), "\(members): \(error)")
            }
        }
    }

    @Test("the JSON schema: connectorId required and of Fivetran's characters, the actions, schema and table required for FORCE_RESYNC")
    func jsonSchema() throws {
        let definition = try ResourceTypeDefinition.fivetranDefault()
        #expect(definition.name == "fivetran" && definition.isRunnable && definition.natsAPI.command.subject == "fivetran.pipeline.run")
        #expect(FivetranDriver.descriptor.secretVariable == "FIVETRAN_API_SECRET" && FivetranDriver.descriptor.names.stateBucket == "fivetran-operator-state")
        func violations(_ spec: JSONValue) -> [String] { definition.specSchema.validate(spec, maxErrors: nil).map(\.message) }
        #expect(violations(Self.spec(["connectorId": "shrank_paparazzi"])).isEmpty)
        #expect(violations(Self.spec(["connectorId": "c", "action": "FORCE_RESYNC", "schema": "s", "table": "t", "timeout": "5m"])).isEmpty)
        #expect(!violations(Self.spec(["connectorId": "c", "action": "FORCE_RESYNC", "schema": "s"])).isEmpty)
        #expect(!violations(Self.spec(["connectorId": "Bad-Id"])).isEmpty)
        #expect(!violations(Self.spec(["connectorId": "c", "action": "RUN"])).isEmpty)
        #expect(!violations(Self.spec(["action": "START"])).isEmpty)
        #expect(!violations(Self.spec(["connectorId": "c", "extra": true])).isEmpty)
    }

    @Test("ensure: an unknown connector is refused naming it; the schedule becomes manual unless kept; STATUS and TEST change nothing")
    func ensure() async throws {
        try await withFivetranSimulator(configuration: testSimulatorConfiguration()) { simulator in
            let driver = try makeDriver(simulator)
            let client = driver.client
            let missing = try await expectFailure { _ = try await driver.ensure(.init(connectorID: "no_such_connector"), known: nil) }
            #expect(missing.kind == .rejected && missing.reason == "vendorNotFound" && missing.message.contains("no_such_connector"))

            _ = try await driver.ensure(.init(connectorID: "second_connector", action: .status), known: nil)
            _ = try await driver.ensure(.init(connectorID: "second_connector", action: .test), known: nil)
            #expect(simulator.counters().updates.isEmpty)

            let kept = try await driver.ensure(.init(connectorID: connectorID, keepSchedule: true), known: nil)
            #expect(kept == .init(connectorID: connectorID, groupID: "projected_sickle", service: "postgres", schema: "postgres_shrank_paparazzi"))
            #expect(try await client.connector(id: connectorID).scheduleType == .auto && simulator.counters().updates.isEmpty)

            _ = try await driver.ensure(.init(connectorID: connectorID), known: nil)
            #expect(try await client.connector(id: connectorID).scheduleType == .manual && simulator.counters().updates[connectorID] == 1)
            _ = try await driver.ensure(.init(connectorID: connectorID), known: nil)
            #expect(simulator.counters().updates[connectorID] == 1, "manual already: no second PATCH")
        }
    }

    @Test("a paused connector is refused with that reason, and unpaused with unpause: true")
    func paused() async throws {
        var configuration = testSimulatorConfiguration()
        configuration.connectors = [.init(id: connectorID, paused: true)]
        try await withFivetranSimulator(configuration: configuration) { simulator in
            let driver = try makeDriver(simulator)
            let refused = try await expectFailure { _ = try await driver.ensure(.init(connectorID: connectorID), known: nil) }
            #expect(refused.kind == .rejected && refused.reason == "connectorPaused" && refused.message.contains("unpause: true"))
            #expect(try await driver.client.connector(id: connectorID).paused)

            let spec = FivetranDriver.Spec(connectorID: connectorID, unpause: true)
            let objects = try await driver.ensure(spec, known: nil)
            let connector = try await driver.client.connector(id: connectorID)
            #expect(!connector.paused && connector.scheduleType == .manual && simulator.counters().updates[connectorID] == 1, "one PATCH for both")
            let run = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "c1", intentAt: Date()))
            #expect(run.observation.phase == .queued)
        }
    }

    @Test("START: the baseline, one sync, followed from queued to running to succeeded; the resume check finds it syncing and after it ended, nothing before")
    func startAndResumeCheck() async throws {
        try await withFivetranSimulator(configuration: testSimulatorConfiguration()) { simulator in
            let driver = try makeDriver(simulator)
            let spec = FivetranDriver.Spec(connectorID: connectorID)
            let objects = try await driver.ensure(spec, known: nil)
            let baseline = try await driver.baseline(spec, objects: objects)
            #expect(baseline.succeededAt != nil && baseline.failedAt == nil && baseline.syncState == "scheduled")
            let point = ResumePoint(commandID: "c1", intentAt: Date(), since: Date(), baseline: baseline)
            #expect(try await driver.runs(since: point, spec: spec, objects: objects).isEmpty, "nothing moved: no run")
            #expect(try await driver.runs(since: ResumePoint(commandID: "c1", intentAt: Date(), since: Date(), baseline: nil), spec: spec, objects: objects).isEmpty)

            let triggered = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "c1", intentAt: Date()))
            #expect(triggered.reference.succeededAt == baseline.succeededAt && triggered.reference.action == .start)
            #expect(triggered.observation.phase == .queued && triggered.observation.vendorRunID == nil)
            #expect(simulator.counters().syncsStarted[connectorID] == 1)

            let running = try #require(try await driver.observe(triggered.reference, objects: objects))
            #expect(running.phase == .running && running.summary == "syncing" && running.vendorStatus == "syncing")
            let syncing = try await driver.runs(since: point, spec: spec, objects: objects)
            #expect(syncing.count == 1 && syncing.first?.reference == triggered.reference, "syncing: the run exists")

            var last = running
            finishSyncs(simulator)
            try await eventually("the sync ends") {
                last = try #require(try await driver.observe(triggered.reference, objects: objects))
                return last.phase.isFinished
            }
            #expect(last.phase == .succeeded && last.vendorStatus == "succeeded" && last.finishedAt != nil && last.error == nil)
            #expect(last.details?["succeededAt"]?.stringValue != baseline.succeededAt?.text)
            let ended = try await driver.runs(since: point, spec: spec, objects: objects)
            #expect(ended.count == 1 && ended.first?.observation.phase == .succeeded, "times moved: the run exists")
            #expect(simulator.counters().syncsStarted[connectorID] == 1)

            let rows = driver.runRows(RunRecord(key: "c1", reference: triggered.reference.driverJSON, observation: last, at: Date()))
            #expect(rows.map(\.label).starts(with: ["Action", "Sync state", "Succeeded at", "Failed at", "Setup state"]), "\(rows)")
            #expect(driver.objectRows(objects).map(\.value) == [connectorID, "postgres", "postgres_shrank_paparazzi", "projected_sickle"])
        }
    }

    @Test("a sync already running counts as the run: the trigger starts none, and its end is the run's end")
    func runningSyncCounts() async throws {
        try await withFivetranSimulator(configuration: testSimulatorConfiguration()) { simulator in
            let driver = try makeDriver(simulator)
            try simulator.startScheduledSync(connector: connectorID)
            let spec = FivetranDriver.Spec(connectorID: connectorID)
            let objects = try await driver.ensure(spec, known: nil)
            let run = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "c1", intentAt: Date()))
            #expect(simulator.counters().syncsStarted[connectorID] == 1, "no second sync")
            finishSyncs(simulator)
            try await eventually("the running sync ends") { try await driver.observe(run.reference, objects: objects)?.phase == .succeeded }
        }
    }

    @Test("a failed sync is a failed run whose error is the connector's task")
    func failedSync() async throws {
        try await withFivetranSimulator(configuration: testSimulatorConfiguration()) { simulator in
            let driver = try makeDriver(simulator)
            simulator.forceOutcome(.failed, forConnector: connectorID, message: "the source refused the connection")
            let spec = FivetranDriver.Spec(connectorID: connectorID)
            let objects = try await driver.ensure(spec, known: nil)
            let run = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "c1", intentAt: Date()))
            var observation: RunObservation?
            finishSyncs(simulator)
            try await eventually("the sync ends") {
                observation = try await driver.observe(run.reference, objects: objects)
                return observation?.phase.isFinished == true
            }
            #expect(observation?.phase == .failed && observation?.vendorStatus == "failed")
            #expect(observation?.error == "sync_failed: the source refused the connection")
            #expect(observation?.details?["failedAt"]?.stringValue != nil)
        }
    }

    @Test("STATUS: a finished look with the status fields; TEST: each test's title, status and message, failed when one fails")
    func statusAndTest() async throws {
        try await withFivetranSimulator(configuration: testSimulatorConfiguration()) { simulator in
            let driver = try makeDriver(simulator)
            let context = TriggerContext(commandID: "c1", intentAt: Date())
            let statusSpec = FivetranDriver.Spec(connectorID: connectorID, action: .status)
            let objects = try await driver.ensure(statusSpec, known: nil)
            let status = try await driver.trigger(statusSpec, objects: objects, context: context)
            #expect(status.observation.phase == .succeeded && status.observation.vendorStatus == "scheduled")
            #expect(status.observation.summary?.hasPrefix("scheduled, last success ") == true)
            #expect(status.observation.details?["setupState"]?.stringValue == "connected" && status.observation.details?["scheduleType"]?.stringValue == "auto")
            #expect(simulator.counters().syncsStarted.isEmpty && simulator.counters().updates.isEmpty)

            let testSpec = FivetranDriver.Spec(connectorID: connectorID, action: .test)
            let passed = try await driver.trigger(testSpec, objects: objects, context: context)
            #expect(passed.observation.phase == .succeeded && passed.observation.summary == "4 setup tests: 4 passed")

            simulator.failSetupTest(.failed, message: "host unreachable", connector: connectorID, runs: 1)
            let failed = try await driver.trigger(testSpec, objects: objects, context: context)
            #expect(failed.observation.phase == .failed && failed.observation.vendorStatus == "broken")
            #expect(failed.observation.error == "\"Connecting to the source\" FAILED: host unreachable")
            let rows = driver.runRows(RunRecord(key: "c1", reference: failed.reference.driverJSON, observation: failed.observation, at: Date()))
            #expect(rows.contains(DetailRow("Setup test Connecting to the source", "FAILED: host unreachable")))
            #expect(rows.contains(DetailRow("Setup test Validating credentials", "PASSED")))

            simulator.failSetupTest(.warning, title: "Checking permissions", runs: 1)
            let warned = try await driver.trigger(testSpec, objects: objects, context: context)
            #expect(warned.observation.phase == .warning)
            #expect(try await driver.runs(since: ResumePoint(commandID: "c1", intentAt: Date(), since: Date(), baseline: nil), spec: testSpec, objects: objects).isEmpty)
        }
    }

    @Test("FORCE_RESYNC: re-syncs the table and follows it; during a sync the baseline waits (transient) and a 409 is transient too")
    func forceResync() async throws {
        try await withFivetranSimulator(configuration: testSimulatorConfiguration()) { simulator in
            let driver = try makeDriver(simulator)
            let spec = FivetranDriver.Spec(connectorID: connectorID, action: .forceResync, schema: "public", table: "orders")
            let objects = try await driver.ensure(spec, known: nil)

            try simulator.startScheduledSync(connector: connectorID)
            let busy = try await expectFailure { _ = try await driver.baseline(spec, objects: objects) }
            #expect(busy.kind == .transient && busy.reason == "connectorBusy", "\(busy)")
            let conflict = try await expectFailure { _ = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "c1", intentAt: Date())) }
            #expect(conflict.kind == .transient && conflict.reason == "connectorBusy" && conflict.message.contains("409"), "\(conflict)")

            finishSyncs(simulator)
            try await eventually("the scheduled sync ends") { try await driver.client.connector(id: connectorID).status.syncState == .scheduled }
            _ = try await driver.baseline(spec, objects: objects)
            let run = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "c1", intentAt: Date()))
            #expect(simulator.counters().tableResyncs[connectorID] == ["public.orders": 1])
            let running = try await driver.observe(run.reference, objects: objects)
            #expect(running?.summary == "syncing (historical re-sync)" && running?.details?["table"]?.stringValue == "public.orders")
            finishSyncs(simulator)
            try await eventually("the re-sync ends") { try await driver.observe(run.reference, objects: objects)?.phase == .succeeded }
        }
    }

    @Test("a sync rescheduled on a manual connector: queued, said so, and asked for again once rescheduled_for has passed")
    func rescheduledManual() async throws {
        try await withFivetranSimulator(configuration: testSimulatorConfiguration()) { simulator in
            let driver = try makeDriver(simulator)
            let spec = FivetranDriver.Spec(connectorID: connectorID)
            let objects = try await driver.ensure(spec, known: nil)
            let baseline = try await driver.baseline(spec, objects: objects)
            // Deferred by ten minutes: not due however slow the test, until the test ends the wait.
            simulator.rescheduleNextSyncs(1, by: .seconds(600))
            let run = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "c1", intentAt: Date()))
            let waiting = try #require(try await driver.observe(run.reference, objects: objects))
            #expect(waiting.phase == .queued && waiting.summary?.hasPrefix("rescheduled until ") == true, "\(waiting)")
            #expect(simulator.counters().syncRequests[connectorID] == 1, "not due: not asked again")
            let point = ResumePoint(commandID: "c1", intentAt: Date(), since: Date(), baseline: baseline)
            #expect(try await driver.runs(since: point, spec: spec, objects: objects).count == 1, "newly rescheduled: the run exists")

            // rescheduled_for becomes now: past, by the driver's clock too.
            try simulator.makeRescheduleDue(connector: connectorID)
            let asked = try #require(try await driver.observe(run.reference, objects: objects))
            #expect(asked.summary?.hasSuffix("sync requested again") == true, "\(asked)")
            #expect(simulator.counters().syncsStarted[connectorID] == 1 && simulator.counters().syncRequests[connectorID] == 2)
            finishSyncs(simulator)
            try await eventually("the sync ends") { try await driver.observe(run.reference, objects: objects)?.phase == .succeeded }
        }
    }

    @Test("configuration: key and secret both required, a clear error for either alone; timeout, schedule and CA variables; nothing secret in descriptions")
    func configuration() throws {
        func error(_ environment: [String: String]) -> ConfigurationError? {
            do {
                _ = try FivetranDriver(configuration: FivetranDriver.Configuration(environment: environment), logger: silentLogger)
                return nil
            } catch {
                return error
            }
        }
        #expect(error(["FIVETRAN_API_KEY": "k"])?.variable == "FIVETRAN_API_SECRET")
        #expect(error(["FIVETRAN_API_KEY": "k"])?.description.contains("goes with FIVETRAN_API_KEY") == true)
        #expect(error(["FIVETRAN_API_SECRET": "s"])?.variable == "FIVETRAN_API_KEY")
        #expect(error([:])?.variable == "FIVETRAN_API_SECRET")
        #expect(error(["FIVETRAN_API_KEY": "k", "FIVETRAN_API_SECRET": "s", "FIVETRAN_TIMEOUT": "later"])?.variable == "FIVETRAN_TIMEOUT")
        #expect(error(["FIVETRAN_API_KEY": "k", "FIVETRAN_API_SECRET": "s", "FIVETRAN_DONT_DISABLE_SYNC": "maybe"])?.variable == "FIVETRAN_DONT_DISABLE_SYNC")
        #expect(error(["FIVETRAN_API_KEY": "k", "FIVETRAN_API_SECRET": "s", "FIVETRAN_SERVICE_URL": "ftp://x"])?.variable == "FIVETRAN_SERVICE_URL")
        #expect(error(["FIVETRAN_API_KEY": "k", "FIVETRAN_API_SECRET": "s", "FIVETRAN_CA_FILE": "/nonexistent/ca.pem"])?.variable == "FIVETRAN_CA_FILE")

        let environment = [
            "FIVETRAN_API_KEY": testKey, "FIVETRAN_API_SECRET": testSecret, "FIVETRAN_TIMEOUT": "600", "FIVETRAN_DONT_DISABLE_SYNC": "true",
            "FIVETRAN_SERVICE_URL": "http://127.0.0.1:9", "ELECTION_CLUSTER_SIZE": "4",
        ]
        let configuration = try FivetranDriver.Configuration(environment: environment)
        #expect(configuration.timeout == .seconds(600) && configuration.keepSchedule && configuration.rateLimit == 5_000)
        let driver = try FivetranDriver(configuration: configuration, logger: silentLogger)
        #expect(driver.defaults == .init(keepSchedule: true, timeout: .seconds(600)))
        var dumped = ""
        dump(configuration, to: &dumped)
        var dumpedDriver = ""
        dump(driver, to: &dumpedDriver)
        for text in [configuration.description, dumped, driver.summary, dumpedDriver, "\(driver.client)", "\(driver.client.configuration)"] {
            #expect(!text.contains(testKey) && !text.contains(testSecret) && !text.contains(testBasic), "leaked: \(text)")
        }
        let made = try FivetranDriver.factory.make(environment, silentLogger)
        #expect(made.type == "fivetran" && made.canCancel == false)
    }
}
