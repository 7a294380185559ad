import Foundation
import NATSKit
import NATSTestKit
import Testing

@Suite("JetStream", .timeLimit(.minutes(3)))
struct JetStreamTests {
    /// A work-queue stream and a durable pull consumer, as the operator uses them.
    func makeWorkQueue(
        _ jetStream: JetStreamContext,
        ackWait: Duration = .seconds(30),
        maxDeliver: Int = -1,
        backoff: [Duration] = []
    ) async throws -> (stream: String, subject: String, consumer: String) {
        let stream = uniqueName("work")
        let subject = "jobs." + stream
        try await jetStream.createOrUpdateStream(
            StreamConfiguration(name: stream, subjects: [subject], retention: .workqueue, duplicateWindow: .seconds(120))
        )
        let consumer = "workers"
        try await jetStream.createOrUpdateConsumer(
            stream: stream,
            ConsumerConfiguration(durableName: consumer, ackPolicy: .explicit, ackWait: ackWait, maxDeliver: maxDeliver, backoff: backoff)
        )
        return (stream, subject, consumer)
    }

    @Test("create-or-update of streams and consumers is idempotent and applies changes")
    func createOrUpdateIsIdempotent() async throws {
        try await withConnection { connection, _ in
            let jetStream = try await connection.jetStream()
            let name = uniqueName("idem")
            var configuration = StreamConfiguration(name: name, subjects: ["idem.\(name)"], retention: .workqueue, duplicateWindow: .seconds(120))
            let first = try await jetStream.createOrUpdateStream(configuration)
            let second = try await jetStream.createOrUpdateStream(configuration)
            #expect(first.configuration.retention == .workqueue)
            #expect(second.configuration.duplicateWindow == .seconds(120))
            configuration.maxMessages = 1000
            let updated = try await jetStream.createOrUpdateStream(configuration)
            #expect(updated.configuration.maxMessages == 1000)

            var consumer = ConsumerConfiguration(durableName: "c1", ackWait: .seconds(10), maxDeliver: 5, backoff: [.seconds(1), .seconds(2)])
            try await jetStream.createOrUpdateConsumer(stream: name, consumer)
            try await jetStream.createOrUpdateConsumer(stream: name, consumer)
            consumer.maxAckPending = 50
            let info = try await jetStream.createOrUpdateConsumer(stream: name, consumer)
            #expect(info.configuration.maxAckPending == 50)
            #expect(info.configuration.backoff == [.seconds(1), .seconds(2)])
            #expect(info.configuration.maxDeliver == 5)

            let missing = await expectNATSError { _ = try await jetStream.streamInfo(uniqueName("missing")) }
            #expect(missing?.code == .notFound)
            let missingConsumer = await expectNATSError { _ = try await jetStream.pullConsumer(stream: name, consumer: "nope") }
            #expect(missingConsumer?.code == .notFound)
        }
    }

    @Test("bad stream, consumer and configuration values are refused before reaching C")
    func badNamesRefused() async throws {
        try await withConnection { connection, _ in
            let jetStream = try await connection.jetStream()
            for name in ["", "a.b", "a b", "a*", "a>", "a/b"] {
                let error = await expectNATSError { try await jetStream.createOrUpdateStream(StreamConfiguration(name: name, subjects: ["x"])) }
                #expect(error?.code == .invalidName, "stream name \(name.debugDescription)")
            }
            let durable = await expectNATSError {
                try await jetStream.createOrUpdateConsumer(stream: "s", ConsumerConfiguration(durableName: "has.dot"))
            }
            #expect(durable?.code == .invalidName)
            let backoff = await expectNATSError {
                try await jetStream.createOrUpdateConsumer(
                    stream: "s", ConsumerConfiguration(durableName: "ok", maxDeliver: 2, backoff: [.seconds(1), .seconds(2)])
                )
            }
            #expect(backoff?.code == .invalidArgument)
            #expect(backoff?.message.contains("max_deliver") == true)
        }
    }

    @Test("a repeated message id inside the duplicate window is stored once and reported as a duplicate")
    func deduplicationByMessageID() async throws {
        try await withConnection { connection, _ in
            let jetStream = try await connection.jetStream()
            let (stream, subject, _) = try await makeWorkQueue(jetStream)
            let first = try await jetStream.publish(.text("a"), to: subject, options: .init(messageID: "cmd-1"))
            let again = try await jetStream.publish(.text("a"), to: subject, options: .init(messageID: "cmd-1"))
            let other = try await jetStream.publish(.text("b"), to: subject, options: .init(messageID: "cmd-2"))
            #expect(first.duplicate == false)
            #expect(again.duplicate == true)
            #expect(again.sequence == first.sequence)
            #expect(other.sequence == first.sequence + 1)
            #expect(first.stream == stream)
            let info = try await jetStream.streamInfo(stream)
            #expect(info.state.messages == 2)
        }
    }

    @Test("publish expectations: a wrong last sequence or stream is refused")
    func publishExpectations() async throws {
        try await withConnection { connection, _ in
            let jetStream = try await connection.jetStream()
            let (stream, subject, _) = try await makeWorkQueue(jetStream)
            let ack = try await jetStream.publish(.text("1"), to: subject, options: .init(expectedStream: stream, expectedLastSubjectSequence: 0))
            let stale = await expectNATSError {
                try await jetStream.publish(.text("2"), to: subject, options: .init(expectedLastSequence: ack.sequence + 5))
            }
            #expect(stale?.code == .revisionConflict)
            #expect(stale?.jetStreamErrorCode == 10071)
            let wrongStream = await expectNATSError {
                try await jetStream.publish(.text("2"), to: subject, options: .init(expectedStream: "another"))
            }
            #expect(wrongStream?.code == .jetStream)
            _ = try await jetStream.publish(.text("2"), to: subject, options: .init(expectedLastSubjectSequence: ack.sequence))
            let stored = try await jetStream.message(stream: stream, sequence: ack.sequence)
            #expect(stored.payload == .text("1"))
            #expect(stored.subject == subject)
        }
    }

    @Test("batched fetch, ack and metadata; acking twice is an error, not a silent no-op")
    func fetchAckMetadata() async throws {
        try await withConnection { connection, _ in
            let jetStream = try await connection.jetStream()
            let (stream, subject, consumerName) = try await makeWorkQueue(jetStream)
            for index in 1...5 {
                var headers = NATSHeaders()
                headers["Index"] = "\(index)"
                try await jetStream.publish(.text("job \(index)"), to: subject, headers: headers)
            }
            let consumer = try await jetStream.pullConsumer(stream: stream, consumer: consumerName)
            let batch = try await consumer.fetch(batch: 3, timeout: .seconds(2))
            #expect(batch.count == 3)
            #expect(batch.map(\.string) == ["job 1", "job 2", "job 3"])
            #expect(batch.first?.headers["Index"] == "1")
            let metadata = try #require(batch.first?.metadata)
            #expect(metadata.stream == stream)
            #expect(metadata.consumer == consumerName)
            #expect(metadata.streamSequence == 1)
            #expect(metadata.deliveryCount == 1)
            #expect(metadata.pending == 4)

            try batch[0].ack()
            try await batch[1].ackSync()
            try batch[2].term()
            #expect(batch[0].settled == .acked)
            let twice = await expectNATSError { try batch[0].ack() }
            #expect(twice?.code == .alreadyAcknowledged)
            let afterTerm = await expectNATSError { try batch[2].nak() }
            #expect(afterTerm?.code == .alreadyAcknowledged)

            let rest = try await consumer.fetch(batch: 10, timeout: .seconds(1))
            #expect(rest.map(\.string) == ["job 4", "job 5"])
            for message in rest { try await message.ackSync() }
            let empty = try await consumer.fetch(batch: 10, timeout: .milliseconds(300))
            #expect(empty.isEmpty)
            // Work-queue retention: acked and terminated messages are gone.
            #expect(try await eventually { try await jetStream.streamInfo(stream).state.messages == 0 })
        }
    }

    @Test("nak with delay redelivers after the delay, with a higher delivery count")
    func nakWithDelayRedelivers() async throws {
        try await withConnection { connection, _ in
            let jetStream = try await connection.jetStream()
            let (stream, subject, consumerName) = try await makeWorkQueue(jetStream)
            try await jetStream.publish(.text("retry me"), to: subject)
            let consumer = try await jetStream.pullConsumer(stream: stream, consumer: consumerName)
            let first = try #require(try await consumer.fetch(timeout: .seconds(2)).first)
            let nakAt = ContinuousClock.now
            try first.nak(delay: .milliseconds(700))
            let early = try await consumer.fetch(timeout: .milliseconds(300))
            #expect(early.isEmpty, "not redelivered before the delay")
            let again = try #require(try await consumer.fetch(timeout: .seconds(10)).first)
            #expect(ContinuousClock.now - nakAt >= .milliseconds(650))
            #expect(again.metadata?.deliveryCount == 2)
            #expect(again.metadata?.streamSequence == first.metadata?.streamSequence)
            try await again.ackSync()

            // A plain nak redelivers at once.
            try await jetStream.publish(.text("again"), to: subject)
            let second = try #require(try await consumer.fetch(timeout: .seconds(2)).first)
            try second.nak()
            let immediate = try #require(try await consumer.fetch(timeout: .seconds(1)).first)
            #expect(immediate.metadata?.deliveryCount == 2)
            try await immediate.ackSync()
        }
    }

    @Test("an unacked message is redelivered after the ack wait; in-progress holds it back")
    func ackWaitAndInProgress() async throws {
        try await withConnection { connection, _ in
            let jetStream = try await connection.jetStream()
            let (stream, subject, consumerName) = try await makeWorkQueue(jetStream, ackWait: .seconds(1))
            let consumer = try await jetStream.pullConsumer(stream: stream, consumer: consumerName)

            // Ack wait expiry: redelivered about 1 s later.
            try await jetStream.publish(.text("slow"), to: subject)
            let first = try #require(try await consumer.fetch(timeout: .seconds(2)).first)
            _ = first
            let redelivered = try #require(try await consumer.fetch(timeout: .seconds(3)).first)
            #expect(redelivered.metadata?.deliveryCount == 2)

            // In-progress every 400 ms for 2.5 s: no redelivery while it works.
            let started = ContinuousClock.now
            let keepAlive = Task {
                while ContinuousClock.now - started < .milliseconds(2500) {
                    try redelivered.inProgress()
                    try await Task.sleep(for: .milliseconds(400))
                }
            }
            let whileWorking = try await consumer.fetch(timeout: .milliseconds(2500))
            #expect(whileWorking.isEmpty, "in-progress kept the message from being redelivered")
            try await keepAlive.value
            try await redelivered.ackSync()
            let afterAck = try await consumer.fetch(timeout: .milliseconds(1500))
            #expect(afterAck.isEmpty)
        }
    }

    @Test("term stops redelivery for good")
    func termStopsRedelivery() async throws {
        try await withConnection { connection, _ in
            let jetStream = try await connection.jetStream()
            let (stream, subject, consumerName) = try await makeWorkQueue(jetStream, ackWait: .seconds(1))
            let consumer = try await jetStream.pullConsumer(stream: stream, consumer: consumerName)
            try await jetStream.publish(.text("poison"), to: subject)
            let message = try #require(try await consumer.fetch(timeout: .seconds(2)).first)
            try message.term()
            let after = try await consumer.fetch(timeout: .milliseconds(1800))
            #expect(after.isEmpty, "a terminated message is never redelivered, even after the ack wait")
            #expect(try await eventually { try await jetStream.streamInfo(stream).state.messages == 0 })
        }
    }

    @Test("two subscribers bound to one durable pull consumer split the work, each message once")
    func twoSubscribersSplitWork() async throws {
        try await withNATSServer { server in
            let first = try await connect(to: server, name: "replica-a")
            let second = try await connect(to: server, name: "replica-b")
            let jetStream = try await first.jetStream()
            let (stream, subject, consumerName) = try await makeWorkQueue(jetStream)
            let total = 300
            for index in 0..<total { try await jetStream.publish(.text("\(index)"), to: subject) }

            let consumers = [
                try await jetStream.pullConsumer(stream: stream, consumer: consumerName),
                try await second.jetStream().pullConsumer(stream: stream, consumer: consumerName),
            ]
            let results = try await withThrowingTaskGroup(of: [String].self) { group in
                for consumer in consumers {
                    group.addTask {
                        var seen: [String] = []
                        var idle = 0
                        while idle < 3 {
                            let batch = try await consumer.fetch(batch: 5, timeout: .milliseconds(300))
                            if batch.isEmpty { idle += 1; continue }
                            idle = 0
                            for message in batch {
                                seen.append(message.string)
                                try await message.ackSync()
                            }
                            // Leave room for the other replica, as a busy worker would.
                            try await Task.sleep(for: .milliseconds(2))
                        }
                        return seen
                    }
                }
                var all: [[String]] = []
                for try await seen in group { all.append(seen) }
                return all
            }
            let everything = results.flatMap { $0 }
            #expect(everything.count == total)
            #expect(Set(everything).count == total, "no message processed twice")
            #expect(results.allSatisfy { $0.count > 0 }, "both replicas worked: \(results.map(\.count))")
            await first.close()
            await second.close()
        }
    }

    @Test("the message sequence rides out a server killed and restarted: no message lost")
    func consumerSurvivesServerRestart() async throws {
        try await withNATSServer { server in
            let connection = try await connect(to: server)
            let jetStream = try await connection.jetStream()
            let (stream, subject, consumerName) = try await makeWorkQueue(jetStream, ackWait: .seconds(2))
            let consumer = try await jetStream.pullConsumer(stream: stream, consumer: consumerName)
            let total = 200
            let received = ReceivedSet()
            let reader = Task {
                for try await message in consumer.messages(batch: 10, fetchTimeout: .milliseconds(500)) {
                    if let index = Int(message.string) {
                        do {
                            try await message.ackSync(timeout: .seconds(1))
                            await received.insert(index)
                        } catch {
                            // Not confirmed: it will be redelivered and counted then.
                        }
                    }
                    if await received.count == total { break }
                }
            }
            // Publish the first half, kill the server mid-stream, publish the rest after restart.
            for index in 0..<(total / 2) { try await jetStream.publish(.text("\(index)"), to: subject, options: .init(messageID: "m\(index)")) }
            await server.kill()
            try await Task.sleep(for: .milliseconds(300))
            try await server.restart()
            #expect(await eventually(timeout: .seconds(10)) { connection.isConnected })
            for index in (total / 2)..<total {
                // Right after a restart JetStream may need a moment: retry until stored.
                var stored = false
                for _ in 0..<50 where !stored {
                    do {
                        try await jetStream.publish(.text("\(index)"), to: subject, options: .init(messageID: "m\(index)"))
                        stored = true
                    } catch {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
                #expect(stored)
            }
            let finished = await eventually(timeout: .seconds(30)) { await received.count == total }
            reader.cancel()
            let receivedCount = await received.count
            #expect(finished, "received \(receivedCount) of \(total)")
            #expect(await received.values == Set(0..<total))
            await connection.close()
        }
    }
}

actor ReceivedSet {
    private(set) var values: Set<Int> = []
    var count: Int { values.count }
    func insert(_ value: Int) { values.insert(value) }
}
