import FactoryModel
import Foundation
import JSONSchema

// MARK: - ConsoleConfiguration

/// What `factoryctl console` serves and where: the address, the state buckets it watches (one
/// per resource type; the pipeline type's bucket also holds the pipeline run documents) and
/// whether it accepts actions.
public struct ConsoleConfiguration: Sendable {
    /// One resource type's state bucket.
    public struct Bucket: Sendable, Hashable {
        public var type: String
        public var name: String

        public init(type: String, name: String) {
            self.type = type
            self.name = name
        }
    }

    public var host: String
    /// 0: a free port (tests).
    public var port: Int
    public var buckets: [Bucket]
    /// Run and cancel through the page; off: every state-changing request is refused (403).
    public var allowActions: Bool
    /// What an action request must carry in `X-Factory-Token`.
    public var token: String?

    public init(host: String, port: Int, buckets: [Bucket], allowActions: Bool, token: String?) {
        self.host = host
        self.port = port
        self.buckets = buckets
        self.allowActions = allowActions
        self.token = token
    }

    /// Refuses actions without a token, and a host that is not a plain name or address.
    public func validated() throws(ConsoleError) -> ConsoleConfiguration {
        if allowActions, (token ?? "").count < 8 {
            throw ConsoleError(.badRequest, "--allow-actions needs --console-token (or CONSOLE_TOKEN) of at least 8 characters: the page sends it with every action")
        }
        if !allowActions, token != nil {
            throw ConsoleError(.badRequest, "--console-token is only used with --allow-actions; add --allow-actions, or leave --console-token out for a read-only console")
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" }) else {
            throw ConsoleError(.badRequest, "--host \(host): give a host name or an IP address, such as 127.0.0.1")
        }
        guard (0...65535).contains(port) else {
            throw ConsoleError(.badRequest, "--port \(port): give a port from 1 to 65535")
        }
        return self
    }
}

// MARK: - ConsoleError

/// A failure the console answers with: an HTTP status and one line saying what was wrong and
/// what to do.
public struct ConsoleError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case badRequest, unauthorized, forbidden, notFound, conflict, unavailable

        var status: Int {
            switch self {
            case .badRequest: 400
            case .unauthorized: 401
            case .forbidden: 403
            case .notFound: 404
            case .conflict: 409
            case .unavailable: 503
            }
        }
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

// MARK: - ConsoleBackend

/// What the console asks of `factoryctl`'s client, so that it reads and acts exactly as the
/// other subcommands do: status queries with the drivers' rows (`get -d`), the lineage stream
/// (`lineage`), and run and cancel commands (`run`, `cancel`). Everything else the console reads
/// from its own KV watches.
public protocol ConsoleBackend: Sendable {
    /// The resource's status as `factoryctl get -d` shows it (a status query).
    func detail(workspace: String, name: String, type: String) async throws -> ResourceStatusView
    /// The OpenLineage events of the resource's job, oldest first, and (a pipeline) its tasks'
    /// events by job name: those whose parent facet names the resource's job.
    func lineageEvents(workspace: String, name: String, type: String) async throws -> (events: [JSONValue], children: [String: [JSONValue]])
    /// Publishes a run command; returns what happened, one line.
    func run(workspace: String, name: String, type: String) async throws -> String
    /// Publishes a cancel command (a pipeline: of `run`, or the run in progress); returns one line.
    func cancel(workspace: String, name: String, type: String, run: String?) async throws -> String
}
