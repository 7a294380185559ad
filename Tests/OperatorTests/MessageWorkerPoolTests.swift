import Foundation
import Logging
import NATSKit
import NATSTestKit
@testable import FactoryEngine
import FactoryState
import Synchronization
import Testing

@Suite("The worker pool", .timeLimit(.minutes(2)))
struct MessageWorkerPoolTests {
    @Test("handlers that outlast the ack wait keep their messages: in-progress renews it, nothing is redelivered")
    func slowHandlersKeepTheirMessages() async throws {
        try await withNATSServer { server in
            let connection = try await NATSConnection.connect(NATSConfiguration(servers: [server.url], name: "pool-test"))
            let jetStream = try await connection.jetStream()
            _ = try await jetStream.createOrUpdateStream(StreamConfiguration(name: "POOL", subjects: ["pool.work"]))
            _ = try await jetStream.createOrUpdateConsumer(
                stream: "POOL", ConsumerConfiguration(durableName: "workers", ackWait: .seconds(1), filterSubject: "pool.work")
            )
            let consumer = try await jetStream.pullConsumer(stream: "POOL", consumer: "workers")
            for index in 0..<3 {
                _ = try await jetStream.publish(Array("job-\(index)".utf8), to: "pool.work")
            }
            let deliveries = Mutex<[String: Int]>([:])
            let pool = MessageWorkerPool(
                name: "test", consumer: consumer, workers: 4, ackWait: .seconds(1), synchronousAcks: true,
                logger: Logger(label: "pool-test")
            ) { message in
                deliveries.withLock { $0[String(decoding: message.payload, as: UTF8.self), default: 0] += 1 }
                // Three and a half ack waits of work.
                try? await Task.sleep(for: .milliseconds(3500))
                return .ack
            }
            let running = Task { await pool.run() }
            // A second subscriber on the same consumer would get any message whose ack wait ran out.
            let other = try await jetStream.pullConsumer(stream: "POOL", consumer: "workers")
            let stolen = try await other.fetch(batch: 3, timeout: .milliseconds(4000))
            for message in stolen { try? message.nak() }
            #expect(stolen.isEmpty, "a message was redelivered while its handler worked: \(stolen.map { String(decoding: $0.payload, as: UTF8.self) })")
            try await Task.sleep(for: .milliseconds(500))
            pool.stop()
            await running.value
            #expect(deliveries.withLock { $0 } == ["job-0": 1, "job-1": 1, "job-2": 1])
            let info = try await jetStream.consumerInfo(stream: "POOL", consumer: "workers")
            #expect(info.pendingMessages == 0 && info.pendingAcks == 0, "every job acknowledged once")
            await connection.close()
        }
    }
}
