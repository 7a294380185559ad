import FactoryModel
import FactoryState
import JSONSchema
import Foundation
import Logging
import NATSKit

/// Answers status queries on a deployment's query subject from the replica's read model. Every
/// replica subscribes in the deployment's queue group, so each query is answered once, by any
/// replica; a query without a reply subject is answered on the configured reply subject. The
/// driver of the deployment's type supplies the detail rows of its own fields.
///
/// Answers are made on cnats' delivery thread for the subscription, from memory, with no hop
/// through the cooperative pool and no round trip to the server: a replica busy with commands
/// still answers at once.
public final class StatusResponder: Sendable {
    let connection: NATSConnection
    let readModel: StatusReadModel
    let querySubject: String
    let replySubject: String
    let queueGroup: String
    let rows: (any StatusDetailRows)?
    let logger: Logger

    public init(
        connection: NATSConnection, readModel: StatusReadModel, querySubject: String, replySubject: String, queueGroup: String,
        rows: (any StatusDetailRows)?, logger: Logger
    ) {
        self.connection = connection
        self.readModel = readModel
        self.querySubject = querySubject
        self.replySubject = replySubject
        self.queueGroup = queueGroup
        self.rows = rows
        self.logger = logger
    }

    /// Subscribes; answers until the subscription is drained or unsubscribed.
    public func start() async throws -> NATSCallbackSubscription {
        try await connection.subscribe(to: querySubject, queue: queueGroup) { [self] request in
            self.answer(request)
        }
    }

    func answer(_ request: NATSMessage) {
        let started = ContinuousClock.now
        let (payload, kind) = self.payload(answering: request.payload)
        do {
            try connection.publish(payload, to: request.reply ?? replySubject)
        } catch {
            logger.warning("Could not answer a status query", metadata: ["error": "\(error)"])
        }
        OperatorMetrics.query(kind: kind.rawValue, elapsed: ContinuousClock.now - started)
    }

    /// The encoded answer and its kind.
    func payload(answering query: [UInt8]) -> ([UInt8], StatusReply.Kind) {
        switch reply(to: query) {
        case .encoded(let bytes):
            return (bytes, .resource)
        case .reply(let reply):
            return (Self.encode(reply), reply.kind)
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    static func encode(_ reply: StatusReply) -> [UInt8] {
        (try? encoder.encode(reply)).map(Array.init)
            ?? Array(#"{"version":1,"kind":"error","error":{"reason":"unavailable","message":"encoding failed"}}"#.utf8)
    }

    /// A reply to encode, or one resource's answer encoded already (kept by the read model).
    enum Answer {
        case reply(StatusReply)
        case encoded([UInt8])
    }

    private static let decoder = JSONDecoder()

    func reply(to payload: [UInt8]) -> Answer {
        guard payload.count <= 64 * 1024, let query = try? Self.decoder.decode(StatusQuery.self, from: Data(payload)) else {
            return .reply(.failure("badQuery", #"a status query is JSON like {"workspace":"public","name":"pipeline-01"}; without "name" it lists the workspace"#))
        }
        if let version = query.version, version > StatusQuery.currentVersion {
            return .reply(.failure("badQuery", "query version \(version) is newer than this operator understands (\(StatusQuery.currentVersion))"))
        }
        let all = query.allWorkspaces ?? false
        let workspace: String? = all ? nil : query.workspace
        if !all {
            guard let workspace, (try? WorkspaceName(workspace)) != nil else {
                return .reply(.failure("badQuery", "\"workspace\" must name a workspace (lowercase letters, digits and -), or set \"allWorkspaces\": true"))
            }
        }
        guard readModel.isReady else {
            let why = readModel.failure.map { ": \($0)" } ?? " (loading the state)"
            return .reply(.failure("unavailable", "this replica cannot answer yet\(why); try again"))
        }
        if let name = query.name {
            guard let workspace, (try? ResourceName(name)) != nil else {
                return .reply(.failure("badQuery", "\"name\" must be a resource name (lowercase letters, digits and -) in one workspace"))
            }
            let answer = readModel.answer(workspace: workspace, name: name) { entity, status in
                Self.encode(.one(StatusViews.view(entity: entity, status: status, workspace: workspace, name: name, includeSpec: true, rows: rows)))
            }
            guard let answer else {
                return .reply(.failure("notFound", "no resource \(name) in workspace \(workspace)"))
            }
            return .encoded(answer)
        }
        let limit = query.limit ?? StatusQuery.defaultLimit
        let offset = query.offset ?? 0
        guard (1...StatusQuery.maximumLimit).contains(limit), offset >= 0 else {
            return .reply(.failure("badQuery", "\"limit\" is 1 to \(StatusQuery.maximumLimit) and \"offset\" 0 or more"))
        }
        let (page, total) = readModel.resources(workspace: workspace, offset: offset, limit: limit)
        let next = offset + page.count < total ? offset + page.count : nil
        return .reply(.list(
            page.map { resource in
                StatusViews.view(entity: resource.entity, status: resource.status, workspace: resource.workspace, name: resource.name, includeSpec: false, rows: rows)
            },
            total: total,
            nextOffset: next
        ))
    }
}
