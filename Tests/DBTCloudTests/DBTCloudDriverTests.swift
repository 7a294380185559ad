import DBTCloud
import DBTCloudDriver
import DBTCloudSimulator
import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Testing

/// The `dbtcloud` driver against the simulator: spec, job check, marker, phases, resume check.
@Suite("dbt Cloud driver", .timeLimit(.minutes(1)))
struct DBTCloudDriverTests {
    static func driver(_ client: DBTCloudClient, defaultAccount: Int? = testAccount) -> DBTCloudDriver {
        DBTCloudDriver(client: client, defaultAccountID: defaultAccount)
    }

    static func spec(_ json: JSONValue) throws -> JSONValue { json }

    @Test("the spec: ids as integers or strings of digits, the account from DBT_CLOUD_ACCOUNT_ID when absent, overrides and timeout; what it refuses")
    func decodeSpec() async throws {
        try await withDBTCloud { _, client in
            let driver = Self.driver(client, defaultAccount: 77)
            let full = try driver.decodeSpec([
                "accountId": "12345", "jobId": 43167, "cause": "Nightly", "gitBranch": "main", "stepsOverride": ["dbt run -s orders"],
                "threadsOverride": 8, "retryFromFailure": true, "timeout": "1h30m",
            ])
            #expect(full.accountID == 12_345 && full.jobID == 43_167 && full.cause == "Nightly" && full.gitBranch == "main")
            #expect(full.stepsOverride == ["dbt run -s orders"] && full.threadsOverride == 8 && full.retryFromFailure)
            #expect(full.timeout == .seconds(5_400) && driver.runTimeout(full) == .seconds(5_400))
            let minimal = try driver.decodeSpec(["jobId": "43167"])
            #expect(minimal.accountID == 77 && minimal.jobID == 43_167 && !minimal.retryFromFailure && driver.runTimeout(minimal) == nil)

            let noDefault = Self.driver(client, defaultAccount: nil)
            #expect(throws: VendorFailure.self) { _ = try noDefault.decodeSpec(["jobId": 1]) }
            for bad: JSONValue in [
                ["jobId": "abc"], ["jobId": 0], ["jobId": 1, "timeout": "soon"], ["jobId": 1, "stepsOverride": ["ls"]], ["jobId": 1, "stepsOverride": []],
                [:], ["jobId": 1, "retryFromFailure": "yes"],
            ] {
                #expect(throws: VendorFailure.self, "\(bad)") { _ = try driver.decodeSpec(bad) }
            }
        }
    }

    @Test("the built-in schema: accepts the example's spec and quoted ids; refuses unknown fields, a step that is not dbt, a bad timeout")
    func schema() throws {
        let definition = try ResourceTypeDefinition.dbtCloudDefault()
        #expect(definition.name == "dbtcloud" && definition.isRunnable)
        #expect(definition.natsAPI.command.subject == "dbtcloud.pipeline.run")
        let schema = definition.specSchema
        let valid: [JSONValue] = [
            ["jobId": 43167], ["jobId": "43167", "accountId": "12345"],
            ["jobId": 1, "cause": "c", "gitBranch": "b", "stepsOverride": ["dbt build", "dbt test -s x"], "threadsOverride": 4, "retryFromFailure": false, "timeout": "30m"],
        ]
        for spec in valid { #expect(schema.validate(spec).isEmpty, "\(spec): \(schema.validate(spec))") }
        let invalid: [JSONValue] = [
            [:], ["jobId": "01"], ["jobId": -1], ["jobId": 1, "extra": true], ["jobId": 1, "stepsOverride": ["rm x"]], ["jobId": 1, "timeout": "30 minutes"],
            ["jobId": 1, "threadsOverride": 0],
        ]
        for spec in invalid { #expect(!schema.validate(spec).isEmpty, "\(spec) passed") }
        #expect(DBTCloudDriver.descriptor.type == "dbtcloud" && DBTCloudDriver.descriptor.secretVariable == "DBT_CLOUD_API_TOKEN")
    }

    @Test("examples/dbtcloud.yaml is a valid dbtcloud resource, and its spec decodes")
    func exampleManifest() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let documents = try ManifestLoader.documents(fromFile: root.appendingPathComponent("examples/dbtcloud.yaml").path)
        let manifest = try ResourceManifest(document: try #require(documents.first))
        #expect(manifest.resource.operator == "factory" && manifest.resource.type == "dbtcloud")
        let registry = ResourceTypeRegistry(types: [try ResourceTypeDefinition.dbtCloudDefault()], enabledWorkspaces: [try WorkspaceName("public")])
        #expect(registry.validate(manifest, workspace: try WorkspaceName("public")).isEmpty, "\(registry.validate(manifest))")
        try await withDBTCloud { _, client in
            let spec = try Self.driver(client).decodeSpec(manifest.resource.spec)
            #expect(spec.accountID == 1 && spec.jobID == 43_167 && spec.timeout == .seconds(2_700) && spec.stepsOverride?.count == 2)
        }
    }

    @Test("ensure: the job with its project and environment; a missing job is refused for good (rejected, vendorNotFound) naming its id")
    func ensure() async throws {
        try await withDBTCloud { simulator, client in
            let driver = Self.driver(client)
            let objects = try await driver.ensure(try driver.decodeSpec(["jobId": .id(dailyJob)]), known: nil)
            #expect(objects == DBTCloudDriver.Objects(
                accountID: testAccount, jobID: dailyJob, jobName: "Daily run", projectID: 70_001, projectName: "Analytics", environmentID: 80_001,
                environmentName: "Production", executeSteps: ["dbt seed", "dbt run", "dbt test"]
            ))
            #expect(driver.objectRows(objects).map(\.value) == ["43167 (Daily run)", "12345", "70001 (Analytics)", "80001 (Production)", "dbt seed, dbt run, dbt test"])

            do {
                _ = try await driver.ensure(try driver.decodeSpec(["jobId": 4040]), known: nil)
                Issue.record("a missing job was accepted")
            } catch let error as VendorFailure {
                #expect(error.kind == .rejected && error.reason == "vendorNotFound")
                #expect(error.message.contains("4040") && error.message.contains("does not create"))
            }
            simulator.addJob(DBTCloudSimulator.Job(id: 5050, name: "Old", state: 2))
            await #expect(throws: VendorFailure.self) { _ = try await driver.ensure(try driver.decodeSpec(["jobId": 5050]), known: nil) }
            #expect(simulator.counters().requests("GET /accounts/{accountId}/jobs/{jobId}/", status: 404) == 1, "not retried")
        }
    }

    @Test("the marker: appended to the cause, the human part truncated to keep 255 characters, never the marker; long or odd ids digested")
    func marker() throws {
        let id = String(repeating: "a1", count: 32)
        #expect(DBTCloudMarker.cause(nil, commandID: id) == "Triggered by FactoryOperator [factory:\(id)]")
        #expect(DBTCloudMarker.cause("Nightly refresh", commandID: "run-1") == "Nightly refresh [factory:run-1]")
        let long = String(repeating: "é", count: 400)
        let cause = DBTCloudMarker.cause(long, commandID: id)
        #expect(cause.unicodeScalars.count <= 255)
        #expect(cause.hasSuffix(" [factory:\(id)]") && cause.contains("…"))
        #expect(DBTCloudMarker.carries(cause, commandID: id))
        #expect(!DBTCloudMarker.carries(cause, commandID: String(id.dropLast())))
        #expect(!DBTCloudMarker.carries(DBTCloudMarker.cause("x", commandID: id + "0"), commandID: id))
        let odd = "id with ] and spaces"
        let oddCause = DBTCloudMarker.cause("x", commandID: odd)
        #expect(oddCause.contains("[factory:sha256-") && !oddCause.contains("]]") && DBTCloudMarker.carries(oddCause, commandID: odd))
        let huge = String(repeating: "z", count: 300)
        #expect(DBTCloudMarker.cause("x", commandID: huge).unicodeScalars.count <= 255 && DBTCloudMarker.carries(DBTCloudMarker.cause("x", commandID: huge), commandID: huge))
    }

    @Test("trigger: one run whose cause carries the marker within 255 characters, with the spec's overrides")
    func trigger() async throws {
        try await withDBTCloud { simulator, client in
            let driver = Self.driver(client)
            let spec = try driver.decodeSpec([
                "jobId": .id(dailyJob), "cause": .string(String(repeating: "Long cause ", count: 40)), "gitBranch": "release", "stepsOverride": ["dbt build"],
                "threadsOverride": 2,
            ])
            let objects = try await driver.ensure(spec, known: nil)
            let commandID = String(repeating: "c", count: 64)
            let triggered = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: commandID, intentAt: Date()))
            #expect(triggered.reference.jobID == dailyJob && triggered.observation.phase == .queued)
            #expect(triggered.observation.vendorRunID == String(triggered.reference.runID))
            let record = try #require(simulator.triggerLog().last)
            #expect(record.cause.unicodeScalars.count == 255 && record.cause.hasSuffix("[factory:\(commandID)]"))
            #expect(record.gitBranch == "release" && record.stepsOverride == ["dbt build"] && record.threadsOverride == 2)
        }
    }

    @Test("observe: queued, running with 'step k/n command' and progress, then succeeded; a failing run is failed with its status_message")
    func observe() async throws {
        // Runs of 10 minutes on a frozen clock: the test moves time 30 s per look, so it sees the
        // run queued, each of its five 96 s steps, and its end, however long each look takes.
        try await withDBTCloud { simulator, client in
            let driver = Self.driver(client)
            let spec = try driver.decodeSpec(["jobId": .id(dailyJob)])
            let objects = try await driver.ensure(spec, known: nil)
            simulator.freezeClock()
            let run = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "c1", intentAt: Date())).reference
            var phases: [RunPhase] = []
            var summaries: Set<String> = []
            while true {
                let observation = try #require(try await driver.observe(run, objects: objects))
                if phases.last != observation.phase { phases.append(observation.phase) }
                if let summary = observation.summary { summaries.insert(summary) }
                if observation.phase == .running, let progress = observation.progress { #expect((0...1).contains(progress)) }
                if observation.phase.isFinished {
                    #expect(observation.progress == 1 && observation.error == nil && observation.finishedAt != nil)
                    #expect(observation.details?["href"]?.stringValue?.contains("/runs/\(run.runID)/") == true)
                    #expect(observation.details?["steps"]?.arrayValue?.count == 5)
                    break
                }
                simulator.advanceClock(by: .seconds(30))
            }
            #expect(phases == [.queued, .running, .succeeded], "\(phases)")
            #expect(summaries.contains("step 3/5 dbt seed") || summaries.contains("step 4/5 dbt run"), "\(summaries)")
            #expect(summaries.contains("step 5/5 dbt test"))

            simulator.forceOutcome(.error, nextRuns: 1, statusMessage: "Database Error in model orders")
            let failing = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "c2", intentAt: Date())).reference
            var last: RunObservation?
            finishRuns(simulator)
            try await eventually("the failing run ended") {
                last = try await driver.observe(failing, objects: objects)
                return last?.phase.isFinished == true
            }
            #expect(last?.phase == .failed && last?.vendorStatus == "error" && last?.error == "Database Error in model orders")
            #expect(last?.summary?.hasSuffix("failed") == true, "\(String(describing: last?.summary))")
            #expect(try await driver.observe(DBTCloudDriver.RunReference(accountID: testAccount, jobID: dailyJob, runID: 1), objects: objects) == nil)
        }
    }

    @Test("the resume check finds the run of a crashed trigger by its marker, and not another command's run nor a scheduled one")
    func resumeCheck() async throws {
        try await withDBTCloud { simulator, client in
            let driver = Self.driver(client)
            let spec = try driver.decodeSpec(["jobId": .id(dailyJob)])
            let objects = try await driver.ensure(spec, known: nil)
            let intent = Date()
            // Another command's run and one started by a human, then our trigger whose answer is lost.
            _ = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "other-command", intentAt: intent))
            _ = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "Triggered by a human"))
            simulator.dropTriggerAnswers(1)
            do {
                _ = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "this-command", intentAt: intent))
                Issue.record("the answer was not lost")
            } catch let error as VendorFailure {
                #expect(error.kind == .transient, "a lost answer is worth retrying: \(error)")
            }
            _ = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "later-command", intentAt: intent))

            let point = ResumePoint<DBTCloudDriver.Baseline>(commandID: "this-command", intentAt: intent, since: intent.addingTimeInterval(-5), baseline: DBTCloudDriver.Baseline())
            let found = try await driver.runs(since: point, spec: spec, objects: objects)
            let lost = try #require(simulator.triggerLog().first { $0.answerDropped })
            #expect(found.map(\.reference.runID) == [lost.runID])
            let none = try await driver.runs(
                since: ResumePoint(commandID: "never-triggered", intentAt: intent, since: intent.addingTimeInterval(-5), baseline: DBTCloudDriver.Baseline()),
                spec: spec, objects: objects
            )
            #expect(none.isEmpty)
        }
    }

    @Test("retryFromFailure: after a run in error the trigger reruns from the failed step; the resume check finds a lost rerun by the baseline")
    func retryFromFailure() async throws {
        try await withDBTCloud { simulator, client in
            let driver = Self.driver(client)
            let spec = try driver.decodeSpec(["jobId": .id(dailyJob), "retryFromFailure": true])
            let objects = try await driver.ensure(spec, known: nil)

            // No failed run yet: a normal trigger with the marker.
            #expect(try await driver.baseline(spec, objects: objects) == DBTCloudDriver.Baseline())
            simulator.forceOutcome(.error, nextRuns: 1)
            let first = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "first", intentAt: Date())).reference
            #expect(simulator.triggerLog().last?.kind == "run")
            finishRuns(simulator)
            _ = try await client.waitForRun(account: testAccount, id: first.runID, pollInterval: .milliseconds(20), timeout: .seconds(30))

            let baseline = try await driver.baseline(spec, objects: objects)
            #expect(baseline == DBTCloudDriver.Baseline(latestRunID: first.runID, latestStatus: 20))
            let intent = Date()
            simulator.dropTriggerAnswers(1)
            await #expect(throws: VendorFailure.self) {
                _ = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "second", intentAt: intent))
            }
            #expect(simulator.triggerLog().last?.kind == "rerun")
            let found = try await driver.runs(
                since: ResumePoint(commandID: "second", intentAt: intent, since: intent.addingTimeInterval(-5), baseline: baseline), spec: spec, objects: objects
            )
            #expect(found.map(\.reference.runID) == [try #require(simulator.triggerLog().last?.runID)])
            // Without the baseline's error, an unmarked run is nobody's.
            let unrelated = try await driver.runs(
                since: ResumePoint(commandID: "second", intentAt: intent, since: intent.addingTimeInterval(-5), baseline: DBTCloudDriver.Baseline()),
                spec: spec, objects: objects
            )
            #expect(unrelated.isEmpty)
        }
    }

    @Test("cancel: a running run ends cancelled at dbt Cloud; detail rows show its page and each step")
    func cancelAndRows() async throws {
        try await withDBTCloud { simulator, client in
            let driver = Self.driver(client)
            #expect(driver.canCancel)
            let spec = try driver.decodeSpec(["jobId": .id(hourlyJob)])
            let objects = try await driver.ensure(spec, known: nil)
            let run = try await driver.trigger(spec, objects: objects, context: TriggerContext(commandID: "c", intentAt: Date())).reference
            try await driver.cancel(run, objects: objects)
            #expect(simulator.runStatus(id: run.runID) == 30)
            let observation = try #require(try await driver.observe(run, objects: objects))
            #expect(observation.phase == .cancelled && observation.error != nil)
            var record = RunRecord(key: "c", reference: run.driverJSON, observation: observation, at: Date())
            record.details = observation.details
            let rows = driver.runRows(record)
            #expect(rows.first?.label == "Run page" && rows.first?.value.contains("/runs/\(run.runID)/") == true)
            #expect(rows.contains { $0.label == "dbt Cloud status" && $0.value == "Cancelled (30)" })
            #expect(rows.filter { $0.label.hasPrefix("Step ") }.count == 3)
            await #expect(throws: VendorFailure.self) {
                try await driver.cancel(DBTCloudDriver.RunReference(accountID: testAccount, jobID: hourlyJob, runID: 1), objects: objects)
            }
        }
    }

    @Test("the driver's configuration: the token required, the account a number, the URL http(s), the CA file readable; never the token in descriptions")
    func configuration() throws {
        #expect(throws: ConfigurationError.self) { _ = try DBTCloudDriver(configuration: .init(environment: [:]), logger: silentLogger) }
        #expect(throws: ConfigurationError.self) { _ = try DBTCloudDriver.Configuration(environment: ["DBT_CLOUD_ACCOUNT_ID": "acme"]) }
        #expect(throws: ConfigurationError.self) { _ = try DBTCloudDriver.Configuration(environment: ["DBT_CLOUD_SERVICE_URL": "cloud.getdbt.com"]) }
        #expect(throws: ConfigurationError.self) { _ = try DBTCloudDriver.Configuration(environment: ["DBT_CLOUD_CA_FILE": "/nonexistent/ca.pem"]) }
        let configuration = try DBTCloudDriver.Configuration(environment: [
            "DBT_CLOUD_API_TOKEN": testToken, "DBT_CLOUD_ACCOUNT_ID": "12345", "DBT_CLOUD_SERVICE_URL": "https://ab123.us1.dbt.com", "ELECTION_CLUSTER_SIZE": "2",
        ])
        #expect(configuration.accountID == 12_345 && configuration.rateLimit == 2_500 && configuration.rateLimitWindow == .seconds(60))
        let driver = try DBTCloudDriver(configuration: configuration, logger: silentLogger)
        #expect(driver.defaultAccountID == 12_345)
        for text in [configuration.description, driver.summary, String(describing: driver.client)] {
            #expect(!text.contains(testToken), "\(text)")
        }
        let made = try DBTCloudDriver.factory.make(["DBT_CLOUD_API_TOKEN": testToken], silentLogger)
        #expect(made.type == "dbtcloud" && made.canCancel)
    }
}
