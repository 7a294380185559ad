@testable import CensusDriver
import Census
import CensusSimulator
import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Testing
import VendorHTTP

/// The `census` driver against the simulator: spec, ensure, phases, the resume check, timeouts,
/// configuration.
@Suite("Census driver", .timeLimit(.minutes(1)))
struct CensusDriverTests {
    static func driver(_ client: CensusClient) -> CensusDriver { CensusDriver(client: client) }

    static func spec(_ json: String) throws -> JSONValue { try JSONValue(parsing: json) }

    @Test("the spec schema compiles and accepts an integer or digits; the driver reads forceFullSync and timeout")
    func specs() throws {
        let definition = CensusDriver.descriptor.definition
        #expect(definition.name == "census" && definition.isRunnable)
        #expect(definition.natsAPI == DeploymentNames.standard(type: "census").natsAPI)
        let schema = definition.specSchema
        for good in [#"{"syncId": 61}"#, #"{"syncId": "61", "forceFullSync": true, "timeout": "1h30m"}"#, #"{"syncId": "0042", "timeout": "500ms"}"#] {
            #expect(schema.validate(try Self.spec(good)).isEmpty, "\(good)")
        }
        for bad in [#"{}"#, #"{"syncId": "sixty-one"}"#, #"{"syncId": 0}"#, #"{"syncId": 1.5}"#, #"{"syncId": 61, "timeout": "soon"}"#, #"{"syncId": 61, "forceFullSync": "yes"}"#, #"{"syncId": 61, "extra": 1}"#] {
            #expect(!schema.validate(try Self.spec(bad)).isEmpty, "\(bad) should be refused by the schema")
        }
        let driver = CensusDriver(client: try CensusClient(configuration: .init(token: VendorSecret("t")), logger: silentLogger))
        let decoded = try driver.decodeSpec(try Self.spec(#"{"syncId": "0042", "forceFullSync": true, "timeout": "1h30m"}"#))
        #expect(decoded == CensusDriver.Spec(syncID: 42, forceFullSync: true, timeout: .seconds(5400)))
        #expect(try driver.decodeSpec(try Self.spec(#"{"syncId": 61}"#)) == CensusDriver.Spec(syncID: 61, forceFullSync: false, timeout: nil))
        // What a looser operator manifest could let through is still refused, naming the field.
        for (bad, pointer) in [(#"{"syncId": "x"}"#, "/spec/syncId"), (#"{"syncId": 61, "timeout": "0s"}"#, "/spec/timeout"), (#"{}"#, "/spec/syncId")] {
            let json = try Self.spec(bad)
            do throws(VendorFailure) {
                _ = try driver.decodeSpec(json)
                Issue.record("\(bad) should be refused")
            } catch {
                #expect(error.kind == .rejected && error.message.hasPrefix(pointer), "\(error)")
            }
        }
    }

    @Test("Census keeps no trigger baseline: the engine's view of the driver has none, so a resumed command is never taken for a fresh one")
    func noBaseline() async throws {
        let driver = AnyResourceDriver(CensusDriver(client: try CensusClient(configuration: .init(token: VendorSecret("t")), logger: silentLogger)))
        let spec = try driver.prepare(spec: try Self.spec(#"{"syncId": 61}"#))
        let objects = CensusDriver.Objects(syncID: "61").driverJSON
        let baseline = try await driver.baseline(spec: spec, objects: objects)
        #expect(baseline == nil, "\(String(describing: baseline))")
    }

    @Test("runTimeout: the spec's timeout, else a day")
    func timeouts() throws {
        let driver = CensusDriver(client: try CensusClient(configuration: .init(token: VendorSecret("t")), logger: silentLogger))
        #expect(driver.runTimeout(CensusDriver.Spec(syncID: 1, timeout: .seconds(90))) == .seconds(90))
        #expect(driver.runTimeout(CensusDriver.Spec(syncID: 1)) == .seconds(86_400))
        #expect(!driver.canCancel)
    }

    @Test("ensure records the sync and its connections; a missing sync is refused for good, naming its id")
    func ensure() async throws {
        try await withCensus { simulator, client in
            let driver = Self.driver(client)
            let objects = try await driver.ensure(CensusDriver.Spec(syncID: 61), known: nil)
            var withoutLineage = objects
            (withoutLineage.sourceObject, withoutLineage.destinationObject, withoutLineage.mappings) = (nil, nil, nil)
            #expect(withoutLineage == CensusDriver.Objects(syncID: "61", label: "Users to Braze", operation: "upsert", sourceConnectionID: "4", destinationConnectionID: "15"))
            // What the lineage events need, as Census gave it.
            #expect(objects.destinationObject?.stringValue == "user" && objects.mappings?.arrayValue?.isEmpty == false)
            #expect(driver.objectRows(objects) == [
                DetailRow("Sync", "61 (Users to Braze)"), DetailRow("Operation", "upsert"), DetailRow("Source connection", "4"), DetailRow("Destination connection", "15"),
            ])
            #expect(try CensusDriver.Objects(driverJSON: objects.driverJSON) == objects, "stored as JSON and read back")
            do throws(VendorFailure) {
                _ = try await driver.ensure(CensusDriver.Spec(syncID: 4242), known: nil)
                Issue.record("a missing sync was accepted")
            } catch {
                #expect(error.kind == .rejected && error.reason == "vendorNotFound")
                #expect(error.message.contains("Census sync 4242 does not exist") && error.message.contains("spec.syncId"))
            }
            #expect(simulator.counters().requests("GET /syncs/{sync_id}", status: 404) == 1, "asked once, not retried")
            try await driver.retire(objects, spec: nil)
            #expect(simulator.counters().totalRequests == 2, "retire touches nothing at Census")
        }
    }

    @Test("a refused token is .unauthorized (retried by the engine) and says which variable to check")
    func unauthorized() async throws {
        try await withCensus(client: { $0.token = VendorSecret("wrong") }) { _, client in
            do throws(VendorFailure) {
                _ = try await Self.driver(client).ensure(CensusDriver.Spec(syncID: 61), known: nil)
                Issue.record("expected a failure")
            } catch {
                #expect(error.kind == .unauthorized && error.message.contains("CENSUS_API_TOKEN"))
            }
        }
    }

    @Test("phases: queued → queued, working → running, completed → succeeded, with a summary and progress")
    func phases() async throws {
        // The clock is frozen: only the test moves it, a second per look, so the looks land in
        // each phase however long the requests take.
        try await withCensus(knobs: { $0.runDuration = .seconds(10); $0.queueDelay = .seconds(1) }) { simulator, client in
            let driver = Self.driver(client)
            let spec = CensusDriver.Spec(syncID: 61, forceFullSync: true)
            let objects = try await driver.ensure(spec, known: nil)
            simulator.freezeClock()
            let triggered = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "c1", intentAt: Date()))
            #expect(triggered.observation.phase == .queued && triggered.reference.syncID == "61")
            #expect(simulator.triggerLog().last?.forceFullSync == true && simulator.triggerLog().last?.via == "query")
            var phases: [RunPhase] = []
            var last: RunObservation?
            for _ in 0..<20 {
                let look = try #require(try await driver.observe(triggered.reference, objects: objects))
                if phases.last != look.phase { phases.append(look.phase) }
                last = look
                if look.phase.isFinished { break }
                simulator.advanceClock(by: .seconds(1))
            }
            #expect(phases == [.queued, .running, .succeeded])
            let ended = try #require(last)
            #expect(ended.vendorStatus == "completed" && ended.vendorRunID == triggered.reference.runID && ended.progress == 1)
            #expect(ended.finishedAt != nil && ended.createdAt != nil && ended.error == nil)
            let processed = try #require(ended.details?["recordsProcessed"]?.numberValue?.intValue)
            #expect(ended.summary == "records \(processed)/\(processed)")
            #expect(ended.details?["fullSync"]?.boolValue == true)
            let record = RunRecord(key: "c1", reference: triggered.reference.driverJSON, observation: ended, at: Date())
            #expect(driver.runRows(record).first == DetailRow("Records processed", String(processed)))
            #expect(driver.runRows(record).contains(DetailRow("Full sync", "yes")))
        }
    }

    @Test("completed with rejected or invalid records is a warning; failed is failed with Census's message; skipped is cancelled with its reason")
    func endings() async throws {
        try await withCensus(knobs: { $0.runDuration = .zero; $0.skipAfter = .zero }) { simulator, client in
            let driver = Self.driver(client)
            let spec = CensusDriver.Spec(syncID: 61)
            let objects = try await driver.ensure(spec, known: nil)
            func run() async throws -> RunObservation {
                let triggered = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: UUID().uuidString, intentAt: Date()))
                return try #require(try await driver.observe(triggered.reference, objects: objects))
            }
            simulator.updateKnobs { $0.failedRecordRate = 0.01; $0.invalidRecordRate = 0.02 }
            let warning = try await run()
            #expect(warning.phase == .warning && warning.vendorStatus == "completed")
            let failed = try #require(warning.details?["recordsFailed"]?.numberValue?.intValue)
            let invalid = try #require(warning.details?["recordsInvalid"]?.numberValue?.intValue)
            #expect(warning.summary?.hasSuffix(", \(failed) failed, \(invalid) invalid") == true, "\(warning.summary ?? "")")

            simulator.updateKnobs { $0.failedRecordRate = 0; $0.invalidRecordRate = 0 }
            simulator.forceOutcome(.failed, error: "Braze answered 400")
            let failure = try await run()
            #expect(failure.phase == .failed && failure.error == "Braze answered 400 (DESTINATION_ERROR)")
            #expect(failure.details?["errorDetail"]?.stringValue?.contains("Braze answered 400") == true)

            simulator.forceOutcome(.skipped)
            let skipped = try await run()
            #expect(skipped.phase == .cancelled && skipped.vendorStatus == "skipped")
            #expect(skipped.error == "skipped: an earlier run of sync 61 was still running")
        }
    }

    @Test("phase mapping of every status word, including the retired preparing and a word Census may add")
    func phaseMapping() throws {
        func run(_ json: String) throws -> CensusSyncRun { try JSONDecoder().decode(CensusSyncRun.self, from: Data(json.utf8)) }
        let cases: [(String, RunPhase)] = [
            (#"{"id": 1, "status": "queued"}"#, .queued),
            (#"{"id": 1, "status": "preparing"}"#, .queued),
            (#"{"id": 1, "status": "working", "records_processed": 10, "records_updated": 4, "records_failed": 1}"#, .running),
            (#"{"id": 1, "status": "completed", "records_processed": 10, "records_updated": 10, "records_failed": 0, "records_invalid": 0}"#, .succeeded),
            (#"{"id": 1, "status": "completed", "records_failed": 0, "records_invalid": 3}"#, .warning),
            (#"{"id": 1, "status": "failed", "records_processed": null}"#, .failed),
            (#"{"id": 1, "status": "skipped"}"#, .cancelled),
            (#"{"id": 1, "status": "rebalancing"}"#, .running),
        ]
        for (json, phase) in cases {
            #expect(CensusDriver.phase(try run(json)) == phase, "\(json)")
        }
        let working = CensusDriver.observation(try run(cases[2].0))
        #expect(working.progress == 0.5 && working.summary == "records 4/10, 1 failed")
        #expect(CensusDriver.observation(try run(cases[0].0)).summary == nil)
    }

    @Test("the resume check finds a crashed trigger's run and not an older one")
    func resumeCheck() async throws {
        try await withCensus(knobs: { $0.runDuration = .seconds(30) }) { simulator, client in
            let driver = Self.driver(client)
            let spec = CensusDriver.Spec(syncID: 61)
            let objects = try await driver.ensure(spec, known: nil)
            _ = try simulator.addPastRun(syncID: 61, ago: .seconds(3600))
            let older = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "old", intentAt: Date()))
            // A minute later (simulated), a trigger whose answer is lost.
            simulator.advanceClock(by: .seconds(60))
            let intent = Date().addingTimeInterval(60)
            simulator.loseTriggerAnswers(1)
            do throws(VendorFailure) {
                _ = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "new", intentAt: intent))
                Issue.record("the lost answer should fail the trigger")
            } catch {
                #expect(error.kind == .transient, "an unknown outcome is retried, with the resume check first: \(error)")
            }
            let point = ResumePoint<NoBaseline>(commandID: "new", intentAt: intent, since: intent.addingTimeInterval(-5), baseline: nil)
            let found = try await driver.runs(since: point, spec: spec, objects: objects)
            let lost = try #require(simulator.triggerLog().last?.runID)
            #expect(found.map(\.reference.runID) == [String(lost)], "only the lost trigger's run, not \(older.reference.runID) nor the past run")
            #expect(found.first?.observation.vendorRunID == String(lost))
            #expect(simulator.counters().totalTriggers == 2)
        }
    }

    @Test("observing a run Census no longer knows is nil; a run of a deleted sync still reads by id")
    func observeMissing() async throws {
        try await withCensus { simulator, client in
            let driver = Self.driver(client)
            let objects = CensusDriver.Objects(syncID: "61")
            #expect(try await driver.observe(CensusDriver.RunReference(syncID: "61", runID: "999999999"), objects: objects) == nil)
            let triggered = try await driver.trigger(CensusDriver.Spec(syncID: 61), objects: objects, context: TriggerContext(commandID: "c", intentAt: Date()))
            simulator.removeSync(id: 61)
            #expect(try await driver.observe(triggered.reference, objects: objects) != nil)
            do throws(VendorFailure) {
                _ = try await driver.trigger(CensusDriver.Spec(syncID: 61), objects: objects, context: TriggerContext(commandID: "d", intentAt: Date()))
                Issue.record("a trigger of a deleted sync should be refused")
            } catch {
                #expect(error.kind == .rejected && error.reason == "vendorNotFound")
            }
        }
    }

    @Test("configuration from the environment: defaults, the token required, a bad URL, CA file or limit named")
    func configuration() throws {
        let defaults = try CensusDriver.Configuration(environment: ["CENSUS_API_TOKEN": "secret-token:abc", "ELECTION_CLUSTER_SIZE": "4"])
        #expect(defaults.serviceURL == "https://app.getcensus.com" && defaults.rateLimit == 25 && defaults.rateLimitWindow == .seconds(10) && defaults.caFile == nil)
        #expect(!defaults.description.contains("abc"))
        let token = "secret-token:tok-9d2f"
        let failures: [([String: String], String)] = [
            ([:], "CENSUS_API_TOKEN"),
            (["CENSUS_API_TOKEN": token, "CENSUS_SERVICE_URL": "ftp://x"], "CENSUS_SERVICE_URL"),
            (["CENSUS_API_TOKEN": token, "CENSUS_SERVICE_URL": "https://app.getcensus.com/api/v1"], "CENSUS_SERVICE_URL"),
            (["CENSUS_API_TOKEN": token, "CENSUS_CA_FILE": "/nonexistent/ca.pem"], "CENSUS_CA_FILE"),
            (["CENSUS_API_TOKEN": token, "CENSUS_RATE_LIMIT": "0"], "CENSUS_RATE_LIMIT"),
            (["CENSUS_API_TOKEN": token, "CENSUS_RATE_LIMIT_WINDOW": "soon"], "CENSUS_RATE_LIMIT_WINDOW"),
        ]
        for (environment, variable) in failures {
            do throws(ConfigurationError) {
                _ = try CensusDriver.factory.make(environment, silentLogger)
                Issue.record("\(environment) should be refused")
            } catch {
                #expect(error.variable == variable, "\(error)")
                #expect(!error.description.contains("tok-9d2f"), "the token never appears in a configuration error")
            }
        }
        // A readable file that is not PEM is refused when the client is made, naming the variable.
        let notPEM = FileManager.default.temporaryDirectory.appendingPathComponent("census-not-pem-\(UUID().uuidString).pem").path
        try "not a certificate".write(toFile: notPEM, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: notPEM) }
        do throws(ConfigurationError) {
            _ = try CensusDriver.factory.make(["CENSUS_API_TOKEN": token, "CENSUS_CA_FILE": notPEM], silentLogger)
            Issue.record("a CA file that is not PEM should be refused")
        } catch {
            #expect(error.variable == "CENSUS_CA_FILE" && error.description.contains("PEM"), "\(error)")
        }
        let driver = try CensusDriver.factory.make(["CENSUS_API_TOKEN": "secret-token:abc", "CENSUS_SERVICE_URL": "http://127.0.0.1:9"], silentLogger)
        #expect(driver.type == "census" && !driver.canCancel && !driver.summary.contains("abc"))
        #expect(CensusDriver.factory.descriptor.secretVariable == "CENSUS_API_TOKEN")
        #expect(CensusDriver.factory.descriptor.names.commandSubject == "census.pipeline.run")
    }
}

@Suite("Census: the example manifest")
struct CensusExampleTests {
    @Test("examples/census.yaml is a valid census resource and the driver reads its spec")
    func example() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try ManifestLoader.readText(fromFile: root.appendingPathComponent("examples/census.yaml").path)
        let manifest = try ResourceManifest.load(from: text)
        #expect(manifest.resource.type == "census" && manifest.resource.operator == "factory")
        let registry = ResourceTypeRegistry(types: [try ResourceTypeDefinition.censusDefault()], enabledWorkspaces: [try WorkspaceName("public")])
        #expect(registry.validate(manifest, workspace: try WorkspaceName("public")).isEmpty)
        let driver = CensusDriver(client: try CensusClient(configuration: .init(token: VendorSecret("t")), logger: silentLogger))
        #expect(try driver.decodeSpec(manifest.resource.spec) == CensusDriver.Spec(syncID: 61, forceFullSync: false, timeout: .seconds(7200)))
    }
}
