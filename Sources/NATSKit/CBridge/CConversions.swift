import CNATS
import Foundation

/// The one place where Swift configuration values become cnats structs, and cnats info structs
/// become Swift values.
enum CConversions {
    // MARK: - Streams

    /// The returned struct points into `arena`; keep the arena alive while it is used.
    static func streamConfig(_ configuration: StreamConfiguration, arena: CStringArena) -> jsStreamConfig {
        var config = jsStreamConfig()
        jsStreamConfig_Init(&config)
        config.Name = arena.string(configuration.name)
        config.Description = arena.string(configuration.description)
        config.Subjects = arena.stringArray(configuration.subjects)
        config.SubjectsLen = Int32(configuration.subjects.count)
        switch configuration.retention {
        case .limits: config.Retention = js_LimitsPolicy
        case .interest: config.Retention = js_InterestPolicy
        case .workqueue: config.Retention = js_WorkQueuePolicy
        }
        config.MaxConsumers = Int64(configuration.maxConsumers)
        config.MaxMsgs = configuration.maxMessages
        config.MaxBytes = configuration.maxBytes
        config.MaxAge = configuration.maxAge?.wholeNanoseconds ?? 0
        config.MaxMsgsPerSubject = configuration.maxMessagesPerSubject
        config.MaxMsgSize = configuration.maxMessageSize
        config.Discard = configuration.discard == .new ? js_DiscardNew : js_DiscardOld
        config.Storage = configuration.storage == .memory ? js_MemoryStorage : js_FileStorage
        config.Replicas = Int64(configuration.replicas)
        config.NoAck = configuration.noAck
        config.Duplicates = configuration.duplicateWindow?.wholeNanoseconds ?? 0
        config.Sealed = configuration.sealed
        config.DenyDelete = configuration.denyDelete
        config.DenyPurge = configuration.denyPurge
        config.AllowRollup = configuration.allowRollup
        config.AllowDirect = configuration.allowDirect
        config.DiscardNewPerSubject = configuration.discardNewPerSubject
        return config
    }

    static func streamInfo(_ info: jsStreamInfo) -> StreamInfo {
        let configuration = info.Config.map { streamConfiguration($0.pointee) } ?? StreamConfiguration(name: "", subjects: [])
        return StreamInfo(
            configuration: configuration,
            created: date(nanoseconds: info.Created),
            state: StreamInfo.State(
                messages: info.State.Msgs,
                bytes: info.State.Bytes,
                firstSequence: info.State.FirstSeq,
                lastSequence: info.State.LastSeq,
                consumerCount: Int(info.State.Consumers),
                subjectCount: Int(info.State.NumSubjects)
            )
        )
    }

    static func streamConfiguration(_ config: jsStreamConfig) -> StreamConfiguration {
        var subjects: [String] = []
        if let list = config.Subjects {
            for index in 0..<Int(config.SubjectsLen) {
                if let subject = list[index] { subjects.append(String(cString: subject)) }
            }
        }
        let retention: StreamConfiguration.Retention
        switch config.Retention {
        case js_InterestPolicy: retention = .interest
        case js_WorkQueuePolicy: retention = .workqueue
        default: retention = .limits
        }
        return StreamConfiguration(
            name: string(config.Name) ?? "",
            description: string(config.Description),
            subjects: subjects,
            retention: retention,
            maxConsumers: Int(config.MaxConsumers),
            maxMessages: config.MaxMsgs,
            maxBytes: config.MaxBytes,
            maxAge: config.MaxAge > 0 ? .fromNanoseconds(config.MaxAge) : nil,
            maxMessagesPerSubject: config.MaxMsgsPerSubject,
            maxMessageSize: config.MaxMsgSize,
            discard: config.Discard == js_DiscardNew ? .new : .old,
            storage: config.Storage == js_MemoryStorage ? .memory : .file,
            replicas: Int(config.Replicas),
            noAck: config.NoAck,
            duplicateWindow: config.Duplicates > 0 ? .fromNanoseconds(config.Duplicates) : nil,
            sealed: config.Sealed,
            denyDelete: config.DenyDelete,
            denyPurge: config.DenyPurge,
            allowRollup: config.AllowRollup,
            allowDirect: config.AllowDirect,
            discardNewPerSubject: config.DiscardNewPerSubject
        )
    }

    // MARK: - Consumers

    static func consumerConfig(_ configuration: ConsumerConfiguration, arena: CStringArena) -> jsConsumerConfig {
        var config = jsConsumerConfig()
        jsConsumerConfig_Init(&config)
        config.Durable = arena.string(configuration.durableName)
        config.Description = arena.string(configuration.description)
        switch configuration.deliverPolicy {
        case .all: config.DeliverPolicy = js_DeliverAll
        case .last: config.DeliverPolicy = js_DeliverLast
        case .new: config.DeliverPolicy = js_DeliverNew
        case .byStartSequence: config.DeliverPolicy = js_DeliverByStartSequence
        case .byStartTime: config.DeliverPolicy = js_DeliverByStartTime
        case .lastPerSubject: config.DeliverPolicy = js_DeliverLastPerSubject
        }
        config.OptStartSeq = configuration.optStartSequence
        switch configuration.ackPolicy {
        case .explicit: config.AckPolicy = js_AckExplicit
        case .none: config.AckPolicy = js_AckNone
        case .all: config.AckPolicy = js_AckAll
        }
        config.AckWait = configuration.ackWait?.wholeNanoseconds ?? 0
        config.MaxDeliver = Int64(configuration.maxDeliver)
        config.BackOff = arena.int64Array(configuration.backoff.map(\.wholeNanoseconds))
        config.BackOffLen = Int32(configuration.backoff.count)
        config.FilterSubject = arena.string(configuration.filterSubject)
        config.ReplayPolicy = configuration.replayPolicy == .original ? js_ReplayOriginal : js_ReplayInstant
        config.MaxWaiting = Int64(configuration.maxWaiting)
        config.MaxAckPending = Int64(configuration.maxAckPending)
        config.MaxRequestBatch = Int64(configuration.maxRequestBatch)
        config.MaxRequestExpires = configuration.maxRequestExpires?.wholeNanoseconds ?? 0
        config.InactiveThreshold = configuration.inactiveThreshold?.wholeNanoseconds ?? 0
        config.Replicas = Int64(configuration.replicas)
        config.MemoryStorage = configuration.memoryStorage
        config.HeadersOnly = configuration.headersOnly
        return config
    }

    static func consumerInfo(_ info: jsConsumerInfo) -> ConsumerInfo {
        let configuration = info.Config.map { consumerConfiguration($0.pointee) } ?? ConsumerConfiguration(durableName: nil)
        return ConsumerInfo(
            stream: string(info.Stream) ?? "",
            name: string(info.Name) ?? "",
            configuration: configuration,
            created: date(nanoseconds: info.Created),
            delivered: .init(consumer: info.Delivered.Consumer, stream: info.Delivered.Stream),
            ackFloor: .init(consumer: info.AckFloor.Consumer, stream: info.AckFloor.Stream),
            pendingAcks: Int(info.NumAckPending),
            redelivered: Int(info.NumRedelivered),
            waitingPulls: Int(info.NumWaiting),
            pendingMessages: info.NumPending
        )
    }

    static func consumerConfiguration(_ config: jsConsumerConfig) -> ConsumerConfiguration {
        let deliverPolicy: ConsumerConfiguration.DeliverPolicy
        switch config.DeliverPolicy {
        case js_DeliverLast: deliverPolicy = .last
        case js_DeliverNew: deliverPolicy = .new
        case js_DeliverByStartSequence: deliverPolicy = .byStartSequence
        case js_DeliverByStartTime: deliverPolicy = .byStartTime
        case js_DeliverLastPerSubject: deliverPolicy = .lastPerSubject
        default: deliverPolicy = .all
        }
        let ackPolicy: ConsumerConfiguration.AckPolicy
        switch config.AckPolicy {
        case js_AckNone: ackPolicy = .none
        case js_AckAll: ackPolicy = .all
        default: ackPolicy = .explicit
        }
        var backoff: [Duration] = []
        if let values = config.BackOff {
            for index in 0..<Int(config.BackOffLen) { backoff.append(.fromNanoseconds(values[index])) }
        }
        return ConsumerConfiguration(
            durableName: string(config.Durable),
            description: string(config.Description),
            deliverPolicy: deliverPolicy,
            optStartSequence: config.OptStartSeq,
            ackPolicy: ackPolicy,
            ackWait: config.AckWait > 0 ? .fromNanoseconds(config.AckWait) : nil,
            maxDeliver: Int(config.MaxDeliver),
            backoff: backoff,
            filterSubject: string(config.FilterSubject).flatMap { $0.isEmpty ? nil : $0 },
            replayPolicy: config.ReplayPolicy == js_ReplayOriginal ? .original : .instant,
            maxWaiting: Int(config.MaxWaiting),
            maxAckPending: Int(config.MaxAckPending),
            maxRequestBatch: Int(config.MaxRequestBatch),
            maxRequestExpires: config.MaxRequestExpires > 0 ? .fromNanoseconds(config.MaxRequestExpires) : nil,
            inactiveThreshold: config.InactiveThreshold > 0 ? .fromNanoseconds(config.InactiveThreshold) : nil,
            replicas: Int(config.Replicas),
            memoryStorage: config.MemoryStorage,
            headersOnly: config.HeadersOnly
        )
    }

    // MARK: - Helpers

    static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    static func date(nanoseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(nanoseconds) / 1e9)
    }
}
