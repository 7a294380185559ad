import FactoryModel
import Foundation
import SimulatedVendors
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import JSONSchema
import NATSKit
import SimulatorKit
import Testing

/// Every resource type besides Hightouch (whose own suites do the same), end to end: a real
/// nats-server, the vendor behind a fault proxy, and two `factory-operator` replicas hosting the
/// type. Each scenario has a target of its own at the vendor (a job, sync, connector), so every
/// count is the scenario's.
@Suite("Every resource type as processes: two replicas, the vendor, faults", .serialized, .timeLimit(.minutes(10)))
struct VendorProcessTests {
    static let vendors: [any SimulatedVendor] = [SimulatedDBTCloud(), SimulatedCensus(), SimulatedFivetran(), SimulatedHTTPTarget()]

    static func withStack(_ vendor: any SimulatedVendor, logLevel: String = "info", _ body: (VendorStack) async throws -> Void) async throws {
        let stack = try await VendorStack.start(vendor, replicas: ["replica-a", "replica-b"], logLevel: logLevel)
        do {
            _ = try await stack.waitForQueryable()
            try await body(stack)
        } catch {
            print(stack.logs)
            await stack.stop()
            throw error
        }
        await stack.stop()
    }

    @Test("success, failure, timeout, cancel where the vendor can, a bad spec: each ends as it should, with one run at the vendor", arguments: vendors)
    func outcomes(vendor: any SimulatedVendor) async throws {
        try await Self.withStack(vendor) { stack in
            let url = stack.serviceURL

            // Success.
            try vendor.prepare(1)
            try await stack.apply("ok", spec: vendor.spec(1, serviceURL: url, timeout: nil))
            let ok = try await stack.waitForStatus("ok", timeout: .seconds(60)) { $0.runtime == "succeeded" }
            #expect(ok.lastRun?.phase == "succeeded" && ok.lastError == nil, "\(vendor.type) success: \(String(describing: ok.lastRun))")
            #expect(vendor.runs(1) == 1, "\(vendor.type) success: \(vendor.runs(1)) runs at the vendor")
            let detail = try await stack.factoryctl(["get", "ok", "-w", "public", "-d"])
            #expect(detail.status == 0, "\(detail.output)")
            for label in vendor.detailLabels {
                #expect(detail.output.contains(label), "\(vendor.type): factoryctl get -d shows no \(label)\n\(detail.output)")
            }

            // Failure.
            try vendor.prepare(2)
            vendor.failNextRun(2)
            try await stack.apply("fails", spec: vendor.spec(2, serviceURL: url, timeout: nil))
            let failed = try await stack.waitForStatus("fails", timeout: .seconds(60)) { $0.lastRun?.phase == "failed" }
            #expect(failed.runtime == "failed", "\(vendor.type) failure: runtime \(failed.runtime)")
            #expect(vendor.runs(2) == 1, "\(vendor.type) failure: \(vendor.runs(2)) runs, and a failed run is not run again")

            // Timeout: the run outlives the spec's timeout.
            try vendor.prepare(3)
            vendor.makeRunsEndless(3)
            try await stack.apply("slow", spec: vendor.spec(3, serviceURL: url, timeout: "3s"))
            let timedOut = try await stack.waitForStatus("slow", timeout: .seconds(60)) { $0.lastRun?.phase == "timed_out" }
            #expect(timedOut.runtime == "failed" && timedOut.currentRun == nil, "\(vendor.type) timeout: \(timedOut.runtime)")
            #expect(vendor.runs(3) == 1)
            if vendor.canCancel {
                #expect(vendor.lastRunCancelled(3), "\(vendor.type) timeout: the run was not cancelled at the vendor")
            }

            // Cancel, where the vendor can.
            if vendor.canCancel {
                try vendor.prepare(4)
                vendor.makeRunsEndless(4)
                try await stack.apply("cancelled", spec: vendor.spec(4, serviceURL: url, timeout: nil))
                try await stack.waitForStatus("cancelled", timeout: .seconds(60)) { $0.currentRun.map { $0.id != $0.key } ?? false }
                try await stack.publish(.cancel(ResourceReference(name: try ResourceName("cancelled"), type: vendor.type), workspace: try WorkspaceName("public")))
                let cancelled = try await stack.waitForStatus("cancelled", timeout: .seconds(60)) { $0.lastRun?.phase == "cancelled" }
                #expect(cancelled.currentRun == nil && vendor.lastRunCancelled(4), "\(vendor.type) cancel")
                #expect(vendor.runs(4) == 1)
            }

            // Lineage: one event per transition, each valid against the official schemas (the
            // helper validates): START then the end event, ABORT for the cancelled run.
            var ends = [("ok", "COMPLETE"), ("fails", "FAIL"), ("slow", "FAIL")]
            if vendor.canCancel { ends.append(("cancelled", "ABORT")) }
            for (name, end) in ends {
                let events = try await stack.waitForLineage(job: "\(vendor.type).\(name)", count: 2, timeout: .seconds(30))
                #expect(events.map(\.eventType) == ["START", end], "\(vendor.type) \(name) lineage: \(events.map(\.eventType))")
                #expect(Set(events.compactMap { $0.json["run"]?["runId"]?.stringValue }).count == 1, "\(vendor.type) \(name): one run id")
                if vendor.type == "dbtcloud", end == "COMPLETE" {
                    // The models the run built, from its run_results.json; what they read, from its manifest.json.
                    #expect(events.last?.json["outputs"]?.arrayValue?.isEmpty == false, "dbt Cloud ok: no models in \(events.last?.json["outputs"] ?? .null)")
                    #expect(
                        events.last?.json["inputs"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["raw.shop.customers", "raw.shop.orders"],
                        "dbt Cloud ok: the sources its models read, from manifest.json: \(events.last?.json["inputs"] ?? .null)")
                }
                if end == "FAIL" {
                    #expect(events.last?.json["run"]?["facets"]?["errorMessage"]?["message"]?.stringValue?.isEmpty == false, "\(vendor.type) \(name): no errorMessage")
                }
            }

            // A job, sync or connector that does not exist at the vendor (the operator owns none of
            // them): a clear error naming it, no retry loop, nothing triggered.
            if let missing = vendor.targetName(998) {
                try await stack.apply("missing", spec: vendor.spec(998, serviceURL: url, timeout: nil))
                let refused = try await stack.waitForStatus("missing", timeout: .seconds(60)) { $0.lastError != nil && $0.activeCommand == nil }
                let error = try #require(refused.lastError)
                #expect(refused.status == "error" && error.message.contains(missing), "\(vendor.type) missing target: \(error)")
                #expect(vendor.runs(998) == 0)
            }

            // A spec without its required field: refused, dead-lettered, nothing sent to the vendor.
            let before = stack.proxy.seen.count
            let (bad, field) = vendor.specWithoutRequiredField(5, serviceURL: url)
            try await stack.apply("bad", spec: bad)
            let reason = try await Self.waitForDeadLetter(stack) { $0.contains("bad") && $0.contains(field) }
            #expect(reason != nil, "\(vendor.type) bad spec: no dead letter of resource bad names \(field)")
            #expect(stack.proxy.seen.count == before, "\(vendor.type) bad spec: the vendor was called")
        }
    }

    @Test("a replica SIGKILLed between the recorded intent and the trigger, or between the trigger and its record: exactly one run; every replica SIGKILLed mid-run: one event per transition", arguments: vendors)
    func killedAroundTheTrigger(vendor: any SimulatedVendor) async throws {
        try await Self.withStack(vendor) { stack in
            for (index, release) in [(11, FaultProxy.Release.drop), (12, .forward)] {
                let name = release == .drop ? "killed-before-trigger" : "killed-after-trigger"
                try vendor.prepare(index)
                stack.proxy.park(next: 1) { vendor.isTrigger($0, of: index) }
                try await stack.apply(name, spec: vendor.spec(index, serviceURL: stack.serviceURL, timeout: nil))
                #expect(await stack.proxy.waitForParked(1), "\(vendor.type) \(name): no trigger reached the proxy")

                // The intent is recorded (stage triggering) by the replica whose trigger is parked.
                let holding = try await stack.waitForStatus(name, timeout: .seconds(30)) { $0.activeCommand?.stage == "triggering" }
                let owner = try #require(holding.activeCommand?.owner)
                #expect(stack.replicas[owner] != nil, "\(vendor.type) \(name): the owner \(owner) is not one of the replicas")
                await stack.kill(owner)
                stack.proxy.releaseParked(release)
                try stack.startReplica(owner + "-again")

                let ended = try await stack.waitForStatus(name, timeout: .seconds(90)) { $0.runtime == "succeeded" }
                #expect(ended.lastError == nil, "\(vendor.type) \(name): \(String(describing: ended.lastError))")
                #expect(vendor.runs(index) == 1, "\(vendor.type) \(name): \(vendor.runs(index)) runs at the vendor")
                // Exactly one event per transition, whoever published it (the killed replica's
                // outbox is the status: the one that resumed or followed published what was left).
                let events = try await stack.waitForLineage(job: "\(vendor.type).\(name)", count: 2, timeout: .seconds(30))
                #expect(events.map(\.eventType) == ["START", "COMPLETE"], "\(vendor.type) \(name) lineage: \(events.map(\.eventType))")
            }

            // Killed mid-run: once START is out, every replica is SIGKILLed; the run ends at the
            // vendor meanwhile; the replicas started again see it ended and publish COMPLETE, once.
            try vendor.prepare(13)
            try await stack.apply("killed-mid-run", spec: vendor.spec(13, serviceURL: stack.serviceURL, timeout: nil))
            _ = try await stack.waitForLineage(job: "\(vendor.type).killed-mid-run", count: 1, timeout: .seconds(60))
            for name in Array(stack.replicas.keys) { await stack.kill(name) }
            try stack.startReplica("replica-c")
            try stack.startReplica("replica-d")
            let ended = try await stack.waitForStatus("killed-mid-run", timeout: .seconds(90)) { $0.runtime == "succeeded" }
            #expect(vendor.runs(13) == 1, "\(vendor.type) killed mid-run: \(vendor.runs(13)) runs at the vendor, \(String(describing: ended.lastRun))")
            let midRun = try await stack.waitForLineage(job: "\(vendor.type).killed-mid-run", count: 2, timeout: .seconds(30))
            #expect(midRun.map(\.eventType) == ["START", "COMPLETE"], "\(vendor.type) killed mid-run lineage: \(midRun.map(\.eventType))")

            try await Task.sleep(for: .seconds(1))
            #expect(try await stack.lineageEvents().count == 6, "no event twice after the replicas settled")
            #expect(try await stack.commandsLeft() == 0)
        }
    }

    @Test("no secret in any log line (at trace), KV entry, status reply, metric or dead letter, with the vendor refusing the credential for a while", arguments: vendors)
    func secretsNeverLeak(vendor: any SimulatedVendor) async throws {
        try await Self.withStack(vendor, logLevel: "trace") { stack in
            try vendor.prepare(31)
            try await stack.apply("secret-ok", spec: vendor.spec(31, serviceURL: stack.serviceURL, timeout: nil))
            try await stack.waitForStatus("secret-ok", timeout: .seconds(60)) { $0.runtime == "succeeded" }
            try vendor.prepare(32)
            if vendor.refuseCredential(true) {
                try await stack.apply("secret-refused", spec: vendor.spec(32, serviceURL: stack.serviceURL, timeout: nil))
                let refused = try await stack.waitForStatus("secret-refused", timeout: .seconds(60)) { $0.lastError?.reason == "vendorUnauthorized" }
                #expect(refused.lastError?.message.contains("_") == true, "the error names the variable to check: \(String(describing: refused.lastError))")
                vendor.refuseCredential(false)
                try await stack.waitForStatus("secret-refused", timeout: .seconds(90)) { $0.runtime == "succeeded" }
            }
            try await stack.apply("secret-bad", spec: vendor.specWithoutRequiredField(33, serviceURL: stack.serviceURL).spec)
            let letters = try await Self.waitForDeadLetters(stack, count: 1).map { letter in
                letter.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n") + String(decoding: letter.payload, as: UTF8.self)
            }

            var replies: [String] = []
            for query in [StatusQuery(workspace: "public", name: "secret-ok"), StatusQuery(workspace: "public"), StatusQuery(workspace: nil, allWorkspaces: true)] {
                replies.append(try await stack.client.request(Array(try JSONEncoder().encode(query)), to: stack.names.querySubject).string)
            }
            let bucket = try await stack.jetStream.keyValue(stack.names.stateBucket)
            var stored: [String] = []
            for key in try await bucket.keys() {
                if let entry = try await bucket.get(key) { stored.append(key + " " + entry.string) }
            }
            var metrics: [String] = []
            for port in stack.metricPorts.values {
                let (data, _) = try await URLSession.shared.data(from: try #require(URL(string: "http://127.0.0.1:\(port)/metrics")))
                metrics.append(String(decoding: data, as: UTF8.self))
            }
            let logs = stack.replicas.values.map(\.log)
            #expect(logs.contains { $0.contains(#""level":"trace""#) }, "the replicas logged at trace")
            #expect(logs.contains { $0.contains("secret-ok") } && stored.contains { $0.contains("secret-ok") }, "the scan reads what the commands wrote")
            #expect(!stored.isEmpty && metrics.count == 2 && !letters.isEmpty)
            for (place, texts) in [("log", logs), ("KV", stored), ("replies", replies), ("metrics", metrics), ("dead letters", letters)] {
                for secret in vendor.secrets {
                    #expect(!texts.contains { $0.contains(secret) }, "\(vendor.type): a secret appears in the \(place)")
                }
            }
        }
    }

    /// The headers of the first dead letter whose headers `matches` accepts (one `name: value` a
    /// line), waiting up to 30 s; nil if none came.
    static func waitForDeadLetter(_ stack: VendorStack, _ matches: (String) -> Bool) async throws -> String? {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        repeat {
            for letter in try await stack.deadLetters() {
                let headers = letter.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                if matches(headers) { return headers }
            }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        return nil
    }

    static func waitForDeadLetters(_ stack: VendorStack, count: Int) async throws -> [JetStreamStoredMessage] {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while ContinuousClock.now < deadline {
            let letters = try await stack.deadLetters()
            if letters.count >= count { return letters }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await stack.deadLetters()
    }
}
