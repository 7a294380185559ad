/// An error from NATSKit: what failed, the cnats status, the JetStream error code when the server
/// sent one, and the library's own message (read on the thread that failed, as cnats keeps it
/// thread-local).
public struct NATSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable, extensible classification of the error.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, Hashable, Sendable {
            case timeout
            case notFound
            case noResponders
            case connectionClosed
            case connectionFailed
            case notConnected
            case authorization
            case permissionDenied
            case tls
            case invalidArgument
            case invalidName
            case revisionConflict
            case keyExists
            case jetStream
            case jetStreamNotEnabled
            case slowConsumer
            case alreadyAcknowledged
            case illegalState
            case payloadTooLarge
            case io
            case protocolError
            case unknown
        }

        fileprivate let base: Base

        /// The operation did not complete within its timeout.
        public static let timeout = Code(base: .timeout)
        /// The key, stream, consumer or message does not exist.
        public static let notFound = Code(base: .notFound)
        /// A request found nobody subscribed to its subject.
        public static let noResponders = Code(base: .noResponders)
        /// The connection is closed; make a new one.
        public static let connectionClosed = Code(base: .connectionClosed)
        /// No server could be reached.
        public static let connectionFailed = Code(base: .connectionFailed)
        /// The connection is not (yet, or at the moment) connected.
        public static let notConnected = Code(base: .notConnected)
        /// The server refused the credentials.
        public static let authorization = Code(base: .authorization)
        /// The server refused the subject for these credentials.
        public static let permissionDenied = Code(base: .permissionDenied)
        /// A TLS handshake, certificate or key problem.
        public static let tls = Code(base: .tls)
        /// An argument was refused before or by the library.
        public static let invalidArgument = Code(base: .invalidArgument)
        /// A subject, stream, consumer, bucket or key name was refused before reaching C.
        public static let invalidName = Code(base: .invalidName)
        /// A compare-and-set failed: the entry's revision is not the one expected.
        public static let revisionConflict = Code(base: .revisionConflict)
        /// A create failed because the key already exists.
        public static let keyExists = Code(base: .keyExists)
        /// The JetStream API answered with an error; see `jetStreamErrorCode`.
        public static let jetStream = Code(base: .jetStream)
        /// JetStream is not enabled on the server or account.
        public static let jetStreamNotEnabled = Code(base: .jetStreamNotEnabled)
        /// Messages were dropped because the subscriber did not keep up.
        public static let slowConsumer = Code(base: .slowConsumer)
        /// The message was already acknowledged (acked, nak'd or terminated).
        public static let alreadyAcknowledged = Code(base: .alreadyAcknowledged)
        /// The call is not allowed in the object's current state (e.g. a closed connection).
        public static let illegalState = Code(base: .illegalState)
        /// The payload is larger than the server's maximum.
        public static let payloadTooLarge = Code(base: .payloadTooLarge)
        /// A socket or system error.
        public static let io = Code(base: .io)
        /// The server or client broke the protocol.
        public static let protocolError = Code(base: .protocolError)
        /// Anything else.
        public static let unknown = Code(base: .unknown)

        public var description: String { base.rawValue }
    }

    /// What kind of error this is.
    public let code: Code
    /// The operation that failed, e.g. `kvStore_Update(bucket: state, key: a.b)`.
    public let operation: String
    /// A plain message saying what went wrong and, where we know, what to do.
    public let message: String
    /// The cnats status name (e.g. `NATS_TIMEOUT`), when the error came from cnats.
    public let status: String?
    /// The JetStream API error code (e.g. 10071 for a wrong last sequence), when the server sent one.
    public let jetStreamErrorCode: Int?

    public init(
        code: Code,
        operation: String,
        message: String,
        status: String? = nil,
        jetStreamErrorCode: Int? = nil
    ) {
        self.code = code
        self.operation = operation
        self.message = message
        self.status = status
        self.jetStreamErrorCode = jetStreamErrorCode
    }

    public var description: String {
        var text = "\(operation) failed: \(message)"
        var details: [String] = ["code: \(code)"]
        if let status { details.append("status: \(status)") }
        if let jetStreamErrorCode { details.append("JetStream error \(jetStreamErrorCode)") }
        text += " (" + details.joined(separator: ", ") + ")"
        return text
    }

    /// Worth trying again later: timeouts, outages and missing responders during fail-over, and
    /// a JetStream cluster still electing (10008: "JetStream system temporarily unavailable";
    /// 10004: no peers for placement yet).
    public var isRetriable: Bool {
        switch code.base {
        case .timeout, .noResponders, .notConnected, .io, .connectionFailed, .slowConsumer:
            return true
        default:
            return jetStreamErrorCode == 10008 || jetStreamErrorCode == 10004
        }
    }

    /// A compare-and-set lost: someone else wrote first.
    public var isConflict: Bool {
        code == .revisionConflict || code == .keyExists
    }
}

// MARK: - Factories used inside NATSKit

extension NATSError {
    static func invalidName(_ kind: String, _ value: String, rule: String, operation: String) -> NATSError {
        NATSError(
            code: .invalidName,
            operation: operation,
            message: "invalid \(kind) \"\(value.debugDescription.dropFirst().dropLast())\": \(rule)"
        )
    }

    static func invalidArgument(_ message: String, operation: String) -> NATSError {
        NATSError(code: .invalidArgument, operation: operation, message: message)
    }

    static func closed(operation: String) -> NATSError {
        NATSError(
            code: .connectionClosed,
            operation: operation,
            message: "the connection is closed; connect again to continue"
        )
    }
}
