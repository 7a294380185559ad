import Foundation
import JSONSchema
import Testing

@testable import Pipelines

/// A run driven by hand: advance, then tell it what each attempt's resource showed.
struct Driven {
    let scheduler: PipelineScheduler
    var run: PipelineRun
    var now = Date(timeIntervalSince1970: 1_800_000_000)
    var published: [String] = []
    var cancelled: [String] = []

    init(_ spec: PipelineSpec) {
        scheduler = PipelineScheduler(spec: spec)
        run = PipelineRun.new(id: "r1", workspace: "public", pipeline: "p", spec: spec, specDigest: "d", trigger: RunTrigger(kind: .manual, commandID: "c1"), at: now)
        run.state = .running
        run.startedAt = now
    }

    mutating func advance() {
        for action in scheduler.advance(&run, now: now) {
            switch action {
            case .publish(_, let attempt): published.append(attempt.commandID)
            case .cancel(_, let attempt): cancelled.append(attempt.commandID)
            }
        }
    }

    mutating func end(_ task: String, _ outcome: Attempt.Outcome, error: String? = nil) {
        let commandID = run.tasks[task]?.lastAttempt?.commandID ?? "?"
        PipelineScheduler.observe(&run, task: task, commandID: commandID, AttemptObservation(started: true, vendorRunID: "v-\(task)", outcome: outcome, error: error), at: now)
        advance()
    }

    mutating func wait(_ seconds: Double) {
        now = now.addingTimeInterval(seconds)
        advance()
    }

    func state(_ task: String) -> TaskState? { run.tasks[task]?.state }
}

func task(_ name: String, timeout: Duration? = nil, retries: PipelineSpec.Retries? = nil, failureIsWarning: Bool = false) -> PipelineSpec.Task {
    PipelineSpec.Task(name: name, work: .inline(integration: "http", job: "http_request", parameters: [:]), timeout: timeout, retries: retries, failureIsWarning: failureIsWarning)
}

@Suite("Pipeline scheduling rules")
struct SchedulerTests {
    static let design = PipelineSpec(
        stages: [
            .init(name: "ingest", tasks: [task("salesforce")]),
            .init(name: "transform", dependsOn: ["ingest"], core: ["dbt-build"], tasks: [task("dbt-build"), task("freshness", failureIsWarning: true)]),
            .init(name: "activate", dependsOn: ["transform"], tasks: [task("crm"), task("ads")]),
            .init(name: "notify-failure", dependsOn: ["ingest", "transform", "activate"], triggerRule: .oneFailed, tasks: [task("page")]),
        ],
        finally: [task("audit")]
    )

    @Test("stages run in order, each task once with the command id <run>/<task>/<attempt>; notify is skipped; finally runs last; the run succeeds")
    func happyPath() {
        var driven = Driven(Self.design)
        driven.advance()
        #expect(driven.published == ["r1/salesforce/1"])
        driven.advance()
        #expect(driven.published == ["r1/salesforce/1"], "nothing new: no second publish")
        driven.end("salesforce", .succeeded)
        #expect(driven.published.suffix(2) == ["r1/dbt-build/1", "r1/freshness/1"])
        driven.end("dbt-build", .succeeded)
        #expect(driven.published.count == 3, "the stage waits for all its tasks")
        driven.end("freshness", .succeeded)
        #expect(Set(driven.published.suffix(2)) == ["r1/crm/1", "r1/ads/1"])
        driven.end("crm", .succeeded)
        driven.end("ads", .succeeded)
        #expect(driven.state("page") == .skipped)
        #expect(driven.published.last == "r1/audit/1")
        #expect(driven.run.state == .running)
        driven.end("audit", .succeeded)
        #expect(driven.run.state == .succeeded && driven.run.finishedAt == driven.now)
        #expect(driven.published.count == 6 && driven.cancelled.isEmpty)
    }

    @Test("a core failure fails its stage: dependants upstream_failed, the one_failed stage runs, the run fails")
    func coreFailure() {
        var driven = Driven(Self.design)
        driven.advance()
        driven.end("salesforce", .succeeded)
        driven.end("freshness", .succeeded)
        driven.end("dbt-build", .failed, error: "dbt test failed")
        #expect(driven.state("crm") == .upstreamFailed && driven.state("ads") == .upstreamFailed)
        #expect(driven.published.contains("r1/page/1"))
        driven.end("page", .succeeded)
        driven.end("audit", .succeeded)
        #expect(driven.run.state == .failed)
        #expect(driven.run.reason == "stage transform failed: dbt-build", "\(driven.run.reason ?? "")")
    }

    @Test("a non-core or failureIsWarning failure makes the stage warning; the run goes on and ends warning")
    func nonCoreFailure() {
        var driven = Driven(Self.design)
        driven.advance()
        driven.end("salesforce", .succeeded)
        driven.end("dbt-build", .succeeded)
        driven.end("freshness", .failed)
        #expect(driven.scheduler.result(of: Self.design.stages[1], in: driven.run) == .warning)
        #expect(driven.published.contains("r1/crm/1"), "activate runs after a warning")
        driven.end("crm", .succeeded)
        driven.end("ads", .succeeded)
        #expect(driven.state("page") == .skipped)
        driven.end("audit", .succeeded)
        #expect(driven.run.state == .warning)
    }

    @Test("retries: api_error retried by default with backoff; job_failed not unless asked; up_for_retry until the delay passed")
    func retries() {
        let spec = PipelineSpec(
            defaults: .init(retries: .init(limit: 2, backoff: .exponential, delay: .seconds(10), maxDelay: .seconds(15))),
            stages: [.init(name: "s", tasks: [task("api"), task("job"), task("job-retried", retries: .init(limit: 1, delay: .seconds(5), on: [.jobFailed]))])]
        )
        var driven = Driven(spec)
        driven.advance()
        driven.end("api", .apiError, error: "HTTP 503")
        #expect(driven.state("api") == .upForRetry && driven.run.tasks["api"]?.retryAt == driven.now.addingTimeInterval(10))
        driven.end("job", .failed)
        #expect(driven.state("job") == .failed, "job_failed is not retried by default")
        driven.end("job-retried", .failed)
        #expect(driven.state("job-retried") == .upForRetry)
        #expect(driven.scheduler.nextDeadline(of: driven.run) == driven.now.addingTimeInterval(5))
        driven.wait(5)
        #expect(driven.published.contains("r1/job-retried/2") && !driven.published.contains("r1/api/2"))
        driven.wait(5)
        #expect(driven.published.contains("r1/api/2"))
        driven.end("api", .apiError)
        #expect(driven.run.tasks["api"]?.retryAt == driven.now.addingTimeInterval(15), "exponential, capped by maxDelay")
        driven.wait(15)
        driven.end("api", .apiError)
        #expect(driven.state("api") == .failed, "the limit of 2 retries is spent")
        #expect(driven.run.tasks["api"]?.attempts.map(\.number) == [1, 2, 3])
        driven.end("job-retried", .succeeded)
        #expect(driven.run.state == .failed)
    }

    @Test("an attempt awaits publication until marked published or seen at its resource, and never once it has ended")
    func attemptAwaitsPublication() {
        let spec = PipelineSpec(stages: [.init(name: "s", tasks: [task("a"), task("b"), task("c")])])
        var driven = Driven(spec)
        driven.advance()
        func awaiting(_ name: String) -> Bool { driven.run.tasks[name]?.lastAttempt?.awaitsPublication == true }
        #expect(awaiting("a") && awaiting("b") && awaiting("c"), "recorded, not published yet")
        PipelineScheduler.markPublished(&driven.run, task: "a", commandID: "r1/a/1", at: driven.now)
        // b's mark was lost with its replica, but its run was seen: its command took effect.
        PipelineScheduler.observe(&driven.run, task: "b", commandID: "r1/b/1", AttemptObservation(started: true, vendorRunID: "9"), at: driven.now)
        #expect(!awaiting("a") && !awaiting("b") && awaiting("c"))
        #expect(driven.run.tasks["b"]?.lastAttempt?.publishedAt == driven.now, "seen at its resource: published")
        // c's command ended without a run (refused): nothing to publish again either.
        PipelineScheduler.observe(&driven.run, task: "c", commandID: "r1/c/1", AttemptObservation(started: false, outcome: .apiError, error: "refused"), at: driven.now)
        #expect(!awaiting("c"))
    }

    @Test("an attempt past its timeout is timed out and its run cancelled; retried only when asked")
    func attemptTimeout() {
        let spec = PipelineSpec(stages: [.init(name: "s", tasks: [task("slow", timeout: .seconds(60)), task("slow-retried", timeout: .seconds(60), retries: .init(limit: 1, delay: .seconds(1), on: [.timeout]))])])
        var driven = Driven(spec)
        driven.advance()
        PipelineScheduler.observe(&driven.run, task: "slow", commandID: "r1/slow/1", AttemptObservation(started: true, vendorRunID: "77"), at: driven.now)
        #expect(driven.state("slow") == .running)
        driven.wait(59)
        #expect(driven.cancelled.isEmpty)
        driven.wait(1)
        #expect(Set(driven.cancelled) == ["r1/slow/1", "r1/slow-retried/1"])
        #expect(driven.state("slow") == .timedOut && driven.state("slow-retried") == .upForRetry)
        driven.advance()
        #expect(driven.cancelled.count == 2, "a cancel is asked once")
        // The cancelled vendor run's end arrives later: it changes nothing.
        #expect(!PipelineScheduler.observe(&driven.run, task: "slow", commandID: "r1/slow/1", AttemptObservation(started: true, outcome: .cancelled), at: driven.now))
        driven.wait(1)
        driven.end("slow-retried", .succeeded)
        #expect(driven.run.state == .failed)
    }

    @Test("cancel stop: running attempts cancelled, unstarted tasks cancelled, finally runs, the run ends cancelled; terminate skips finally")
    func cancel() {
        for mode in CancelRequest.Mode.allCases {
            var driven = Driven(Self.design)
            driven.advance()
            driven.end("salesforce", .succeeded)
            driven.run.cancel = CancelRequest(mode: mode, at: driven.now, commandID: "cancel-1")
            driven.advance()
            #expect(Set(driven.cancelled) == ["r1/dbt-build/1", "r1/freshness/1"], "\(mode)")
            #expect(driven.state("crm") == .cancelled && driven.state("page") == .cancelled)
            if mode == .stop {
                #expect(driven.published.last == "r1/audit/1" && driven.run.state == .cancelling)
                driven.end("audit", .succeeded)
            } else {
                #expect(driven.state("audit") == .cancelled && !driven.published.contains("r1/audit/1"))
            }
            #expect(driven.run.state == .cancelled, "\(mode)")
        }
    }

    @Test("the run's timeout stops it (finally runs) and fails it")
    func runTimeout() {
        var spec = Self.design
        spec.timeout = .seconds(3600)
        var driven = Driven(spec)
        driven.advance()
        driven.wait(3600)
        #expect(driven.cancelled == ["r1/salesforce/1"] && driven.published.last == "r1/audit/1")
        driven.end("audit", .succeeded)
        #expect(driven.run.state == .failed && driven.run.reason?.contains("timeout") == true)
    }

    @Test("observations of an older attempt, or of another command, are ignored")
    func staleObservations() {
        var driven = Driven(PipelineSpec(stages: [.init(name: "s", tasks: [task("t", retries: .init(limit: 1, delay: .seconds(1)))])]))
        driven.advance()
        driven.end("t", .apiError)
        driven.wait(1)
        #expect(!PipelineScheduler.observe(&driven.run, task: "t", commandID: "r1/t/1", AttemptObservation(started: true, outcome: .succeeded), at: driven.now))
        #expect(!PipelineScheduler.observe(&driven.run, task: "t", commandID: "someone-else", AttemptObservation(started: true, outcome: .succeeded), at: driven.now))
        #expect(driven.state("t") == .queued)
    }
}

@Suite("Spec look-ups")
struct SpecLookupTests {
    @Test("tasks and stages are found by name, and follow every change of the stages and finally")
    func lookupsFollowChanges() {
        var spec = SchedulerTests.design
        #expect(spec.task(named: "crm")?.name == "crm")
        #expect(spec.stage(ofTask: "freshness")?.name == "transform")
        #expect(spec.stage(ofTask: "audit") == nil)
        #expect(spec.task(named: "audit")?.name == "audit")
        #expect(spec.stage(named: "activate")?.tasks.map(\.name) == ["crm", "ads"])
        #expect(spec.allTasks.map(\.name) == ["salesforce", "dbt-build", "freshness", "crm", "ads", "page", "audit"])
        #expect(spec.task(named: "nope") == nil)

        spec.stages[2].tasks.append(task("email"))
        spec.stages.append(.init(name: "report", dependsOn: ["activate"], tasks: [task("slides")]))
        spec.finally = [task("cleanup")]
        #expect(spec.stage(ofTask: "email")?.name == "activate")
        #expect(spec.stage(named: "report")?.tasks.map(\.name) == ["slides"])
        #expect(spec.task(named: "audit") == nil)
        #expect(spec.task(named: "cleanup")?.name == "cleanup")
        #expect(spec.allTasks.map(\.name) == ["salesforce", "dbt-build", "freshness", "crm", "ads", "email", "page", "slides", "cleanup"])

        // Equal specs built either way are equal and hash alike.
        var rebuilt = SchedulerTests.design
        rebuilt.stages = spec.stages
        rebuilt.finally = spec.finally
        #expect(rebuilt == spec)
        #expect(rebuilt.hashValue == spec.hashValue)
        #expect(rebuilt != SchedulerTests.design)
    }
}

@Suite("Trigger rules")
struct TriggerRuleTests {
    typealias Rule = PipelineSpec.TriggerRule

    /// The decision for a stage `d` depending on `a` and `b`, after `a` and `b` end as given (nil: still running).
    static func decide(_ rule: Rule, _ a: TaskState?, _ b: TaskState?) -> String {
        let spec = PipelineSpec(stages: [
            .init(name: "a", tasks: [task("ta")]), .init(name: "b", tasks: [task("tb")]),
            .init(name: "d", dependsOn: ["a", "b"], triggerRule: rule, tasks: [task("td")]),
        ])
        var run = PipelineRun.new(id: "r", workspace: "w", pipeline: "p", spec: spec, specDigest: "", trigger: RunTrigger(kind: .manual, commandID: "c"), at: Date())
        run.tasks["ta"] = TaskRun(state: a ?? .running)
        run.tasks["tb"] = TaskRun(state: b ?? .running)
        switch PipelineScheduler(spec: spec).decide(spec.stages[2], in: run) {
        case .wait: return "wait"
        case .run: return "run"
        case .skip: return "skipped"
        case .upstreamFailed: return "upstream_failed"
        case .cancel, .cancelWith: return "cancelled"
        }
    }

    @Test("Airflow's semantics for each rule", arguments: [
        (Rule.allSuccess, TaskState.succeeded, TaskState.warning, "run"), (.allSuccess, .succeeded, nil, "wait"), (.allSuccess, .failed, nil, "upstream_failed"),
        (.allSuccess, .skipped, .succeeded, "skipped"), (.allSuccess, .upstreamFailed, .succeeded, "upstream_failed"),
        (.allDone, .failed, nil, "wait"), (.allDone, .failed, .skipped, "run"),
        (.allFailed, .failed, .timedOut, "run"), (.allFailed, .failed, .succeeded, "skipped"), (.allFailed, .failed, nil, "wait"),
        (.oneSuccess, .succeeded, nil, "run"), (.oneSuccess, .failed, .failed, "upstream_failed"), (.oneSuccess, .skipped, .skipped, "skipped"), (.oneSuccess, .failed, nil, "wait"),
        (.oneFailed, .failed, nil, "run"), (.oneFailed, .succeeded, .succeeded, "skipped"), (.oneFailed, .succeeded, nil, "wait"),
        (.noneFailed, .succeeded, .skipped, "run"), (.noneFailed, .failed, nil, "upstream_failed"), (.noneFailed, .succeeded, nil, "wait"),
        (.noneFailedMinOneSuccess, .succeeded, .skipped, "run"), (.noneFailedMinOneSuccess, .skipped, .skipped, "skipped"), (.noneFailedMinOneSuccess, .cancelled, .succeeded, "upstream_failed"),
        (.always, nil, nil, "run"),
    ] as [(Rule, TaskState?, TaskState?, String)])
    func rule(_ rule: Rule, _ a: TaskState?, _ b: TaskState?, _ expected: String) {
        #expect(Self.decide(rule, a, b) == expected, "\(rule.rawValue) after \(a?.rawValue ?? "running"), \(b?.rawValue ?? "running")")
    }
}

@Suite("Concurrency")
struct AdmissionTests {
    static func runs(_ count: Int) -> [PipelineRun] {
        (0..<count).map { index in
            var run = PipelineRun(id: "r\(index)", workspace: "w", pipeline: "p", specDigest: "", trigger: RunTrigger(kind: .manual, commandID: "c\(index)"), createdAt: Date(timeIntervalSince1970: Double(index)), tasks: [:])
            run.state = .running
            return run
        }
    }

    @Test("queue, skip, cancel-previous, parallel at the limit")
    func policies() {
        #expect(PipelineAdmission.decide(.init(limit: 1, onOverlap: .queue), active: [], queuedAhead: 0) == .start)
        #expect(PipelineAdmission.decide(.init(limit: 1, onOverlap: .queue), active: [], queuedAhead: 1) == .queue, "first in, first out")
        #expect(PipelineAdmission.decide(.init(limit: 2, onOverlap: .queue), active: Self.runs(1), queuedAhead: 0) == .start)
        #expect(PipelineAdmission.decide(.init(limit: 1, onOverlap: .queue), active: Self.runs(1), queuedAhead: 0) == .queue)
        if case .skip = PipelineAdmission.decide(.init(limit: 1, onOverlap: .skip), active: Self.runs(1), queuedAhead: 0) {} else { Issue.record("skip") }
        #expect(PipelineAdmission.decide(.init(limit: 2, onOverlap: .cancelPrevious), active: Self.runs(3), queuedAhead: 0) == .startCancelling(["r0", "r1"]))
        #expect(PipelineAdmission.decide(.init(limit: 1, onOverlap: .parallel), active: Self.runs(5), queuedAhead: 0) == .start)
    }
}
