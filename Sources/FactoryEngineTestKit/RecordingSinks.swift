import FactoryEngine
import Synchronization

/// Dead letters kept in memory, for assertions; can be made to fail.
public final class RecordingDeadLetters: DeadLetterRecorder, Sendable {
    public struct Letter: Sendable, Hashable {
        public var commandID: String
        public var reason: String
        public var message: String
        public var workspace: String?
        public var resource: String?
    }

    private let state = Mutex<(letters: [Letter], failures: Int)>(([], 0))

    public init() {}

    public var letters: [Letter] { state.withLock { $0.letters } }

    /// The next `count` records throw.
    public func failNext(_ count: Int = 1) { state.withLock { $0.failures += count } }

    public func record(_ delivery: CommandDelivery, reason: String, message: String, workspace: String?, resource: String?) async throws {
        try state.withLock { state in
            if state.failures > 0 {
                state.failures -= 1
                throw RecordingFailure(what: "dead letter")
            }
            // Published with a message id per command and reason: a repeat is dropped.
            let letter = Letter(commandID: delivery.commandID, reason: reason, message: message, workspace: workspace, resource: resource)
            if !state.letters.contains(where: { $0.commandID == letter.commandID && $0.reason == letter.reason }) {
                state.letters.append(letter)
            }
        }
    }
}

/// Follow-ups kept in memory, de-duplicated by message id as JetStream does within its window.
public final class RecordingFollowUps: FollowUpPublisher, Sendable {
    private let state = Mutex<(published: [FollowUp], failures: Int)>(([], 0))

    public init() {}

    public var published: [FollowUp] { state.withLock { $0.published } }

    /// The next `count` publishes throw.
    public func failNext(_ count: Int = 1) { state.withLock { $0.failures += count } }

    public func publish(_ followUp: FollowUp) async throws {
        try state.withLock { state in
            if state.failures > 0 {
                state.failures -= 1
                throw RecordingFailure(what: "follow-up")
            }
            if !state.published.contains(where: { $0.messageID == followUp.messageID }) {
                state.published.append(followUp)
            }
        }
    }
}

/// A scripted failure of a recording sink.
public struct RecordingFailure: Error, CustomStringConvertible {
    public let what: String
    public var description: String { "injected fault: publishing a \(what)" }
}
