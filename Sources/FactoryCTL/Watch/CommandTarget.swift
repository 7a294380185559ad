// MARK: - CommandTarget

/// A command factoryctl just published and now waits for (`apply --watch`, `run --watch`,
/// `delete --watch`): its `Nats-Msg-Id`, which the operator records as the command's id, and
/// where the stream stored it.
struct CommandTarget: Sendable, Hashable {
    var id: String
    var operation: String
    var stream: String
    var sequence: UInt64
}
