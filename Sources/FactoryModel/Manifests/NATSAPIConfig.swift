import JSONSchema

/// The NATS subjects of a resource type (`operator.resources[].natsApi`).
public struct NATSAPIConfig: Sendable, Hashable {
    /// Where commands are published: the JetStream stream and its subject.
    public struct Command: Sendable, Hashable {
        public var stream: String
        public var subject: String

        public init(stream: String, subject: String) {
            self.stream = stream
            self.subject = subject
        }
    }

    /// Where status queries go, and where answers without a reply inbox are sent.
    public struct Query: Sendable, Hashable {
        public var subject: String
        public var replySubject: String

        public init(subject: String, replySubject: String) {
            self.subject = subject
            self.replySubject = replySubject
        }
    }

    public var command: Command
    public var query: Query

    public init(command: Command, query: Query) {
        self.command = command
        self.query = query
    }

    /// The seed operator's subjects for `hightouch`.
    public static let hightouchDefault = DeploymentNames.standard(type: "hightouch").natsAPI

    init(fields: ManifestFields) throws(ManifestError) {
        let command = try fields.fields("command", describedAs: "natsApi.command")
        let query = try fields.fields("query", describedAs: "natsApi.query")
        self.command = Command(
            stream: try Self.streamName(command, "stream"),
            subject: try Self.subject(command, "subject"))
        self.query = Query(
            subject: try Self.subject(query, "subject"),
            replySubject: try Self.subject(query, "replySubject"))
    }

    /// A publishable subject: dot-separated non-empty tokens, no whitespace, no wildcards.
    private static func subject(_ fields: ManifestFields, _ key: String) throws(ManifestError) -> String {
        let subject = try fields.string(key)
        let tokens = subject.split(separator: ".", omittingEmptySubsequences: false)
        let valid = tokens.allSatisfy { token in
            !token.isEmpty && token != "*" && token != ">" && !token.contains(where: { $0.isWhitespace })
        }
        guard valid else {
            throw ManifestError(
                kind: .invalidValue,
                message: "\"\(subject)\" is not a NATS subject: use dot-separated tokens without spaces or wildcards, e.g. hightouch.pipeline.run",
                field: fields.pointer(key))
        }
        return subject
    }

    /// A JetStream stream name: no whitespace, `.`, `*`, `>`, `/` or `\`.
    private static func streamName(_ fields: ManifestFields, _ key: String) throws(ManifestError) -> String {
        let name = try fields.string(key)
        guard !name.contains(where: { $0.isWhitespace || ".*>/\\".contains($0) }) else {
            throw ManifestError(kind: .invalidValue, message: "\"\(name)\" is not a JetStream stream name: no spaces, '.', '*', '>', '/' or '\\'", field: fields.pointer(key))
        }
        return name
    }
}
