import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import NATSKit
import Pipelines
import SimulatedVendors
import Testing

/// Every input kind across processes: one event starts exactly one run, whether JetStream
/// redelivers it, both replicas see it, the replica handling it dies, or the leader changes
/// around a schedule's slot. A payload that is not JSON where a template reads into it fails the
/// run's attempt with the reason and loses nothing.
@Suite("Pipelines as processes: inputs", .serialized, .timeLimit(.minutes(10)))
struct InputTests {
    /// The HTTP target's task with `extra` members in the request body (beside `target`).
    static func httpTask(_ stack: PipelineStack, name: String = "notify", index: Int, body extra: JSONObject = [:]) -> JSONValue {
        var parameters = FailureRuleTests.httpParameters(stack, index: index).objectValue ?? [:]
        var body: JSONObject = ["target": .number(JSONNumber(index))]
        for member in extra { body[member.key] = member.value }
        parameters["body"] = .object(body)
        return ["name": .string(name), "integration": "http", "job": "http_request", "parameters": .object(parameters)]
    }

    static func finished(_ runs: [PipelineRun]) -> Bool { !runs.isEmpty && runs.allSatisfy { $0.state.isFinished } }

    /// Waits until `condition` holds of the runs of `pipeline`.
    @discardableResult
    static func waitForRuns(_ stack: PipelineStack, _ pipeline: String, timeout: Duration = .seconds(60), _ condition: ([PipelineRun]) -> Bool) async throws -> [PipelineRun] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var last: [PipelineRun] = []
        while ContinuousClock.now < deadline {
            last = (try? await stack.runs(pipeline)) ?? last
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(150))
        }
        throw StackTimeout(description: "the runs of \(pipeline) did not reach the expected state: \(last.map { "\($0.id) \($0.state) \($0.trigger.event?.description ?? "")" })")
    }

    @Test("nats: one run per stream message, a redelivered event's command is dropped as a duplicate; a text payload where a template reads JSON fails the attempt with the reason, nothing published, the message acknowledged")
    func natsInput() async throws {
        try await withPipelineStack { stack in
            try stack.http.prepare(51)
            _ = try await stack.jetStream.createOrUpdateStream(StreamConfiguration(name: "ORDERS", subjects: ["orders.>"], duplicateWindow: .seconds(120)))
            let spec: JSONValue = [
                "inputs": [["name": "landed", "nats": ["stream": "ORDERS", "subject": "orders.landed"]]],
                "stages": [["name": "notify", "tasks": [Self.httpTask(stack, index: 51, body: ["limit": "${event.payload./limit}", "subject": "${event.subject}"])]]],
            ]
            try await stack.apply("on-orders", type: "pipeline", spec: spec)
            try await stack.waitForStatus("on-orders", type: "pipeline") { $0.phase == .active }
            let consumer = "factory-pipeline-public-on-orders-landed"
            let deadline = ContinuousClock.now.advanced(by: .seconds(30))
            while (try? await stack.jetStream.consumerInfo(stream: "ORDERS", consumer: consumer)) == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }

            // One message (published twice with one message id: stored once).
            let first = try await stack.jetStream.publish(Array(#"{"limit": 5}"#.utf8), to: "orders.landed", options: JetStreamPublishOptions(messageID: "order-1"))
            let again = try await stack.jetStream.publish(Array(#"{"limit": 5}"#.utf8), to: "orders.landed", options: JetStreamPublishOptions(messageID: "order-1"))
            #expect(again.duplicate && again.sequence == first.sequence)
            let runs = try await Self.waitForRuns(stack, "on-orders") { Self.finished($0) }
            let run = try #require(runs.first)
            #expect(runs.count == 1)
            #expect(run.state == .succeeded, "\(run.state) \(run.reason ?? "")")
            #expect(run.trigger.kind == .nats && run.trigger.input == "landed")
            #expect(run.trigger.commandID == "on-orders/landed/ORDERS/\(first.sequence)", "\(run.trigger.commandID)")
            #expect(run.trigger.event?["sequence"]?.description == "\(first.sequence)" && run.trigger.event?["payload"]?["limit"]?.description == "5", "\(String(describing: run.trigger.event))")

            // The same event's command again (a replica that published it and died before the
            // ack, the message then redelivered): JetStream drops it; still one run.
            let envelope = CommandEnvelope.run(ResourceReference(name: try ResourceName("on-orders"), type: "pipeline"), workspace: try WorkspaceName("public"), input: "landed", event: run.trigger.event)
            let redelivered = try await stack.jetStream.publish(envelope.encoded(), to: DeploymentNames.pipeline.commandSubject, options: JetStreamPublishOptions(messageID: run.trigger.commandID))
            #expect(redelivered.duplicate, "the redelivered event's command was stored again")

            // A text payload where `${event.payload./limit}` reads JSON: the attempt fails with
            // the reason before anything is published; the message is acknowledged.
            let text = try await stack.jetStream.publish(Array("not json at all".utf8), to: "orders.landed", options: JetStreamPublishOptions(messageID: "order-2"))
            let withText = try await Self.waitForRuns(stack, "on-orders") { runs in runs.count == 2 && Self.finished(runs) }
            let failed = try #require(withText.first { $0.trigger.commandID.hasSuffix("/\(text.sequence)") })
            #expect(failed.state == .failed, "\(failed.state) \(failed.reason ?? "")")
            #expect(failed.trigger.event?["payload"]?.stringValue == "not json at all")
            let attempt = try #require(failed.tasks["notify"]?.attempts.first)
            #expect(failed.tasks["notify"]?.attempts.count == 1 && attempt.outcome == .failed && attempt.publishedAt == nil, "\(attempt)")
            #expect(attempt.error?.contains("payload") == true, "the reason names what could not be filled: \(String(describing: attempt.error))")
            #expect(stack.http.runs(51) == 1, "nothing was sent for the text payload")

            // Another message after it: its run goes through; the consumer has nothing left over.
            _ = try await stack.jetStream.publish(Array(#"{"limit": 7}"#.utf8), to: "orders.landed", options: JetStreamPublishOptions(messageID: "order-3"))
            let all = try await Self.waitForRuns(stack, "on-orders") { runs in runs.count == 3 && Self.finished(runs) }
            #expect(all.filter { $0.state == .succeeded }.count == 2 && stack.http.runs(51) == 2)
            #expect(Set(all.map(\.trigger.commandID)).count == 3)
            let drained = ContinuousClock.now.advanced(by: .seconds(30))
            var info = try await stack.jetStream.consumerInfo(stream: "ORDERS", consumer: consumer)
            while info.pendingAcks + Int(info.pendingMessages) > 0, ContinuousClock.now < drained {
                try await Task.sleep(for: .milliseconds(150))
                info = try await stack.jetStream.consumerInfo(stream: "ORDERS", consumer: consumer)
            }
            #expect(info.pendingAcks == 0 && info.pendingMessages == 0, "every event acknowledged: \(info.pendingAcks) unacked, \(info.pendingMessages) pending")
        }
    }

    @Test("pipeline: each upstream run's end starts one downstream run; kv: each change starts one run although both replicas watch, and with the replica handling it SIGKILLed")
    func pipelineAndKVInputs() async throws {
        try await withPipelineStack { stack in
            try stack.http.prepare(54)
            try stack.http.prepare(55)
            try stack.http.prepare(56)
            try await stack.apply("upstream", type: "pipeline", spec: ["stages": [["name": "work", "tasks": [Self.httpTask(stack, index: 54)]]]])
            try await stack.apply(
                "downstream", type: "pipeline",
                spec: [
                    "inputs": [["name": "after-upstream", "pipeline": ["name": "upstream", "results": ["succeeded"]]]],
                    "stages": [["name": "work", "tasks": [Self.httpTask(stack, index: 55, body: ["after": "${event.run}"])]]],
                ])
            let settings = try await stack.jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: "settings"))
            try await stack.apply(
                "on-settings", type: "pipeline",
                spec: [
                    "inputs": [["name": "changed", "kv": ["bucket": "settings", "key": "revenue.>", "operations": ["put"]]]],
                    "stages": [["name": "work", "tasks": [Self.httpTask(stack, index: 56, body: ["key": "${event.key}"])]]],
                ])
            for name in ["upstream", "downstream", "on-settings"] { try await stack.waitForStatus(name, type: "pipeline") { $0.phase == .active } }

            // pipeline: two upstream runs, one downstream run each, naming its upstream run.
            var upstreamRuns: [String] = []
            for _ in 0..<2 {
                let upstream = try await stack.waitForRun(command: try await stack.run("upstream"), of: "upstream")
                #expect(upstream.state == .succeeded)
                upstreamRuns.append(upstream.id)
            }
            let downstream = try await Self.waitForRuns(stack, "downstream") { runs in runs.count == 2 && Self.finished(runs) }
            #expect(downstream.allSatisfy { $0.state == .succeeded && $0.trigger.kind == .pipeline }, "\(downstream.map { "\($0.state)" })")
            #expect(Set(downstream.compactMap { $0.trigger.event?["run"]?.stringValue }) == Set(upstreamRuns))
            #expect(stack.http.runs(54) == 2 && stack.http.runs(55) == 2)

            // The inputs follow the downstream's spec as applied: taking only failed upstream
            // runs now, a succeeded one starts nothing.
            try await stack.apply(
                "downstream", type: "pipeline",
                spec: [
                    "inputs": [["name": "after-upstream", "pipeline": ["name": "upstream", "results": ["failed"]]]],
                    "stages": [["name": "work", "tasks": [Self.httpTask(stack, index: 55, body: ["after": "${event.run}"])]]],
                ])
            try await stack.waitForStatus("downstream", type: "pipeline") { $0.phase == .active && $0.observedGeneration >= 2 }
            #expect(try await stack.waitForRun(command: try await stack.run("upstream"), of: "upstream").state == .succeeded)
            try await Task.sleep(for: .seconds(2))
            #expect(try await Self.waitForRuns(stack, "downstream") { Self.finished($0) }.count == 2, "no downstream run for a result the input no longer takes")

            // kv: both replicas watch (their inputs started), each change is one run.
            let deadline = ContinuousClock.now.advanced(by: .seconds(30))
            func watching(_ replica: ReplicaProcess) -> Bool {
                replica.log.split(separator: "\n").contains { $0.contains("Pipeline input started") && $0.contains("on-settings") }
            }
            while !stack.replicas.values.allSatisfy(watching), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            // A watch is set up a moment after its input starts: changes before are not seen, so
            // warm up until a change starts a run.
            var warmed = false
            for _ in 0..<10 where !warmed {
                _ = try await settings.put("revenue.warmup", Array("{}".utf8))
                warmed = (try? await Self.waitForRuns(stack, "on-settings", timeout: .seconds(3)) { !$0.isEmpty }) != nil
            }
            #expect(warmed, "no KV change started a run")

            let first = try await settings.put("revenue.orders", Array(#"{"limit": 1}"#.utf8))
            // SIGKILL a replica at once: it may be publishing the change's command, or handling it.
            await stack.kill("replica-a")
            try await settings.delete("revenue.orders")  // a delete: not an operation the input takes
            let second = try await settings.put("revenue.customers", Array(#"{"limit": 2}"#.utf8))
            // Both changes' runs, to their end (a command the killed replica held is delivered
            // again after the ack wait).
            let runs = try await Self.waitForRuns(stack, "on-settings", timeout: .seconds(90)) { runs in
                Self.finished(runs) && [first, second].allSatisfy { revision in runs.contains { $0.trigger.commandID.hasSuffix("/\(revision)") && !$0.trigger.commandID.contains("/revenue.warmup/") } }
            }
            let commands = runs.map(\.trigger.commandID)
            let orders = commands.filter { $0 == "on-settings/changed/settings/revenue.orders/\(first)" }.count
            let customers = commands.filter { $0 == "on-settings/changed/settings/revenue.customers/\(second)" }.count
            let warmups = commands.filter { $0.hasPrefix("on-settings/changed/settings/revenue.warmup/") }.count
            #expect(orders == 1 && customers == 1, "one run per change: \(commands)")
            #expect(commands.count == warmups + 2, "one run per put, none for the delete: \(commands)")
            #expect(runs.allSatisfy { $0.state == .succeeded }, "\(runs.map { "\($0.state) \($0.reason ?? "")" })")
            #expect(stack.http.runs(56) == runs.count)
        }
    }

    @Test("schedule: a slot recorded but not published is published by the leader, the latest due slot fires once, and across the leader's SIGKILL no slot fires twice")
    func scheduleAcrossFailover() async throws {
        try await withPipelineStack { stack in
            try stack.http.prepare(57)
            try stack.http.prepare(58)
            // A yearly schedule: no new slot falls due during the test. The record says slot
            // 2025-01-01 was recorded and not published (a leader died in between), so the
            // leader publishes it, then fires the latest slot due since, 2026-01-01.
            let bucket = try await stack.bucket
            func seed(_ pipeline: String, published: Bool) async throws {
                let record = #"{"published":\#(published),"slot":"2025-01-01T00:00:00.000Z","version":1}"#
                _ = try await bucket.put(PipelineNames.scheduleKey(workspace: "public", pipeline: pipeline, input: "yearly"), Array(record.utf8))
            }
            func spec(_ index: Int) -> JSONValue {
                [
                    "inputs": [["name": "yearly", "schedule": ["cron": "0 0 1 1 *", "timezone": "UTC"]]],
                    "stages": [["name": "work", "tasks": [Self.httpTask(stack, index: index, body: ["slot": "${event.slot}"])]]],
                ]
            }
            try await seed("yearly", published: false)
            try await stack.apply("yearly", type: "pipeline", spec: spec(57))

            // Kill the leader as soon as the first slot's run exists: around a tick.
            try await Self.waitForRuns(stack, "yearly") { !$0.isEmpty }
            let leader = stack.replicas.keys.sorted().first { stack.replicas[$0]?.log.contains("Acquired leadership") == true } ?? "replica-a"
            await stack.kill(leader)
            let survivor = try #require(stack.replicas.values.first)
            let deadline = ContinuousClock.now.advanced(by: .seconds(60))
            while !survivor.log.contains("Acquired leadership"), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(survivor.log.contains("Acquired leadership"), "the other replica never led")

            // The new leader fires another yearly pipeline's due slot: it serves schedules now.
            try await seed("yearly-after", published: true)
            try await stack.apply("yearly-after", type: "pipeline", spec: spec(58))
            let after = try await Self.waitForRuns(stack, "yearly-after") { Self.finished($0) }
            #expect(after.count == 1 && after.first?.trigger.event?["slot"]?.stringValue == "2026-01-01T00:00:00.000Z", "\(after.map { $0.trigger.event?.description ?? "" })")

            let runs = try await Self.waitForRuns(stack, "yearly") { runs in runs.count >= 2 && Self.finished(runs) }
            let slots = runs.compactMap { $0.trigger.event?["slot"]?.stringValue }.sorted()
            #expect(slots == ["2025-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"], "each slot once: \(slots)")
            #expect(runs.allSatisfy { $0.state == .succeeded && $0.trigger.kind == .schedule })
            #expect(runs.map(\.trigger.commandID).sorted() == ["yearly/yearly/20250101T000000Z", "yearly/yearly/20260101T000000Z"])
            #expect(stack.http.runs(57) == 2 && stack.http.runs(58) == 1)
            let record = try #require(try await bucket.get(PipelineNames.scheduleKey(workspace: "public", pipeline: "yearly", input: "yearly")))
            let text = String(decoding: record.value, as: UTF8.self)
            #expect(text.contains(#""published":true"#) && text.contains("2026-01-01T00:00:00.000Z"), "\(text)")
        }
    }
}
