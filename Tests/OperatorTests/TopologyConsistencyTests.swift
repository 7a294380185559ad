import FactoryModel
import Foundation
import NATSKit
@testable import FactoryEngine
import FactoryState
import Testing

@Suite("streams/ and the code agree")
struct TopologyConsistencyTests {
    static let streams = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("streams")

    @Test("with the default configuration the operator provisions exactly what streams/ describes")
    func defaultsMatchFiles() throws {
        let files = try JetStreamTopology.load(directory: Self.streams)
        let code = OperatorTopology.make(OperatorConfiguration(defaults: .hightouchOperator), deployments: [(DeploymentNames.standard(type: "hightouch"), "Hightouch")])
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
        let environment = [
            "MESSAGE_DURABILITY": "false", "NATS_JETSTREAM_REPLICAS": "3",
            "ENTITY_OF_INTEREST_MESSAGE_STREAM": "other-stream", "ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT": "other.run",
        ]
        let configuration = try OperatorConfiguration(environment: environment)
        let names = try DeploymentNames.read(from: environment, defaults: .standard(type: "hightouch"))
        let topology = OperatorTopology.make(configuration, deployments: [(names, "Hightouch")])
        #expect(topology.streams.allSatisfy { $0.storage == .memory && $0.replicas == 3 })
        #expect(topology.buckets.allSatisfy { $0.storage == .memory && $0.replicas == 3 })
        #expect(topology.streams.first?.name == "other-stream")
        #expect(topology.streams.first?.subjects == ["other.run"])
        #expect(names.deadLetterSubject == "other.run.deadletter")
        #expect(topology.consumers.first?.configuration.filterSubject == "other.run")
    }

    @Test("several deployments in one process: each its own streams, consumers and bucket, one election bucket")
    func severalDeployments() throws {
        let configuration = OperatorConfiguration()
        let topology = OperatorTopology.make(configuration, deployments: [(.standard(type: "hightouch"), "Hightouch"), (.standard(type: "toy"), "Toy")])
        #expect(Set(topology.streams.map(\.name)) == [
            "dataos-hightouch-entities", "dataos-hightouch-deadletter", "dataos-hightouch-followups",
            "dataos-toy-entities", "dataos-toy-deadletter", "dataos-toy-followups",
        ])
        #expect(Set(topology.buckets.map(\.bucket)) == ["hightouch-operator-state", "toy-operator-state", "factory-operator-election"])
        #expect(Set(topology.consumers.map { $0.configuration.durableName ?? "" }) == ["hightouch-entities-12121", "hightouch-followers", "toy-entities-12121", "toy-followers"])
        #expect(topology.streams.first { $0.name == "dataos-toy-entities" }?.subjects == ["toy.pipeline.run"])
    }
}
