import Foundation
import NATSKit

// MARK: - CLIError

/// A failure factoryctl reports as one line on standard error, with an exit status that tells
/// scripts what kind of failure it was:
///
/// | status | meaning |
/// |---|---|
/// | 1 | the request failed: not found, refused by the operator, the watched run failed |
/// | 2 | invalid input: a manifest, a name or an option value |
/// | 3 | NATS or the operator is unreachable: no server, no responders, timeout |
struct CLIError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        case failed
        case invalidInput
        case unavailable

        var exitCode: Int32 {
            switch self {
            case .failed: return 1
            case .invalidInput: return 2
            case .unavailable: return 3
            }
        }
    }

    let kind: Kind
    /// One line saying what was wrong and what to do.
    let message: String
    /// Nobody answered on a query subject (a type no operator serves here).
    private(set) var isNoOperator = false

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        // One line, always: a multi-line cause is folded.
        self.message = message.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    var description: String { message }
    var exitCode: Int32 { kind.exitCode }

    // MARK: - Factories

    static func invalidInput(_ message: String) -> CLIError {
        CLIError(.invalidInput, message)
    }

    static func failed(_ message: String) -> CLIError {
        CLIError(.failed, message)
    }

    /// No NATS server answered at `servers`.
    static func noServer(_ servers: String, detail: String) -> CLIError {
        CLIError(
            .unavailable,
            "cannot connect to NATS at \(servers): \(detail); start the local stack with scripts/dev (or factoryctl dev), or point --server or NATS_URL at your server"
        )
    }

    /// Nobody listens on the query subject: no operator runs.
    static func noOperator(querySubject: String, servers: String) -> CLIError {
        var error = CLIError(
            .unavailable,
            "no operator answered on \(querySubject) at \(servers): no replica serving it is running there; start one (scripts/dev starts two) or check --query-subject"
        )
        error.isNoOperator = true
        return error
    }

    /// No stream stores the command subject: no operator has provisioned it yet.
    static func noStream(commandSubject: String, servers: String) -> CLIError {
        CLIError(
            .unavailable,
            "no JetStream stream stores \(commandSubject) at \(servers): no operator has provisioned it yet; start one (scripts/dev), or check --command-subject"
        )
    }

    static func timeout(_ what: String, after timeout: Duration) -> CLIError {
        CLIError(.unavailable, "\(what) did not answer within \(Durations.text(timeout)); the operator or the server may be overloaded; try again or raise --timeout")
    }

    static func notFound(name: String, workspace: String) -> CLIError {
        CLIError(.failed, "resource \(name) not found in workspace \(workspace); list the workspace with factoryctl get -t resource -w \(workspace)")
    }

    // MARK: - From NATS

    /// cnats' text without its source location (`(conn.c:2088): `) and our own advice after `;`,
    /// in plain words where we know them.
    static func connectionDetail(_ message: String) -> String {
        var text = Substring(message.components(separatedBy: ";").first ?? message)
        if text.hasPrefix("("), let close = text.firstIndex(of: ")") {
            text = text[text.index(after: close)...].drop { $0 == ":" || $0 == " " }
        }
        if text.localizedCaseInsensitiveContains("no server available") {
            return "no server is listening there"
        }
        return text.isEmpty ? message : String(text)
    }

    /// Maps a NATSKit error during `activity` to the user's terms.
    static func nats(_ error: NATSError, during activity: String, settings: ConnectionSettings) -> CLIError {
        switch error.code {
        case .connectionFailed, .notConnected, .io, .connectionClosed:
            return .noServer(settings.serverList, detail: connectionDetail(error.message))
        case .timeout:
            return .timeout(activity, after: settings.timeout)
        case .authorization:
            return CLIError(.unavailable, "the NATS server at \(settings.serverList) refused the credentials; check --user/--password, --token or --creds (or NATS_USER, NATS_PASSWORD, NATS_TOKEN, NATS_CREDS)")
        case .permissionDenied:
            return CLIError(.failed, "\(activity): the NATS server denied permission (\(error.message)); ask for publish/subscribe rights on the operator's subjects")
        case .tls:
            return CLIError(.unavailable, "TLS to \(settings.serverList) failed (\(error.message)); check --tlsca, --tlscert and --tlskey")
        case .jetStreamNotEnabled:
            return CLIError(.unavailable, "JetStream is not enabled on the server at \(settings.serverList); start nats-server with -js")
        case .invalidName, .invalidArgument:
            return CLIError(.invalidInput, "\(activity): \(error.message)")
        default:
            return CLIError(.failed, "\(activity) failed: \(error.message)")
        }
    }
}
