import CNATS
import Foundation

/// Turns a cnats status into a `NATSError`. Must be called on the thread that made the failing
/// call: cnats keeps its last error text in thread-local storage.
enum CError {
    /// Throws if `status` is not `NATS_OK`.
    @inline(__always)
    static func check(_ status: natsStatus, _ operation: @autoclosure () -> String, jetStreamError: jsErrCode = jsErrCode(rawValue: 0)) throws(NATSError) {
        guard status != NATS_OK else { return }
        throw make(status, operation: operation(), jetStreamError: jetStreamError)
    }

    static func make(_ status: natsStatus, operation: String, jetStreamError: jsErrCode = jsErrCode(rawValue: 0)) -> NATSError {
        let statusName = String(cString: natsStatus_GetText(status))
        var lastError = ""
        if let text = nats_GetLastError(nil) {
            lastError = String(cString: text)
        }
        let message = lastError.isEmpty ? statusName : withoutSourceLocation(lastError)
        let jsCode = Int(jetStreamError.rawValue)
        let code = classify(status, jetStreamErrorCode: jsCode, message: message)
        return NATSError(
            code: code,
            operation: operation,
            message: message,
            status: name(of: status),
            jetStreamErrorCode: jsCode == 0 ? nil : jsCode
        )
    }

    /// cnats prefixes its messages with where they were raised, e.g. `(conn.c:1905): `; that is
    /// noise to the reader of an error.
    static func withoutSourceLocation(_ message: String) -> String {
        guard message.hasPrefix("("), let end = message.range(of: "): "), message.distance(from: message.startIndex, to: end.lowerBound) < 40 else {
            return message
        }
        return String(message[end.upperBound...])
    }

    private static func classify(_ status: natsStatus, jetStreamErrorCode: Int, message: String) -> NATSError.Code {
        // JetStream codes first: they are more precise than the status.
        switch jetStreamErrorCode {
        case 0: break
        case 10071: return .revisionConflict
        case 10014, 10059, 10037: return .notFound
        case 10039, 10076: return .jetStreamNotEnabled
        default: return .jetStream
        }
        // A failed KV compare-and-set comes back as NATS_ERR with the server's text only.
        if message.contains("wrong last sequence") {
            return .revisionConflict
        }
        switch status {
        case NATS_TIMEOUT: return .timeout
        case NATS_NOT_FOUND: return .notFound
        case NATS_NO_RESPONDERS: return .noResponders
        case NATS_CONNECTION_CLOSED: return .connectionClosed
        case NATS_NO_SERVER: return .connectionFailed
        case NATS_NOT_YET_CONNECTED, NATS_CONNECTION_DISCONNECTED, NATS_STALE_CONNECTION: return .notConnected
        case NATS_CONNECTION_AUTH_FAILED: return .authorization
        case NATS_NOT_PERMITTED: return .permissionDenied
        case NATS_SSL_ERROR, NATS_SECURE_CONNECTION_WANTED, NATS_SECURE_CONNECTION_REQUIRED: return .tls
        case NATS_INVALID_ARG, NATS_INVALID_SUBJECT, NATS_INVALID_TIMEOUT, NATS_INVALID_QUEUE_NAME, NATS_ADDRESS_MISSING:
            return .invalidArgument
        case NATS_ILLEGAL_STATE, NATS_INVALID_SUBSCRIPTION, NATS_DRAINING: return .illegalState
        case NATS_SLOW_CONSUMER: return .slowConsumer
        case NATS_MAX_PAYLOAD: return .payloadTooLarge
        case NATS_IO_ERROR, NATS_SYS_ERROR: return .io
        case NATS_PROTOCOL_ERROR, NATS_LINE_TOO_LONG: return .protocolError
        default: return .unknown
        }
    }

    /// The enum constant's name, which is what people search for.
    static func name(of status: natsStatus) -> String {
        switch status {
        case NATS_OK: return "NATS_OK"
        case NATS_ERR: return "NATS_ERR"
        case NATS_PROTOCOL_ERROR: return "NATS_PROTOCOL_ERROR"
        case NATS_IO_ERROR: return "NATS_IO_ERROR"
        case NATS_LINE_TOO_LONG: return "NATS_LINE_TOO_LONG"
        case NATS_CONNECTION_CLOSED: return "NATS_CONNECTION_CLOSED"
        case NATS_NO_SERVER: return "NATS_NO_SERVER"
        case NATS_STALE_CONNECTION: return "NATS_STALE_CONNECTION"
        case NATS_SECURE_CONNECTION_WANTED: return "NATS_SECURE_CONNECTION_WANTED"
        case NATS_SECURE_CONNECTION_REQUIRED: return "NATS_SECURE_CONNECTION_REQUIRED"
        case NATS_CONNECTION_DISCONNECTED: return "NATS_CONNECTION_DISCONNECTED"
        case NATS_CONNECTION_AUTH_FAILED: return "NATS_CONNECTION_AUTH_FAILED"
        case NATS_NOT_PERMITTED: return "NATS_NOT_PERMITTED"
        case NATS_NOT_FOUND: return "NATS_NOT_FOUND"
        case NATS_ADDRESS_MISSING: return "NATS_ADDRESS_MISSING"
        case NATS_INVALID_SUBJECT: return "NATS_INVALID_SUBJECT"
        case NATS_INVALID_ARG: return "NATS_INVALID_ARG"
        case NATS_INVALID_SUBSCRIPTION: return "NATS_INVALID_SUBSCRIPTION"
        case NATS_INVALID_TIMEOUT: return "NATS_INVALID_TIMEOUT"
        case NATS_ILLEGAL_STATE: return "NATS_ILLEGAL_STATE"
        case NATS_SLOW_CONSUMER: return "NATS_SLOW_CONSUMER"
        case NATS_MAX_PAYLOAD: return "NATS_MAX_PAYLOAD"
        case NATS_MAX_DELIVERED_MSGS: return "NATS_MAX_DELIVERED_MSGS"
        case NATS_INSUFFICIENT_BUFFER: return "NATS_INSUFFICIENT_BUFFER"
        case NATS_NO_MEMORY: return "NATS_NO_MEMORY"
        case NATS_SYS_ERROR: return "NATS_SYS_ERROR"
        case NATS_TIMEOUT: return "NATS_TIMEOUT"
        case NATS_FAILED_TO_INITIALIZE: return "NATS_FAILED_TO_INITIALIZE"
        case NATS_NOT_INITIALIZED: return "NATS_NOT_INITIALIZED"
        case NATS_SSL_ERROR: return "NATS_SSL_ERROR"
        case NATS_NO_SERVER_SUPPORT: return "NATS_NO_SERVER_SUPPORT"
        case NATS_NOT_YET_CONNECTED: return "NATS_NOT_YET_CONNECTED"
        case NATS_DRAINING: return "NATS_DRAINING"
        case NATS_INVALID_QUEUE_NAME: return "NATS_INVALID_QUEUE_NAME"
        case NATS_NO_RESPONDERS: return "NATS_NO_RESPONDERS"
        case NATS_MISMATCH: return "NATS_MISMATCH"
        case NATS_MISSED_HEARTBEAT: return "NATS_MISSED_HEARTBEAT"
        default: return "natsStatus(\(status.rawValue))"
        }
    }
}
