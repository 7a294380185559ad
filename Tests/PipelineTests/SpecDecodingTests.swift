import Foundation
import JSONSchema
import Testing

@testable import Pipelines

@Suite("Pipeline specs: decoding and validation")
struct SpecDecodingTests {
    static let types: Set<String> = ["hightouch", "http", "fivetran", "dbtcloud", "census"]

    static func decode(_ text: String, name: String = "daily-revenue") -> Result<PipelineSpec, PipelineSpecErrors> {
        guard let json = try? JSONValue(parsing: text) else { return .failure(PipelineSpecErrors(problems: [PipelineSpecProblem(.root, "not JSON")])) }
        return PipelineSpec.decode(json, context: PipelineValidationContext(pipelineName: name, resourceTypes: types))
    }

    static func problems(_ text: String) -> [String] {
        switch decode(text) {
        case .success: return []
        case .failure(let errors): return errors.problems.map(\.description)
        }
    }

    /// DESIGN.md's example, as JSON.
    static let design = """
        {"inputs": [
           {"name": "orders-landed", "nats": {"stream": "EVENTS", "subject": "events.orders.landed"}},
           {"name": "config-changed", "kv": {"bucket": "hightouch-operator-state", "key": "status.public.*", "operations": ["put"]}},
           {"name": "nightly", "schedule": {"cron": "0 2 * * *", "timezone": "UTC"}},
           {"name": "after-ingest", "pipeline": {"name": "raw-ingest", "results": ["succeeded", "warning"]}}],
         "concurrency": {"limit": 1, "onOverlap": "queue"},
         "timeout": "2h",
         "defaults": {"timeout": "30m", "retries": {"limit": 2, "backoff": "exponential", "delay": "30s", "maxDelay": "10m", "on": ["api_error", "timeout"]}},
         "stages": [
           {"name": "ingest", "tasks": [{"name": "salesforce", "integration": "fivetran", "job": "fivetran_sync_all", "parameters": {"connectorId": "ambush_prettiest"}, "timeout": "300s"}]},
           {"name": "transform", "dependsOn": ["ingest"], "core": ["dbt-build"], "tasks": [
             {"name": "dbt-build", "integration": "dbtcloud", "job": "dbt_runjob", "parameters": {"accountId": 1, "jobId": 123456}},
             {"name": "freshness", "integration": "http", "job": "http_request", "parameters": {"baseUrl": "https://checks.example.com", "method": "POST", "endpoint": "/check"}, "failureIsWarning": true}]},
           {"name": "activate", "dependsOn": ["transform"], "tasks": [
             {"name": "crm", "resource": "pipeline-01"},
             {"name": "ads", "integration": "census", "job": "census_sync", "parameters": {"syncId": 12345}}]},
           {"name": "notify-failure", "dependsOn": ["ingest", "transform", "activate"], "triggerRule": "one_failed",
            "tasks": [{"name": "page", "integration": "http", "job": "http_request", "parameters": {"baseUrl": "https://pager.example.com", "method": "POST", "endpoint": "/page?run=${run.id}"}}]}],
         "finally": [{"name": "audit", "integration": "http", "job": "http_request", "parameters": {"baseUrl": "https://audit.example.com", "method": "POST", "endpoint": "/audit", "body": {"order": "${event.payload./order/id}"}}}]}
        """

    @Test("DESIGN.md's example decodes with every field")
    func designExample() throws {
        let spec = try Self.decode(Self.design).get()
        #expect(spec.stages.map(\.name) == ["ingest", "transform", "activate", "notify-failure"])
        #expect(spec.stages[1].core == ["dbt-build"] && spec.stages[3].triggerRule == .oneFailed)
        #expect(spec.timeout == .seconds(7200) && spec.defaults.timeout == .seconds(1800))
        #expect(spec.defaults.retries == .init(limit: 2, backoff: .exponential, delay: .seconds(30), maxDelay: .seconds(600), on: [.apiError, .timeout]))
        #expect(spec.inputs.count == 4 && spec.finally.map(\.name) == ["audit"])
        #expect(spec.task(named: "crm")?.work == .resource(name: "pipeline-01", type: nil))
        #expect(spec.task(named: "freshness")?.failureIsWarning == true)
        #expect(spec.timeout(of: try #require(spec.task(named: "salesforce"))) == .seconds(300))
        if case .schedule(let cron) = spec.inputs[2].source { #expect(cron.expression == "0 2 * * *") } else { Issue.record("schedule") }
        #expect(IntegrationJobs.spec(integration: "fivetran", job: "fivetran_sync_all", parameters: ["connectorId": "x"]) == ["connectorId": "x", "action": "START"])
    }

    @Test("every problem is reported with its path", arguments: [
        (#"{"stages": [{"name": "a", "dependsOn": ["b"], "tasks": [{"name": "t1", "resource": "x"}]}, {"name": "b", "dependsOn": ["a"], "tasks": [{"name": "t2", "resource": "y"}]}]}"#, "/stages/0/dependsOn: a cycle: a → b → a"),
        (#"{"stages": [{"name": "a", "dependsOn": ["nope"], "tasks": [{"name": "t", "resource": "x"}]}]}"#, #"/stages/0/dependsOn/0: no stage is named "nope""#),
        (#"{"stages": [{"name": "a", "tasks": [{"name": "t", "resource": "x"}, {"name": "t", "resource": "y"}]}]}"#, #"/stages/0/tasks/1/name: task name "t" is used twice"#),
        (#"{"stages": [{"name": "a", "tasks": [{"name": "t", "resource": "x"}]}, {"name": "a", "tasks": [{"name": "u", "resource": "x"}]}]}"#, #"/stages/1/name: "a" is also the name of stage 0"#),
        (#"{"stages": [{"name": "a", "tasks": [{"name": "t", "integration": "airbyte", "job": "sync"}]}]}"#, #"/stages/0/tasks/0/integration: unknown integration "airbyte""#),
        (#"{"stages": [{"name": "a", "tasks": [{"name": "t", "integration": "dbtcloud", "job": "dbt_build"}]}]}"#, #"/stages/0/tasks/0/job: dbtcloud has no job "dbt_build""#),
        (#"{"stages": [{"name": "a", "tasks": [{"name": "t", "integration": "http", "job": "http_request", "parameters": {"endpoint": "/x/${event.nope}"}}]}]}"#, "/stages/0/tasks/0/parameters/endpoint: ${event.nope} is not a known reference"),
        (#"{"stages": [{"name": "a", "tasks": [{"name": "t", "integration": "http", "job": "http_request", "parameters": {"body": {"id": "${event.payload.order}"}}}]}]}"#, "/stages/0/tasks/0/parameters/body/id: ${event.payload.order}: \"order\" is not a JSON pointer"),
        (#"{"stages": [{"name": "a", "core": ["zz"], "tasks": [{"name": "t", "resource": "x"}]}]}"#, #"/stages/0/core: "zz" is not a task of this stage"#),
        (#"{"stages": [{"name": "a", "triggerRule": "all_good", "tasks": [{"name": "t", "resource": "x"}]}]}"#, #"/stages/0/triggerRule: "all_good" is not one of all_success"#),
        (#"{"stages": [{"name": "a", "tasks": [{"name": "t", "resource": "x", "timeout": "soon"}]}]}"#, "/stages/0/tasks/0/timeout: expected a positive duration"),
        (#"{"stages": [{"name": "a", "tasks": [{"name": "t", "resource": "x", "retries": {"on": ["always"]}}]}]}"#, #"/stages/0/tasks/0/retries/on/0: "always" is not one of api_error, timeout, job_failed"#),
        (#"{"inputs": [{"name": "n", "schedule": {"cron": "61 * * * *"}}], "stages": [{"name": "a", "tasks": [{"name": "t", "resource": "x"}]}]}"#, #"/inputs/0/schedule: minute "61" is not in 0-59"#),
        (#"{"inputs": [{"name": "n", "schedule": {"cron": "0 2 * * *", "timezone": "Mars/Olympus"}}], "stages": [{"name": "a", "tasks": [{"name": "t", "resource": "x"}]}]}"#, "/inputs/0/schedule: unknown time zone Mars/Olympus"),
        (#"{"inputs": [{"name": "n", "nats": {"stream": "S", "subject": "a..b"}}], "stages": [{"name": "a", "tasks": [{"name": "t", "resource": "x"}]}]}"#, #"/inputs/0/nats/subject: "a..b" is not a NATS subject"#),
        (#"{"inputs": [{"name": "n", "nats": {"stream": "S", "subject": "a"}, "kv": {"bucket": "b", "key": "k"}}], "stages": [{"name": "a", "tasks": [{"name": "t", "resource": "x"}]}]}"#, "/inputs/0: an input has exactly one of nats, kv, schedule, pipeline"),
        (#"{"stages": [{"name": "a", "tasks": [{"name": "a-very-long-task-name-that-is-long-enough-to-overflow", "resource": "x"}]}]}"#, "breaks the name rule"),
        (#"{"stages": [{"name": "a", "tasks": [{"name": "t", "resource": "x", "integration": "http"}]}]}"#, "/stages/0/tasks/0: a task either runs an applied resource"),
        (#"{"stages": [{"name": "a", "tasks": [{"name": "t", "resource": "x"}]}], "extra": 1}"#, "/extra: unknown field"),
        (#"{"stages": []}"#, "/stages: expected a non-empty list of stages"),
        (#"{"concurrency": {"limit": 1, "onOverlap": "drop"}, "stages": [{"name": "a", "tasks": [{"name": "t", "resource": "x"}]}]}"#, #"/concurrency/onOverlap: "drop" is not one of queue, skip, cancel-previous, parallel"#),
    ])
    func refused(_ text: String, _ expected: String) {
        let problems = Self.problems(text)
        #expect(problems.contains { $0.hasPrefix(expected) || $0.contains(expected) }, "\(problems)")
    }

    @Test("a task's spec is checked by its type: problems point into its parameters")
    func typeChecks() {
        let context = PipelineValidationContext(pipelineName: "p", resourceTypes: Self.types) { type, spec in
            type == "dbtcloud" && spec.objectValue?["jobId"] == nil ? [(JSONPointer(tokens: ["jobId"]), "required")] : []
        }
        let json = try? JSONValue(parsing: #"{"stages": [{"name": "a", "tasks": [{"name": "t", "integration": "dbtcloud", "job": "dbt_runjob", "parameters": {}}]}]}"#)
        guard let json, case .failure(let errors) = PipelineSpec.decode(json, context: context) else {
            Issue.record("accepted")
            return
        }
        #expect(errors.problems.map(\.description) == ["/stages/0/tasks/0/parameters/jobId: required"])
    }
}

@Suite("Cron schedules")
struct CronTests {
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text) ?? .distantPast }

    @Test("next slots", arguments: [
        ("0 2 * * *", "UTC", "2026-12-04T10:00:00Z", "2026-12-05T02:00:00Z"),
        ("*/15 * * * *", "UTC", "2026-12-04T10:07:30Z", "2026-12-04T10:15:00Z"),
        ("0 9 * * MON-FRI", "UTC", "2026-12-04T10:00:00Z", "2026-12-07T09:00:00Z"),
        ("30 1 1 JAN *", "UTC", "2026-12-04T10:00:00Z", "2027-01-01T01:30:00Z"),
        ("0 2 * * *", "Europe/Berlin", "2026-12-04T10:00:00Z", "2026-12-05T01:00:00Z"),
        ("@hourly", "UTC", "2026-12-04T10:00:00Z", "2026-12-04T11:00:00Z"),
        ("0 0 13 * 5", "UTC", "2026-12-04T10:00:00Z", "2026-12-11T00:00:00Z"),
        // 02:30 does not exist in Berlin on 2027-03-28 (clocks jump from 02:00 to 03:00).
        ("30 2 28 3 *", "Europe/Berlin", "2027-03-01T00:00:00Z", "2028-03-28T00:30:00Z"),
    ])
    func next(_ expression: String, _ zone: String, _ after: String, _ expected: String) throws {
        let cron = try CronSchedule(expression, timeZone: zone)
        #expect(cron.next(after: Self.date(after)) == Self.date(expected), "\(expression) after \(after)")
    }

    @Test("30 February never comes")
    func never() throws {
        #expect(try CronSchedule("0 0 30 2 *").next(after: Date()) == nil)
    }
}

@Suite("Parameter templates")
struct TemplateTests {
    static let context = ParameterTemplate.Context(
        runID: "run-7", pipeline: "daily", workspace: "public",
        event: ["subject": "events.orders.landed", "sequence": 42, "payload": ["order": ["id": 1001, "tags": ["a"]]]]
    )

    @Test("a lone reference keeps its JSON type; inside text it is written as text; $${ is literal")
    func render() throws {
        let rendered = try ParameterTemplate.render(
            ["id": "${event.payload./order/id}", "path": "/orders/${event.payload./order/id}?run=${run.id}", "tags": "${event.payload./order/tags}", "raw": "$${not}", "n": 3],
            Self.context
        )
        #expect(rendered == ["id": 1001, "path": "/orders/1001?run=run-7", "tags": ["a"], "raw": "${not}", "n": 3])
    }

    @Test("what the event lacks, or a payload that is not JSON, is a clear problem")
    func problems() {
        #expect(throws: ParameterTemplate.Problem.self) { try ParameterTemplate.render("${event.key}", Self.context) }
        let notJSON = ParameterTemplate.Context(runID: "r", pipeline: "p", workspace: "w", event: ["payload": "plain text"])
        do {
            _ = try ParameterTemplate.render("${event.payload./id}", notJSON)
            Issue.record("rendered")
        } catch {
            #expect(error.description.contains("not JSON"))
        }
        let manual = ParameterTemplate.Context(runID: "r", pipeline: "p", workspace: "w", event: nil)
        #expect(throws: ParameterTemplate.Problem.self) { try ParameterTemplate.render("${event.subject}", manual) }
    }
}
