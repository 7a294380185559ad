@testable import ChaosKit
import Testing

/// The pipelines checker must be able to fail: its rules give the results docs/pipelines.md
/// gives, and each kind of broken outcome fed in by hand is reported.
@Suite("Chaos checker, pipelines")
struct PipelineChaosCheckerTests {
    typealias Plan = PipelineChaosPlan

    /// extract (t01, dbt Cloud) → fan (t02 core, census; t03 http) → chain-1 (t04, fivetran) →
    /// notify (one_failed on all, t05 http); finally t06 (dbt Cloud).
    static func pipeline(failing: String? = nil, retries: Int = 0) -> Plan.Pipeline {
        let types = ["t01": "dbtcloud", "t02": "census", "t03": "http", "t04": "fivetran", "t05": "http", "t06": "dbtcloud"]
        let stages: [String: String?] = ["t01": "extract", "t02": "fan", "t03": "fan", "t04": "chain-1", "t05": "notify", "t06": nil]
        let tasks = types.keys.sorted().enumerated().map { offset, name in
            Plan.Task(
                name: name, stage: stages[name] ?? nil, type: types[name] ?? "", index: offset + 1, target: "target-\(offset + 1)", forcedFailure: name == failing,
                failsEveryRun: types[name] == "http", retries: name == failing ? retries : 0
            )
        }
        return Plan.Pipeline(
            name: "p1", applyID: "apply-p1", runCommandID: "run-p1",
            stages: [
                .init(name: "extract", tasks: ["t01"]),
                .init(name: "fan", dependsOn: ["extract"], core: ["t02"], tasks: ["t02", "t03"]),
                .init(name: "chain-1", dependsOn: ["fan"], tasks: ["t04"]),
                .init(name: "notify", dependsOn: ["extract", "fan", "chain-1"], triggerRule: "one_failed", tasks: ["t05"]),
            ],
            finally: ["t06"], tasks: tasks
        )
    }

    @Test("the rules: no failure succeeds (notify skipped); a core failure fails the run (dependants upstream_failed, notify runs); a non-core one gives warning; a finally failure gives warning")
    func expectedResults() {
        let clean = Plan.expected(Self.pipeline())
        #expect(clean.run == "succeeded")
        #expect(clean.tasks == ["t01": "succeeded", "t02": "succeeded", "t03": "succeeded", "t04": "succeeded", "t05": "skipped", "t06": "succeeded"])

        let head = Plan.expected(Self.pipeline(failing: "t01"))
        #expect(head.run == "failed")
        #expect(head.tasks == ["t01": "failed", "t02": "upstream_failed", "t03": "upstream_failed", "t04": "upstream_failed", "t05": "succeeded", "t06": "succeeded"])

        let core = Plan.expected(Self.pipeline(failing: "t02"))
        #expect(core.run == "failed")
        #expect(core.tasks["t03"] == "succeeded" && core.tasks["t04"] == "upstream_failed" && core.tasks["t05"] == "succeeded")

        let nonCore = Plan.expected(Self.pipeline(failing: "t03"))
        #expect(nonCore.run == "warning")
        #expect(nonCore.tasks["t03"] == "failed" && nonCore.tasks["t04"] == "succeeded" && nonCore.tasks["t05"] == "skipped")

        let chain = Plan.expected(Self.pipeline(failing: "t04"))
        #expect(chain.run == "failed" && chain.tasks["t05"] == "succeeded")

        let finally = Plan.expected(Self.pipeline(failing: "t06"))
        #expect(finally.run == "warning" && finally.tasks["t05"] == "skipped" && finally.tasks["t06"] == "failed")
    }

    @Test("a forced failure on a task that retries job_failed: a second attempt that succeeds (fails again at the HTTP target, which fails every job)")
    func expectedRetries() {
        let census = Self.pipeline(failing: "t02", retries: 1)
        #expect(census.task("t02")?.expectedAttempts == ["failed", "succeeded"])
        #expect(Plan.expected(census).run == "succeeded" && Plan.expected(census).tasks["t04"] == "succeeded")
        let http = Self.pipeline(failing: "t03", retries: 1)
        #expect(http.task("t03")?.expectedAttempts == ["failed", "failed"])
        #expect(Plan.expected(http).run == "warning")
        let fivetran = Self.pipeline(failing: "t04", retries: 1)
        #expect(fivetran.task("t04")?.expectedAttempts == ["failed", "succeeded"])
        #expect(Self.pipeline(failing: "t04").task("t04")?.expectedAttempts == ["failed"])
        for pipeline in [census, http, fivetran] {
            let anomalies = PipelineChaosChecker.check(Self.clean(pipeline))
            #expect(anomalies.isEmpty, "\(anomalies)")
        }
        // The second attempt's vendor run missing, or its end swapped with the first's.
        var lost = Self.clean(fivetran)
        if let second = lost.vendorRuns.lastIndex(where: { $0.type == "fivetran" }) { lost.vendorRuns.remove(at: second) }
        #expect(Self.kinds(lost).contains(.noTrigger), "\(Self.kinds(lost))")
        var swapped = Self.clean(fivetran)
        if let first = swapped.vendorRuns.firstIndex(where: { $0.type == "fivetran" }) {
            swapped.vendorRuns[first].phase = "succeeded"
        }
        #expect(Self.kinds(swapped) == [.runStatusContradicts], "\(Self.kinds(swapped))")
    }

    @Test("dbt Cloud's marker of a command id with a slash is its SHA-256, computed by the checker's own code")
    func markerDigest() {
        #expect(ChaosSHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ChaosSHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let long = Array(String(repeating: "a", count: 1000).utf8)
        #expect(ChaosSHA256.hex(long) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
        #expect(PipelineChaosChecker.acceptedMarkers("r/t01/1").contains("sha256-" + ChaosSHA256.hex(Array("r/t01/1".utf8))))
    }

    /// A clean observation of `pipeline`: one run, each task as the rules say, one vendor run per
    /// attempt (dbt Cloud with the digest marker, HTTP with the key, Census with its run id,
    /// Fivetran with neither).
    static func clean(_ pipeline: Plan.Pipeline = pipeline()) -> PipelineChaosObservation {
        var observation = PipelineChaosObservation()
        observation.plan = Plan(pipelines: [pipeline])
        let expected = Plan.expected(pipeline)
        var tasks: [String: PipelineChaosObservation.Task] = [:]
        for task in pipeline.tasks {
            let state = expected.tasks[task.name] ?? "?"
            guard state == "succeeded" || state == "failed" else {
                tasks[task.name] = .init(state: state, attempts: [])
                continue
            }
            var attempts: [PipelineChaosObservation.Attempt] = []
            for (offset, outcome) in task.expectedAttempts.enumerated() {
                let commandID = "20261205-083000-abcdef/\(task.name)/\(offset + 1)"
                let runID = "\(900 + task.index * 10 + offset)"
                let recordsRunID = task.type != "fivetran" && task.type != "http"
                attempts.append(
                    .init(number: offset + 1, commandID: commandID, resourceType: task.type, resource: pipeline.resource(of: task.name), vendorRunID: recordsRunID ? runID : nil, outcome: outcome)
                )
                let marker: String? =
                    switch task.type {
                    case "dbtcloud": "sha256-" + ChaosSHA256.hex(Array(commandID.utf8))
                    case "http": commandID
                    default: nil
                    }
                observation.vendorRuns.append(.init(type: task.type, target: task.target, runID: task.type == "fivetran" ? nil : runID, marker: marker, phase: outcome, vendorStatus: outcome))
                observation.runCounts[task.type, default: [:]][task.target, default: 0] += 1
            }
            tasks[task.name] = .init(state: state, attempts: attempts)
        }
        observation.runs[pipeline.name] = [.init(id: "20261205-083000-abcdef", pipeline: pipeline.name, state: expected.run, triggerCommandID: pipeline.runCommandID, reason: nil, tasks: tasks)]
        return observation
    }

    static func kinds(_ observation: PipelineChaosObservation) -> [ChaosAnomaly.Kind] {
        PipelineChaosChecker.check(observation).map(\.kind)
    }

    @Test("clean observations pass, with and without a forced failure")
    func cleanPasses() {
        for failing in [nil, "t01", "t02", "t03", "t04", "t06"] {
            let anomalies = PipelineChaosChecker.check(Self.clean(Self.pipeline(failing: failing)))
            #expect(anomalies.isEmpty, "\(failing ?? "none"): \(anomalies)")
        }
    }

    @Test("a second vendor run of an attempt, at each kind of vendor, is a double trigger")
    func doubleTrigger() {
        for task in ["t01", "t02", "t03", "t04"] {
            var observation = Self.clean()
            guard let run = observation.vendorRuns.first(where: { $0.target == Self.pipeline().task(task)?.target }) else {
                Issue.record("no vendor run of \(task)")
                continue
            }
            var second = run
            second.runID = run.runID.map { $0 + "0" }
            second.marker = run.type == "http" ? "out-of-band" : nil
            observation.vendorRuns.append(second)
            observation.runCounts[run.type, default: [:]][run.target] = 2
            #expect(Self.kinds(observation).contains(.doubleTrigger), "\(task): \(PipelineChaosChecker.check(observation))")
        }
    }

    @Test("a run missing, duplicated, stuck, or ended against the rules; a task's state or attempts wrong")
    func runsJudged() {
        var missing = Self.clean()
        missing.runs = [:]
        let missingKinds = Self.kinds(missing)
        #expect(missingKinds.contains(.runMissing) && missingKinds.contains(.strayTrigger), "vendor runs without any attempt: \(missingKinds)")

        var duplicated = Self.clean()
        duplicated.runs["p1"]?.append(.init(id: "other", pipeline: "p1", state: "queued", triggerCommandID: "run-p1", reason: nil, tasks: [:]))
        #expect(Self.kinds(duplicated).contains(.runDuplicated))

        var stuck = Self.clean()
        stuck.runs["p1"]?[0].state = "running"
        #expect(Self.kinds(stuck) == [.notTerminal])

        var wrong = Self.clean(Self.pipeline(failing: "t02"))
        wrong.runs["p1"]?[0].state = "warning"
        #expect(Self.kinds(wrong) == [.resultUnexpected])

        var skipped = Self.clean()
        skipped.runs["p1"]?[0].tasks["t05"]?.state = "succeeded"
        #expect(Self.kinds(skipped) == [.taskStateUnexpected])

        var retried = Self.clean()
        if var task = retried.runs["p1"]?[0].tasks["t04"], let first = task.attempts.first {
            var second = first
            second.number = 2
            second.commandID = "20261205-083000-abcdef/t04/2"
            task.attempts.append(second)
            retried.runs["p1"]?[0].tasks["t04"] = task
        }
        let retriedKinds = Self.kinds(retried)
        #expect(retriedKinds.contains(.attemptsUnexpected) && retriedKinds.contains(.noTrigger), "\(retriedKinds)")
    }

    @Test("a vendor run carrying another command id, a recorded run id the vendor never ran, an end the vendor contradicts, a stray run, leftovers")
    func vendorSideJudged() {
        var marker = Self.clean()
        if let index = marker.vendorRuns.firstIndex(where: { $0.type == "dbtcloud" }) { marker.vendorRuns[index].marker = "chaos-someone-else" }
        #expect(Self.kinds(marker).contains(.runCommandMismatch))

        var unknown = Self.clean()
        unknown.runs["p1"]?[0].tasks["t02"]?.attempts[0].vendorRunID = "424242"
        #expect(Self.kinds(unknown) == [.runUnknownToVendor])

        var contradicts = Self.clean()
        if let index = contradicts.vendorRuns.firstIndex(where: { $0.type == "fivetran" }) { contradicts.vendorRuns[index].phase = "failed" }
        #expect(Self.kinds(contradicts) == [.runStatusContradicts])

        var stray = Self.clean()
        stray.runCounts["census", default: [:]]["target-99"] = 1
        #expect(Self.kinds(stray) == [.strayTrigger])

        var skippedRan = Self.clean()
        let notify = Self.pipeline().task("t05")
        skippedRan.vendorRuns.append(.init(type: "http", target: notify?.target ?? "", runID: "1", marker: "x", phase: "succeeded", vendorStatus: "done"))
        #expect(Self.kinds(skippedRan) == [.strayTrigger])

        var left = Self.clean()
        left.commandQueues = [.init(stream: "dataos-factory-pipelines", messages: 1, pendingAcks: 1, undelivered: 0)]
        left.followUpQueues = [.init(stream: "dataos-census-followups", messages: 1, pendingAcks: 0, undelivered: 1)]
        left.deadLetters = [.init(type: "pipeline", reason: "invalid", commandID: "x", resource: "p1")]
        left.unsettled = "not settled"
        #expect(Set(Self.kinds(left)) == [.commandsLeft, .followUpsLeft, .deadLetter, .didNotSettle])
    }
}
