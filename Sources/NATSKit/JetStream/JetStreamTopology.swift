import Foundation

/// The streams, durable consumers and key-value buckets an application needs, provisioned
/// idempotently at start-up by every replica.
///
/// It loads from a directory laid out as the project's `streams/`, whose files are in the NATS
/// CLI's JSON format and work with it directly:
///
/// ```
/// streams/
///   <stream>/stream.json                   nats stream add --config …
///   <stream>/consumers/<consumer>.json     nats consumer add <stream> --config …
///   kv/<bucket>.json                       bucket settings (KeyValueConfiguration)
/// ```
public struct JetStreamTopology: Sendable, Hashable {
    public struct Consumer: Sendable, Hashable {
        public var stream: String
        public var configuration: ConsumerConfiguration

        public init(stream: String, configuration: ConsumerConfiguration) {
            self.stream = stream
            self.configuration = configuration
        }
    }

    public var streams: [StreamConfiguration]
    public var consumers: [Consumer]
    public var buckets: [KeyValueConfiguration]

    public init(streams: [StreamConfiguration] = [], consumers: [Consumer] = [], buckets: [KeyValueConfiguration] = []) {
        self.streams = streams
        self.consumers = consumers
        self.buckets = buckets
    }

    /// Loads every stream, consumer and bucket file under `directory`. A file whose stream
    /// name does not match its folder is refused, so the layout cannot lie.
    public static func load(directory: URL) throws -> JetStreamTopology {
        let fileManager = FileManager.default
        var topology = JetStreamTopology()
        let entries = try fileManager.contentsOfDirectory(atPath: directory.path).sorted()
        for entry in entries where !entry.hasPrefix(".") {
            let folder = directory.appendingPathComponent(entry)
            var isDirectory: ObjCBool = false
            guard fileManager.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            if entry == "kv" {
                for file in try jsonFiles(in: folder) {
                    let bucket = try KeyValueConfiguration.load(from: file)
                    guard bucket.bucket == file.deletingPathExtension().lastPathComponent else {
                        throw NATSError.invalidArgument("\(file.path) configures bucket \"\(bucket.bucket)\"; name the file after its bucket", operation: "load topology")
                    }
                    topology.buckets.append(bucket)
                }
                continue
            }
            let streamFile = folder.appendingPathComponent("stream.json")
            guard fileManager.fileExists(atPath: streamFile.path) else { continue }
            let stream = try StreamConfiguration.load(from: streamFile)
            guard stream.name == entry else {
                throw NATSError.invalidArgument("\(streamFile.path) configures stream \"\(stream.name)\"; put it in a folder named after the stream", operation: "load topology")
            }
            topology.streams.append(stream)
            let consumersFolder = folder.appendingPathComponent("consumers")
            if fileManager.fileExists(atPath: consumersFolder.path) {
                for file in try jsonFiles(in: consumersFolder) {
                    let consumer = try ConsumerConfiguration.load(from: file)
                    guard consumer.durableName == file.deletingPathExtension().lastPathComponent else {
                        throw NATSError.invalidArgument(
                            "\(file.path) configures consumer \"\(consumer.durableName ?? "(none)")\"; name the file after its durable name",
                            operation: "load topology"
                        )
                    }
                    topology.consumers.append(Consumer(stream: stream.name, configuration: consumer))
                }
            }
        }
        return topology
    }

    private static func jsonFiles(in folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasSuffix(".json") }
            .sorted()
            .map { folder.appendingPathComponent($0) }
    }
}

extension JetStreamContext {
    /// Creates or updates every stream, then every consumer, then every bucket. Idempotent and
    /// safe when several replicas run it at once. Returns the bound buckets by name.
    @discardableResult
    public func provision(_ topology: JetStreamTopology) async throws(NATSError) -> [String: KeyValueBucket] {
        for stream in topology.streams {
            try await createOrUpdateStream(stream)
        }
        for consumer in topology.consumers {
            try await createOrUpdateConsumer(stream: consumer.stream, consumer.configuration)
        }
        var buckets: [String: KeyValueBucket] = [:]
        for bucket in topology.buckets {
            buckets[bucket.bucket] = try await createOrUpdateKeyValue(bucket)
        }
        return buckets
    }
}
