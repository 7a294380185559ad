import Foundation
@testable import NATSKit
import NATSTestKit
import Testing

@Suite("Topology files", .timeLimit(.minutes(2)))
struct TopologyTests {
    static let streamsDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("streams")

    @Test("the repository's streams/ loads: command stream, shared durable consumer, dead letters, buckets")
    func repositoryTopologyLoads() throws {
        let topology = try JetStreamTopology.load(directory: Self.streamsDirectory)
        let commands = try #require(topology.streams.first { $0.name == "dataos-hightouch-entities" })
        #expect(commands.subjects == ["hightouch.pipeline.run"])
        #expect(commands.retention == .workqueue)
        #expect(commands.storage == .file)
        #expect(commands.duplicateWindow == .seconds(120))
        let consumer = try #require(topology.consumers.first)
        #expect(consumer.stream == "dataos-hightouch-entities")
        #expect(consumer.configuration.durableName == "hightouch-entities-12121")
        #expect(consumer.configuration.ackPolicy == .explicit)
        #expect(consumer.configuration.ackWait == .seconds(30))
        #expect(consumer.configuration.maxDeliver > consumer.configuration.backoff.count)
        #expect(!consumer.configuration.backoff.isEmpty)
        #expect(topology.streams.contains { $0.name == "dataos-hightouch-deadletter" })
        #expect(Set(topology.buckets.map(\.bucket)) == ["hightouch-operator-state", "hightouch-operator-election"])
        #expect(topology.buckets.first { $0.bucket == "hightouch-operator-election" }?.ttl != nil)
    }

    @Test("provisioning is idempotent: twice, and from two connections at once")
    func provisioningIsIdempotent() async throws {
        let topology = try JetStreamTopology.load(directory: Self.streamsDirectory)
        try await withNATSServer { server in
            let first = try await connect(to: server, name: "a")
            let second = try await connect(to: server, name: "b")
            let (jetStreamA, jetStreamB) = (try await first.jetStream(), try await second.jetStream())
            async let provisionedA = jetStreamA.provision(topology)
            async let provisionedB = jetStreamB.provision(topology)
            _ = try await (provisionedA, provisionedB)
            let buckets = try await jetStreamA.provision(topology)
            #expect(Set(buckets.keys) == ["hightouch-operator-state", "hightouch-operator-election"])
            let info = try await jetStreamA.consumerInfo(stream: "dataos-hightouch-entities", consumer: "hightouch-entities-12121")
            #expect(info.configuration.backoff == topology.consumers[0].configuration.backoff)
            #expect(info.configuration.filterSubject == "hightouch.pipeline.run")
            let stream = try await jetStreamA.streamInfo("dataos-hightouch-entities")
            #expect(stream.configuration.retention == .workqueue)
            await first.close()
            await second.close()
        }
    }

    @Test("configuration files: unknown or unsupported settings are refused with the key named; CLI defaults are accepted")
    func configurationFileStrictness() throws {
        let decoder = JSONDecoder()
        let cliStyle = #"{"name":"s","subjects":["a"],"retention":"limits","compression":"none","sealed":false,"mirror_direct":false,"consumer_limits":{},"first_seq":0}"#
        let stream = try decoder.decode(StreamConfiguration.self, from: Data(cliStyle.utf8))
        #expect(stream.name == "s")
        do {
            _ = try decoder.decode(StreamConfiguration.self, from: Data(#"{"name":"s","subjects":["a"],"mirror":{"name":"x"}}"#.utf8))
            Issue.record("a mirror must be refused")
        } catch {
            #expect("\(error)".contains("mirror"))
        }
        do {
            _ = try decoder.decode(StreamConfiguration.self, from: Data(#"{"name":"s","subjects":["a"],"retension":"limits"}"#.utf8))
            Issue.record("a misspelt key must be refused")
        } catch {
            #expect("\(error)".contains("retension"))
        }
        do {
            _ = try decoder.decode(ConsumerConfiguration.self, from: Data(#"{"durable_name":"c","ack_wait":-5}"#.utf8))
            Issue.record("a negative duration must be refused")
        } catch {
            #expect("\(error)".contains("negative"))
        }
        let roundTrip = try decoder.decode(ConsumerConfiguration.self, from: JSONEncoder().encode(
            ConsumerConfiguration(durableName: "c", ackWait: .seconds(3), maxDeliver: 4, backoff: [.seconds(1), .milliseconds(1500)])
        ))
        #expect(roundTrip.backoff == [.seconds(1), .milliseconds(1500)])
        #expect(roundTrip.ackWait == .seconds(3))
    }
}

@Suite("JetStream wire")
struct JetStreamWireTests {
    @Test("publish acknowledgements: the fast reader agrees with the full decoder, and refuses what it does not know")
    func publishAckParsing() throws {
        let cases: [(String, String, UInt64, Bool, String?)] = [
            (#"{"stream":"orders","seq":42}"#, "orders", 42, false, nil),
            (#"{"stream":"orders","seq":7,"duplicate":true}"#, "orders", 7, true, nil),
            (#"{"stream":"orders","domain":"hub","seq":18446744073709551615}"#, "orders", UInt64.max, false, "hub"),
        ]
        for (json, stream, sequence, duplicate, domain) in cases {
            let reply = NATSMessage(subject: "_INBOX.x.1", payload: Array(json.utf8))
            let ack = try JetStreamWire.decodePublishAck(reply, subject: "s", operation: "test")
            #expect(ack.stream == stream)
            #expect(ack.sequence == sequence)
            #expect(ack.duplicate == duplicate)
            #expect(ack.domain == domain)
        }
        for unknown in [#"{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"s","seq":0}"#,
                        #"{"stream":"a\"b","seq":1}"#, #"{"stream":"s","seq":1,"extra":1}"#, #"{"stream":"s"}"#, "{}", "", "{\"seq\":99999999999999999999}"] {
            #expect(JetStreamWire.fastPublishAck(Array(unknown.utf8)) == nil, "\(unknown)")
        }
        let conflict = NATSMessage(subject: "_INBOX.x.1", payload: Array(#"{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"s","seq":0}"#.utf8))
        #expect(throws: NATSError.self) { try JetStreamWire.decodePublishAck(conflict, subject: "s", operation: "test") }
        do {
            _ = try JetStreamWire.decodePublishAck(conflict, subject: "s", operation: "test")
        } catch {
            #expect(error.code == .revisionConflict)
            #expect(error.jetStreamErrorCode == 10071)
        }
        let garbage = NATSMessage(subject: "_INBOX.x.1", payload: Array("not json".utf8))
        #expect(throws: NATSError.self) { try JetStreamWire.decodePublishAck(garbage, subject: "s", operation: "test") }
    }

    @Test("server timestamps parse to the nanosecond-fraction instant, with offsets")
    func timestamps() throws {
        let utc = try #require(JetStreamWire.parseTimestamp("2026-11-21T09:31:40.123456789Z"))
        #expect(abs(utc.timeIntervalSince1970 - 1_795_253_500.123456789) < 1e-6)
        let plain = try #require(JetStreamWire.parseTimestamp("1970-01-01T00:00:00Z"))
        #expect(plain.timeIntervalSince1970 == 0)
        let offset = try #require(JetStreamWire.parseTimestamp("2024-02-29T12:00:00+02:00"))
        #expect(offset.timeIntervalSince1970 == 1_709_200_800)
        #expect(JetStreamWire.parseTimestamp("yesterday") == nil)
    }
}
