import Foundation
import NATSKit
@testable import OperatorCore
import Testing

@Suite("streams/ and the code agree")
struct TopologyConsistencyTests {
    static let streams = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("streams")

    @Test("with the default configuration the operator provisions exactly what streams/ describes")
    func defaultsMatchFiles() throws {
        let files = try JetStreamTopology.load(directory: Self.streams)
        let code = OperatorTopology.make(OperatorConfiguration())
        #expect(Set(files.streams.map(\.name)) == Set(code.streams.map(\.name)))
        for stream in code.streams {
            #expect(files.streams.first { $0.name == stream.name } == stream, "stream \(stream.name)")
        }
        for consumer in code.consumers {
            #expect(files.consumers.first { $0.configuration.durableName == consumer.configuration.durableName } == consumer, "consumer \(consumer.configuration.durableName ?? "")")
        }
        #expect(files.consumers.count == code.consumers.count)
        for bucket in code.buckets {
            #expect(files.buckets.first { $0.bucket == bucket.bucket } == bucket, "bucket \(bucket.bucket)")
        }
    }

    @Test("MESSAGE_DURABILITY=false provisions memory storage; names and replicas follow the configuration")
    func configurationShapesTopology() throws {
        let configuration = try OperatorConfiguration(environment: [
            "MESSAGE_DURABILITY": "false", "NATS_JETSTREAM_REPLICAS": "3",
            "ENTITY_OF_INTEREST_MESSAGE_STREAM": "other-stream", "ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT": "other.run",
        ])
        let topology = OperatorTopology.make(configuration)
        #expect(topology.streams.allSatisfy { $0.storage == .memory && $0.replicas == 3 })
        #expect(topology.buckets.allSatisfy { $0.storage == .memory && $0.replicas == 3 })
        #expect(topology.streams.first?.name == "other-stream")
        #expect(topology.streams.first?.subjects == ["other.run"])
        #expect(configuration.deadLetterSubject == "other.run.deadletter")
        #expect(topology.consumers.first?.configuration.filterSubject == "other.run")
    }
}
