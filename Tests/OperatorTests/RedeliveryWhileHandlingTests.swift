import FactoryModel
import Foundation
import HightouchDriver
import JSONSchema
import NATSKit
@testable import FactoryEngine
import FactoryState
import Testing

/// Found by `scripts/chaos nats-restart`: a nats-server killed with SIGKILL can come back without
/// the consumer state of its last moments and deliver a message again, as a first delivery, to the
/// replica that is still working on it. These tests hand the processor such deliveries directly.
@Suite("Redelivery while a command is being handled", .serialized, .timeLimit(.minutes(2)))
struct RedeliveryWhileHandlingTests {
    static func delivery(_ manifest: ResourceManifest, id: String = "cmd-redelivered", sequence: UInt64 = 7) throws -> CommandDelivery {
        CommandDelivery(
            payload: CommandEnvelope.apply(manifest, workspace: try WorkspaceName("public")).encoded(),
            messageID: id, streamSequence: sequence, deliveryCount: 1, subject: "hightouch.pipeline.run"
        )
    }

    @Test("a second delivery of a command this replica is still triggering waits: one trigger, not two")
    func sameReplicaDoesNotResumeItsOwnLiveCommand() async throws {
        let harness = try await OperatorHarness.start(replicas: 0, runDuration: .milliseconds(300))
        do {
            // The trigger call takes a while (a slow vendor answer) before it reaches the vendor.
            try await harness.addReplica(named: "replica-a") { slowTrigger($0, delay: .milliseconds(1500)) }
            let processor = try #require(harness.replicas[0].deployments.first).processor
            let delivery = try Self.delivery(try OperatorHarness.seedManifest())
            let first = Task { await processor.process(delivery) }
            try await Task.sleep(for: .milliseconds(400))
            let second = await processor.process(delivery)
            let firstResult = await first.value
            #expect(second.outcome == "waiting", "the second delivery waits for the first: \(second)")
            #expect(firstResult.outcome == "triggered", "\(firstResult)")
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1, "one trigger for one command")
            try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test("a stale handler that fails after another replica finished its command leaves no 'retrying' error behind")
    func staleTransientFailureDoesNotOverwriteSuccess() async throws {
        let harness = try await OperatorHarness.start(replicas: 0, runDuration: .milliseconds(300), ackWait: .seconds(2))
        do {
            // replica-a hangs in the vendor, then fails transiently; replica-b takes the command
            // over meanwhile (replica-a is silent for longer than half the ack wait) and finishes it.
            try await harness.addReplica(named: "replica-a") { hangingEnsure($0, hang: .milliseconds(2500)) }
            try await harness.addReplica(named: "replica-b")
            let delivery = try Self.delivery(try OperatorHarness.seedManifest())
            let staleProcessor = try #require(harness.replicas[0].deployments.first).processor
            let stale = Task { await staleProcessor.process(delivery) }
            try await Task.sleep(for: .milliseconds(1300))
            let takeoverProcessor = try #require(harness.replicas[1].deployments.first).processor
            let takeover = await takeoverProcessor.process(delivery)
            #expect(takeover.outcome == "triggered", "\(takeover)")
            let staleResult = await stale.value
            #expect(staleResult.outcome == "retrying", "\(staleResult)")
            let view = try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }
            #expect(view.lastError == nil, "a stale retry error outlived the success: \(String(describing: view.lastError))")
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }
}

/// Waits `delay` before each trigger reaches the vendor.
func slowTrigger(_ inner: HightouchDriver, delay: Duration) -> AnyResourceDriver {
    InterposedDriver(inner, trigger: { inner, spec, objects, context async throws(VendorFailure) in
        try? await Task.sleep(for: delay)
        return try await inner.trigger(spec, objects: objects, context: context)
    }).erased
}

/// Every `ensure` hangs for `hang`, then fails as an outage would.
func hangingEnsure(_ inner: HightouchDriver, hang: Duration) -> AnyResourceDriver {
    InterposedDriver(inner, ensure: { _, _, _ async throws(VendorFailure) in
        try? await Task.sleep(for: hang)
        throw VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "no answer from the vendor")
    }).erased
}
