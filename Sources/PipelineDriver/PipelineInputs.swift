import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Logging
import NATSKit
import Pipelines
import ServiceLifecycle
import Synchronization

/// The inputs of every applied pipeline, in every replica: each event becomes a `run` command of
/// the pipeline on `factory.pipeline.run`, with the input's name and the event, and a message id
/// made of the event's identity, so one event starts one run (JetStream drops a repeat inside its
/// duplicate window; the pipeline driver finds the run of a command sent again after it).
///
/// - `nats`: a durable consumer per pipeline and input on the stream (`factory-pipeline-<workspace>-
///   <pipeline>-<input>`, new messages from its creation on), shared by the replicas; a message is
///   acknowledged once its command is published. Message id `<pipeline>/<input>/<stream>/<sequence>`.
/// - `kv`: a watch of the bucket's keys matching the pattern (changes from the watch's start), in
///   every replica; message id `<pipeline>/<input>/<bucket>/<key>/<revision>`.
/// - `schedule`: the elected leader fires each slot once. The last slot fired per pipeline and
///   input is recorded in the pipeline bucket (`schedule.<workspace>.<pipeline>.<input>`) by
///   compare-and-set before the command is published, and marked published after; a new leader
///   publishes a recorded slot not marked. Message id `<pipeline>/<input>/<slot>`.
/// - `pipeline`: started by the advancer when the upstream run ends.
///
/// Inputs follow the pipeline entities: an apply starts, changes or stops them, a delete stops
/// them (and deletes a `nats` input's consumer).
final class PipelineInputs: Service, Sendable {
    struct InputKey: Hashable, Sendable, CustomStringConvertible {
        var workspace: String
        var pipeline: String
        var input: String

        var description: String { "\(workspace)/\(pipeline) input \(input)" }
    }

    private struct Running {
        var source: PipelineSpec.Input.Source
        var task: Task<Void, Never>
    }

    let context: DriverCompanionContext
    let logger: Logger
    /// How often the leader looks at schedules.
    let scheduleTick: Duration
    /// The clock schedules read (tests move it).
    let clock: @Sendable () -> Date
    private let running = Mutex<[InputKey: Running]>([:])
    /// The spec digest each pipeline's inputs were last set up from (nil: removed or deleted):
    /// its entity is written by every command on it, and decoding a large spec each time for
    /// its inputs was a twentieth of a replica's CPU in a 1,000-task fan-out.
    private let followedDigests = Mutex<[String: String]>([:])
    private let started = Atomic<Bool>(false)

    init(context: DriverCompanionContext, scheduleTick: Duration = .milliseconds(500), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.context = context
        self.logger = context.logger
        self.scheduleTick = scheduleTick
        self.clock = clock
    }

    func run() async throws {
        try? await gracefulShutdown()
        let tasks = running.withLock { running -> [Task<Void, Never>] in
            let tasks = running.values.map(\.task)
            running.removeAll()
            return tasks
        }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    // MARK: - Following the pipelines

    /// A pipeline entity changed (nil: removed): its inputs are started, changed or stopped.
    func pipelineChanged(_ entity: EntityRecord?, id: String) {
        let parts = id.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return }
        let (workspace, pipeline) = (parts[0], parts[1])
        let digest = entity.flatMap { $0.deleted ? nil : $0.specDigest }
        let unchanged = followedDigests.withLock { followed -> Bool in
            guard let digest else {
                followed[id] = nil
                return false
            }
            if followed[id] == digest { return true }
            followed[id] = digest
            return false
        }
        if unchanged { return }
        var desired: [String: PipelineSpec.Input.Source] = [:]
        if let entity, !entity.deleted, case .success(let spec) = PipelineSpec.decode(entity.spec, context: .structural(pipelineName: pipeline)) {
            for input in spec.inputs { desired[input.name] = input.source }
        }
        let wanted = desired
        // Returned, not captured: the compiler (6.3.1) crashes promoting captured vars here.
        let (stopped, starting) = running.withLock { running -> ([(InputKey, Running)], [(InputKey, PipelineSpec.Input.Source)]) in
            var stopped: [(InputKey, Running)] = []
            var starting: [(InputKey, PipelineSpec.Input.Source)] = []
            for (key, current) in running where key.workspace == workspace && key.pipeline == pipeline {
                if wanted[key.input] != current.source {
                    stopped.append((key, current))
                    running.removeValue(forKey: key)
                }
            }
            for (name, source) in wanted {
                let key = InputKey(workspace: workspace, pipeline: pipeline, input: name)
                guard running[key] == nil else { continue }
                starting.append((key, source))
            }
            for (key, source) in starting {
                running[key] = Running(source: source, task: self.serveTask(key, source))
            }
            return (stopped, starting)
        }
        for (key, old) in stopped {
            old.task.cancel()
            logger.info("Pipeline input stopped", metadata: ["input": "\(key)"])
            // A nats input no longer declared gives its consumer up (its position with it).
            if case .nats(let stream, _) = old.source, desired[key.input] == nil {
                let jetStream = context.jetStream
                Task { try? await jetStream.deleteConsumer(stream: stream, consumer: Self.consumerName(key)) }
            }
        }
        for (key, _) in starting { logger.info("Pipeline input started", metadata: ["input": "\(key)"]) }
    }

    private func serveTask(_ key: InputKey, _ source: PipelineSpec.Input.Source) -> Task<Void, Never> {
        Task { [weak self] in await self?.serve(key, source) }
    }

    private func serve(_ key: InputKey, _ source: PipelineSpec.Input.Source) async {
        switch source {
        case .nats(let stream, let subject): await serveNATS(key, stream: stream, subject: subject)
        case .kv(let bucket, let pattern, let operations): await serveKV(key, bucket: bucket, pattern: pattern, operations: operations)
        case .schedule(let cron): await serveSchedule(key, cron: cron)
        case .pipeline: break  // the advancer starts these when the upstream run ends
        }
    }

    // MARK: - Publishing a run

    /// The `run` command of the input's pipeline, for one event.
    private func publishRun(_ key: InputKey, event: JSONObject, messageID: String) async throws {
        var event = event
        event["input"] = .string(key.input)
        let envelope = CommandEnvelope.run(
            ResourceReference(name: try ResourceName(key.pipeline), type: PipelineNames.type), workspace: try WorkspaceName(key.workspace), input: key.input,
            event: .object(event))
        try await context.jetStream.publish(envelope.encoded(), to: context.names.commandSubject, options: JetStreamPublishOptions(messageID: messageID))
    }

    /// The payload as JSON, or as text when it is not JSON.
    static func payload(_ bytes: [UInt8]) -> JSONValue {
        if let value = try? JSONValue(parsing: bytes) { return value }
        return .string(String(decoding: bytes, as: UTF8.self))
    }

    /// Says once per distinct problem why an input cannot serve (a log line), and on the
    /// pipeline's status (`lastError`, its phase unchanged), so `factoryctl get -d` shows it.
    private func report(_ key: InputKey, _ problem: String, previous: inout String?) async {
        guard problem != previous else { return }
        previous = problem
        logger.warning("A pipeline input cannot serve; trying again", metadata: ["input": "\(key)", "problem": "\(problem)"])
        let statusKey = StateKeys.status(workspace: key.workspace, name: key.pipeline)
        let store = StateStore(bucket: context.bucket)
        _ = try? await store.modify(StatusRecord.self, key: statusKey) { current in
            guard var status = current, status.phase != .deleted else { return nil }
            status.lastError = ErrorRecord(reason: "inputUnavailable", message: "input \(key.input): \(problem)", commandID: nil, at: Date())
            status.updatedAt = Date()
            return status
        }
    }

    // MARK: - nats

    static func consumerName(_ key: InputKey) -> String { "factory-pipeline-\(key.workspace)-\(key.pipeline)-\(key.input)" }

    private func serveNATS(_ key: InputKey, stream: String, subject: String) async {
        let name = Self.consumerName(key)
        var problem: String?
        while !Task.isCancelled {
            do {
                _ = try await context.jetStream.createOrUpdateConsumer(
                    stream: stream,
                    ConsumerConfiguration(
                        durableName: name, description: "Events of \(key): each becomes a run of the pipeline.", deliverPolicy: .new, ackPolicy: .explicit,
                        ackWait: .seconds(30), maxDeliver: -1, filterSubject: subject, maxAckPending: 100))
                let consumer = try await context.jetStream.pullConsumer(stream: stream, consumer: name)
                problem = nil
                while !Task.isCancelled {
                    for message in try await consumer.fetch(batch: 10, timeout: .seconds(1)) {
                        guard let metadata = message.metadata else {
                            try? message.term()
                            continue
                        }
                        // Member by member: one heterogeneous literal takes the type checker minutes.
                        var event = JSONObject()
                        event["subject"] = JSONValue.string(message.subject)
                        event["stream"] = JSONValue.string(metadata.stream)
                        event["sequence"] = JSONValue.number(JSONNumber(Int64(metadata.streamSequence)))
                        event["payload"] = Self.payload(message.payload)
                        do {
                            try await publishRun(key, event: event, messageID: "\(key.pipeline)/\(key.input)/\(metadata.stream)/\(metadata.streamSequence)")
                            PipelineMetrics.inputEvent(kind: "nats")
                            try await message.ackSync()
                        } catch {
                            logger.warning("Could not start a run for an event; it is delivered again", metadata: ["input": "\(key)", "error": "\(error)"])
                            try? message.nak(delay: .seconds(1))
                        }
                    }
                }
            } catch let error as NATSError where error.code == .notFound {
                await report(key, "stream \(stream) does not exist (create it, or fix the input's stream)", previous: &problem)
            } catch let error as NATSError where error.code == .permissionDenied || error.code == .authorization {
                await report(key, "the operator may not read \(subject) on \(stream): \(error.message)", previous: &problem)
            } catch {
                if Task.isCancelled { return }
                await report(key, "\(error)", previous: &problem)
            }
            try? await Task.sleep(for: .seconds(2))
        }
    }

    // MARK: - kv

    private func serveKV(_ key: InputKey, bucket name: String, pattern: String, operations: Set<PipelineSpec.Input.KVOperation>) async {
        var problem: String?
        while !Task.isCancelled {
            do {
                let bucket = try await context.jetStream.keyValue(name)
                let watcher = try await bucket.watch(pattern, options: KeyValueWatchOptions(updatesOnly: true))
                problem = nil
                for try await event in watcher {
                    guard case .entry(let entry) = event else { continue }
                    let operation: PipelineSpec.Input.KVOperation = entry.operation == .put ? .put : .delete
                    guard operations.contains(operation) else { continue }
                    var event = JSONObject()
                    event["bucket"] = JSONValue.string(name)
                    event["key"] = JSONValue.string(entry.key)
                    event["operation"] = JSONValue.string(operation.rawValue)
                    event["revision"] = JSONValue.number(JSONNumber(Int64(entry.revision)))
                    if operation == .put { event["payload"] = Self.payload(entry.value) }
                    // Every replica watches; the message id makes one command of each change.
                    for attempt in 1...5 {
                        do {
                            try await publishRun(key, event: event, messageID: "\(key.pipeline)/\(key.input)/\(name)/\(entry.key)/\(entry.revision)")
                            PipelineMetrics.inputEvent(kind: "kv")
                            break
                        } catch {
                            logger.warning("Could not start a run for a KV change", metadata: ["input": "\(key)", "attempt": "\(attempt)", "error": "\(error)"])
                            try? await Task.sleep(for: .seconds(1))
                        }
                    }
                }
            } catch let error as NATSError where error.code == .notFound {
                await report(key, "bucket \(name) does not exist", previous: &problem)
            } catch {
                if Task.isCancelled { return }
                await report(key, "\(error)", previous: &problem)
            }
            try? await Task.sleep(for: .seconds(2))
        }
    }

    // MARK: - schedule

    /// What the pipeline bucket records of a schedule input: the last slot fired and whether its
    /// command was published.
    struct ScheduleRecord: Codable, Hashable {
        var version = 1
        var slot: Date
        var published: Bool
        var firedAt: Date?
    }

    private func serveSchedule(_ key: InputKey, cron: CronSchedule) async {
        let recordKey = PipelineNames.scheduleKey(workspace: key.workspace, pipeline: key.pipeline, input: key.input)
        while !Task.isCancelled {
            try? await Task.sleep(for: scheduleTick)
            guard context.election.isLeader else { continue }
            do {
                try await fireDue(key, cron: cron, recordKey: recordKey)
            } catch {
                logger.warning("A schedule could not fire; trying again", metadata: ["input": "\(key)", "error": "\(error)"])
            }
        }
    }

    /// One look by the leader: a slot recorded and not published is published; else the latest
    /// slot due since the one recorded is recorded, then published, then marked. A schedule
    /// seen for the first time starts from now (no slot before the pipeline was applied fires).
    /// Slots missed while no leader was there are not all fired: the latest one is.
    private func fireDue(_ key: InputKey, cron: CronSchedule, recordKey: String) async throws {
        let now = clock()
        let bucket = context.bucket
        guard let entry = try await bucket.get(recordKey), entry.operation == .put, let record = try? Self.decoder.decode(ScheduleRecord.self, from: Data(entry.value)) else {
            let start = ScheduleRecord(slot: now, published: true, firedAt: nil)
            _ = try? await bucket.create(recordKey, Self.encode(start))
            return
        }
        var current = record
        var revision = entry.revision
        if !current.published {
            try await publishSlot(key, current.slot)
        } else {
            guard var due = cron.next(after: current.slot), due <= now else { return }
            while let later = cron.next(after: due), later <= now { due = later }
            current = ScheduleRecord(slot: due, published: false, firedAt: now)
            // Recorded before publishing: a leader that dies in between leaves it for the next.
            guard let written = try await Self.update(bucket, recordKey, Self.encode(current), revision: revision) else { return }
            revision = written
            try await publishSlot(key, due)
        }
        current.published = true
        _ = try? await bucket.update(recordKey, Self.encode(current), expectedRevision: revision)
    }

    /// Nil when another leader wrote the record first.
    static func update(_ bucket: KeyValueBucket, _ key: String, _ value: [UInt8], revision: UInt64) async throws -> UInt64? {
        do {
            return try await bucket.update(key, value, expectedRevision: revision)
        } catch let error as NATSError where error.code == .revisionConflict {
            return nil
        }
    }

    private func publishSlot(_ key: InputKey, _ slot: Date) async throws {
        let text = Self.slotText(slot)
        try await publishRun(key, event: ["slot": .string(PipelineTime.format(slot))], messageID: "\(key.pipeline)/\(key.input)/\(text)")
        PipelineMetrics.inputEvent(kind: "schedule")
        logger.info("Schedule fired", metadata: ["input": "\(key)", "slot": "\(text)"])
    }

    /// `20261122T020000Z`.
    static func slotText(_ slot: Date) -> String {
        PipelineTime.format(slot).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "").replacingOccurrences(of: ".000", with: "")
    }

    static func encode(_ record: ScheduleRecord) -> [UInt8] {
        (try? encoder.encode(record)).map(Array.init) ?? []
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(PipelineTime.format(date))
        }
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = PipelineTime.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(text) is not an RFC 3339 time")
            }
            return date
        }
        return decoder
    }()
}
