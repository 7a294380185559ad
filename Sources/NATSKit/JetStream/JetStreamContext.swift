/// JetStream on a connection: streams, consumers, publishing with acknowledgement, pull
/// consumers and key-value buckets. Every call waits for the server and runs on NATSKit's
/// blocking executor.
public final class JetStreamContext: Sendable {
    let handle: JetStreamHandle
    public let connection: NATSConnection
    public let options: JetStreamOptions

    init(handle: JetStreamHandle, connection: NATSConnection, options: JetStreamOptions) {
        self.handle = handle
        self.connection = connection
        self.options = options
    }

    // MARK: - Streams

    /// Creates the stream, or updates it to `configuration` if it exists. Idempotent.
    @discardableResult
    public func createOrUpdateStream(_ configuration: StreamConfiguration) async throws(NATSError) -> StreamInfo {
        let operation = "create or update stream \(configuration.name)"
        try NATSNames.validateStreamName(configuration.name, operation: operation)
        for subject in configuration.subjects {
            try NATSNames.validateSubscribeSubject(subject, operation: operation)
        }
        return try await run { handle throws(NATSError) in try handle.addOrUpdateStream(configuration) }
    }

    public func streamInfo(_ name: String) async throws(NATSError) -> StreamInfo {
        try NATSNames.validateStreamName(name, operation: "get stream info")
        return try await run { handle throws(NATSError) in try handle.streamInfo(name) }
    }

    public func deleteStream(_ name: String) async throws(NATSError) {
        try NATSNames.validateStreamName(name, operation: "delete stream")
        try await run { handle throws(NATSError) in try handle.deleteStream(name) }
    }

    /// Removes every message of the stream, or only those on `subject`.
    public func purgeStream(_ name: String, subject: String? = nil) async throws(NATSError) {
        try NATSNames.validateStreamName(name, operation: "purge stream")
        if let subject { try NATSNames.validateSubscribeSubject(subject, operation: "purge stream \(name)") }
        try await run { handle throws(NATSError) in try handle.purgeStream(name, subject: subject) }
    }

    /// Reads one stored message by sequence (e.g. to inspect a dead letter).
    public func message(stream: String, sequence: UInt64) async throws(NATSError) -> JetStreamStoredMessage {
        try NATSNames.validateStreamName(stream, operation: "get message")
        return try await run { handle throws(NATSError) in try handle.message(stream: stream, sequence: sequence) }
    }

    public func deleteMessage(stream: String, sequence: UInt64) async throws(NATSError) {
        try NATSNames.validateStreamName(stream, operation: "delete message")
        try await run { handle throws(NATSError) in try handle.deleteMessage(stream: stream, sequence: sequence) }
    }

    // MARK: - Consumers

    /// Creates the durable consumer on `stream`, or updates it to `configuration`. Idempotent,
    /// and safe when several replicas do it at once.
    @discardableResult
    public func createOrUpdateConsumer(stream: String, _ configuration: ConsumerConfiguration) async throws(NATSError) -> ConsumerInfo {
        let operation = "create or update consumer on stream \(stream)"
        try NATSNames.validateStreamName(stream, operation: operation)
        guard let durable = configuration.durableName else {
            throw .invalidArgument("only durable consumers are supported here; set durable_name", operation: operation)
        }
        try NATSNames.validateConsumerName(durable, operation: operation)
        if let filter = configuration.filterSubject { try NATSNames.validateSubscribeSubject(filter, operation: operation) }
        if configuration.maxDeliver > 0, !configuration.backoff.isEmpty, configuration.maxDeliver <= configuration.backoff.count {
            throw .invalidArgument(
                "max_deliver (\(configuration.maxDeliver)) must be greater than the number of backoff steps (\(configuration.backoff.count))",
                operation: operation
            )
        }
        return try await run { handle throws(NATSError) in try handle.addOrUpdateConsumer(stream: stream, configuration) }
    }

    public func consumerInfo(stream: String, consumer: String) async throws(NATSError) -> ConsumerInfo {
        try NATSNames.validateStreamName(stream, operation: "get consumer info")
        try NATSNames.validateConsumerName(consumer, operation: "get consumer info")
        return try await run { handle throws(NATSError) in try handle.consumerInfo(stream: stream, consumer: consumer) }
    }

    public func deleteConsumer(stream: String, consumer: String) async throws(NATSError) {
        try NATSNames.validateStreamName(stream, operation: "delete consumer")
        try NATSNames.validateConsumerName(consumer, operation: "delete consumer")
        try await run { handle throws(NATSError) in try handle.deleteConsumer(stream: stream, consumer: consumer) }
    }

    /// Binds a subscriber to the existing durable pull consumer `consumer` of `stream`.
    public func pullConsumer(stream: String, consumer: String) async throws(NATSError) -> JetStreamPullConsumer {
        let operation = "bind to consumer \(consumer)"
        try NATSNames.validateStreamName(stream, operation: operation)
        try NATSNames.validateConsumerName(consumer, operation: operation)
        let subscription = try await run { handle throws(NATSError) -> PullSubscriptionHandle in
            try PullSubscriptionHandle.bind(jetStream: handle, stream: stream, consumer: consumer)
        }
        return JetStreamPullConsumer(handle: subscription, responses: connection.responses)
    }

    // MARK: - Publish

    /// Publishes to a stream and waits for its acknowledgement.
    @discardableResult
    public func publish(
        _ payload: [UInt8],
        to subject: String,
        headers: NATSHeaders = NATSHeaders(),
        options: JetStreamPublishOptions = JetStreamPublishOptions()
    ) async throws(NATSError) -> JetStreamPublishAck {
        try NATSNames.validatePublishSubject(subject, operation: "JetStream publish")
        if let stream = options.expectedStream { try NATSNames.validateStreamName(stream, operation: "JetStream publish") }
        let operation = "JetStream publish to \(subject)"
        try connection.checkOpen(operation)
        let reply: NATSMessage
        do throws(NATSError) {
            reply = try await connection.responses.request(
                subject: subject,
                headers: JetStreamWire.publishHeaders(headers, options: options),
                payload: payload,
                timeout: options.timeout ?? self.options.timeout,
                operation: operation
            )
        } catch let error where error.code == .noResponders {
            throw JetStreamWire.noStream(for: subject, operation: operation)
        }
        return try JetStreamWire.decodePublishAck(reply, subject: subject, operation: operation)
    }

    // MARK: - Key-value

    /// Creates the bucket, or updates its limits (history, TTL, size) to `configuration` if it
    /// exists, and binds to it. Idempotent.
    public func createOrUpdateKeyValue(_ configuration: KeyValueConfiguration) async throws(NATSError) -> KeyValueBucket {
        try NATSNames.validateBucketName(configuration.bucket, operation: "create key-value bucket")
        guard (1...64).contains(configuration.history) else {
            throw .invalidArgument("history must be between 1 and 64, not \(configuration.history)", operation: "create key-value bucket \(configuration.bucket)")
        }
        let store = try await run { handle throws(NATSError) -> KeyValueHandle in
            try KeyValueHandle.createOrUpdate(jetStream: handle, configuration: configuration)
        }
        return KeyValueBucket(handle: store, jetStream: self)
    }

    /// Binds to an existing bucket.
    public func keyValue(_ bucket: String) async throws(NATSError) -> KeyValueBucket {
        try NATSNames.validateBucketName(bucket, operation: "bind to key-value bucket")
        let store = try await run { handle throws(NATSError) -> KeyValueHandle in
            try KeyValueHandle.bind(jetStream: handle, bucket: bucket)
        }
        return KeyValueBucket(handle: store, jetStream: self)
    }

    public func deleteKeyValue(_ bucket: String) async throws(NATSError) {
        try NATSNames.validateBucketName(bucket, operation: "delete key-value bucket")
        try await run { handle throws(NATSError) in try KeyValueHandle.delete(jetStream: handle, bucket: bucket) }
    }

    // MARK: - Private

    private func run<T: Sendable>(_ body: @escaping @Sendable (JetStreamHandle) throws(NATSError) -> T) async throws(NATSError) -> T {
        let handle = self.handle
        let started = ContinuousClock.now
        do {
            return try await BlockingExecutor.shared.runThrowing { () throws(NATSError) -> T in try body(handle) }
        } catch where error.code == .timeout {
            // A JetStream API request the user may not publish gets no answer, only an
            // asynchronous violation: say that instead of a timeout.
            guard let violation = connection.handle.events.permissionViolation(since: started, containing: "$JS.API.") else { throw error }
            throw NATSError(
                code: .permissionDenied, operation: error.operation,
                message: "not permitted: \(violation); grant the user the JetStream API subject (NATS permissions)", status: error.status)
        }
    }
}

extension NATSConnection {
    /// A JetStream context on this connection.
    public func jetStream(options: JetStreamOptions = JetStreamOptions()) async throws(NATSError) -> JetStreamContext {
        try checkOpen("create JetStream context")
        let connectionHandle = handle
        let jetStreamHandle = try await BlockingExecutor.shared.runThrowing { () throws(NATSError) -> JetStreamHandle in
            try JetStreamHandle.make(connection: connectionHandle, options: options)
        }
        return JetStreamContext(handle: jetStreamHandle, connection: self, options: options)
    }
}
