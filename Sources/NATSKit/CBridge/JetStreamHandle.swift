import CNATS
import Foundation

/// Owns one cnats JetStream context (`jsCtx *`) and makes the JetStream management and publish
/// calls. Every method waits for the server: call them on the blocking executor.
///
/// `@unchecked Sendable`: a jsCtx is immutable after creation and safe to share between threads
/// (cnats locks inside); it is destroyed exactly once, in `deinit`, after everything that holds
/// this handle (pull subscriptions, KV stores) is gone, because they hold it.
final class JetStreamHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let connection: ConnectionHandle
    let timeout: Duration

    private init(pointer: OpaquePointer, connection: ConnectionHandle, timeout: Duration) {
        self.pointer = pointer
        self.connection = connection
        self.timeout = timeout
    }

    deinit {
        jsCtx_Destroy(pointer)
    }

    static func make(connection: ConnectionHandle, options: JetStreamOptions) throws(NATSError) -> JetStreamHandle {
        let arena = CStringArena()
        var jsOptions = jsOptions()
        try CError.check(jsOptions_Init(&jsOptions), "JetStream options")
        jsOptions.Wait = options.timeout.wholeMilliseconds
        jsOptions.Domain = arena.string(options.domain)
        jsOptions.Prefix = arena.string(options.apiPrefix)
        var context: OpaquePointer? = nil
        try CError.check(natsConnection_JetStream(&context, connection.pointer, &jsOptions), "create JetStream context")
        guard let context else { throw NATSError(code: .unknown, operation: "create JetStream context", message: "no context returned") }
        return JetStreamHandle(pointer: context, connection: connection, timeout: options.timeout)
    }

    // MARK: - Streams

    func addOrUpdateStream(_ configuration: StreamConfiguration) throws(NATSError) -> StreamInfo {
        let operation = "create or update stream \(configuration.name)"
        let arena = CStringArena()
        var config = CConversions.streamConfig(configuration, arena: arena)
        var info: UnsafeMutablePointer<jsStreamInfo>? = nil
        var jsError = jsErrCode(rawValue: 0)
        var status = js_AddStream(&info, pointer, &config, nil, &jsError)
        // It exists: update it instead. JSStreamNameExistErr (10058) says so; servers before
        // 2.10 answer a racing create of the same stream with "subjects overlap" (10065).
        if status != NATS_OK, jsError.rawValue == 10058 || jsError.rawValue == 10065 {
            let addError = CError.make(status, operation: operation, jetStreamError: jsError)
            jsError = jsErrCode(rawValue: 0)
            status = js_UpdateStream(&info, pointer, &config, nil, &jsError)
            if status != NATS_OK, jsError.rawValue == 10059 {
                // No stream of that name: the subjects really belong to another stream.
                throw addError
            }
        }
        try CError.check(status, operation, jetStreamError: jsError)
        guard let info else { throw NATSError(code: .unknown, operation: operation, message: "no stream info returned") }
        defer { jsStreamInfo_Destroy(info) }
        return CConversions.streamInfo(info.pointee)
    }

    func streamInfo(_ name: String) throws(NATSError) -> StreamInfo {
        var info: UnsafeMutablePointer<jsStreamInfo>? = nil
        var jsError = jsErrCode(rawValue: 0)
        try CError.check(js_GetStreamInfo(&info, pointer, name, nil, &jsError), "get stream info of \(name)", jetStreamError: jsError)
        guard let info else { throw NATSError(code: .notFound, operation: "get stream info of \(name)", message: "no stream info returned") }
        defer { jsStreamInfo_Destroy(info) }
        return CConversions.streamInfo(info.pointee)
    }

    func deleteStream(_ name: String) throws(NATSError) {
        var jsError = jsErrCode(rawValue: 0)
        try CError.check(js_DeleteStream(pointer, name, nil, &jsError), "delete stream \(name)", jetStreamError: jsError)
    }

    func purgeStream(_ name: String, subject: String?) throws(NATSError) {
        let arena = CStringArena()
        var options = jsOptions()
        try CError.check(jsOptions_Init(&options), "purge options")
        options.Wait = timeout.wholeMilliseconds
        options.Stream.Purge.Subject = arena.string(subject)
        var jsError = jsErrCode(rawValue: 0)
        try CError.check(js_PurgeStream(pointer, name, &options, &jsError), "purge stream \(name)", jetStreamError: jsError)
    }

    func message(stream: String, sequence: UInt64) throws(NATSError) -> JetStreamStoredMessage {
        let operation = "get message \(sequence) of stream \(stream)"
        var message: OpaquePointer? = nil
        var jsError = jsErrCode(rawValue: 0)
        try CError.check(js_GetMsg(&message, pointer, stream, sequence, nil, &jsError), operation, jetStreamError: jsError)
        guard let message else { throw NATSError(code: .notFound, operation: operation, message: "no message returned") }
        defer { natsMsg_Destroy(message) }
        let copy = CMessage.copy(message)
        let time = natsMsg_GetTime(message)
        return JetStreamStoredMessage(
            stream: stream,
            sequence: natsMsg_GetSequence(message),
            subject: copy.subject,
            headers: copy.headers,
            payload: copy.payload,
            time: Date(timeIntervalSince1970: Double(time) / 1e9)
        )
    }

    func deleteMessage(stream: String, sequence: UInt64) throws(NATSError) {
        var jsError = jsErrCode(rawValue: 0)
        try CError.check(js_DeleteMsg(pointer, stream, sequence, nil, &jsError), "delete message \(sequence) of stream \(stream)", jetStreamError: jsError)
    }

    // MARK: - Consumers

    func addOrUpdateConsumer(stream: String, _ configuration: ConsumerConfiguration) throws(NATSError) -> ConsumerInfo {
        let name = configuration.durableName ?? "(ephemeral)"
        let operation = "create or update consumer \(name) on stream \(stream)"
        let arena = CStringArena()
        var config = CConversions.consumerConfig(configuration, arena: arena)
        var info: UnsafeMutablePointer<jsConsumerInfo>? = nil
        var jsError = jsErrCode(rawValue: 0)
        var exists = false
        if let durable = configuration.durableName {
            var existing: UnsafeMutablePointer<jsConsumerInfo>? = nil
            var lookupError = jsErrCode(rawValue: 0)
            if js_GetConsumerInfo(&existing, pointer, stream, durable, nil, &lookupError) == NATS_OK {
                exists = true
                if let existing { jsConsumerInfo_Destroy(existing) }
            }
        }
        var status: natsStatus
        if exists {
            status = js_UpdateConsumer(&info, pointer, stream, &config, nil, &jsError)
        } else {
            status = js_AddConsumer(&info, pointer, stream, &config, nil, &jsError)
            // Another replica created it between our look-up and our add.
            if status != NATS_OK, [10013, 10105, 10148].contains(Int(jsError.rawValue)) {
                jsError = jsErrCode(rawValue: 0)
                status = js_UpdateConsumer(&info, pointer, stream, &config, nil, &jsError)
            }
        }
        try CError.check(status, operation, jetStreamError: jsError)
        guard let info else { throw NATSError(code: .unknown, operation: operation, message: "no consumer info returned") }
        defer { jsConsumerInfo_Destroy(info) }
        return CConversions.consumerInfo(info.pointee)
    }

    func consumerInfo(stream: String, consumer: String) throws(NATSError) -> ConsumerInfo {
        let operation = "get consumer info of \(consumer) on stream \(stream)"
        var info: UnsafeMutablePointer<jsConsumerInfo>? = nil
        var jsError = jsErrCode(rawValue: 0)
        try CError.check(js_GetConsumerInfo(&info, pointer, stream, consumer, nil, &jsError), operation, jetStreamError: jsError)
        guard let info else { throw NATSError(code: .notFound, operation: operation, message: "no consumer info returned") }
        defer { jsConsumerInfo_Destroy(info) }
        return CConversions.consumerInfo(info.pointee)
    }

    func deleteConsumer(stream: String, consumer: String) throws(NATSError) {
        var jsError = jsErrCode(rawValue: 0)
        try CError.check(js_DeleteConsumer(pointer, stream, consumer, nil, &jsError), "delete consumer \(consumer) on stream \(stream)", jetStreamError: jsError)
    }
}
