import FactoryModel
import JSONSchema
import Foundation
import Logging
import NATSKit

/// Answers status queries on the query subject from the replica's read model. Every replica
/// subscribes in one queue group, so each query is answered once, by any replica; a query without
/// a reply subject is answered on the configured reply subject.
///
/// Answers are made on cnats' delivery thread for the subscription, from memory, with no hop
/// through the cooperative pool and no round trip to the server: a replica busy with commands
/// still answers at once.
public final class StatusResponder: Sendable {
    public static let queueGroup = "hightouch-operator-status"

    let connection: NATSConnection
    let readModel: StatusReadModel
    let querySubject: String
    let replySubject: String
    let logger: Logger

    public init(connection: NATSConnection, readModel: StatusReadModel, querySubject: String, replySubject: String, logger: Logger) {
        self.connection = connection
        self.readModel = readModel
        self.querySubject = querySubject
        self.replySubject = replySubject
        self.logger = logger
    }

    /// Subscribes; answers until the subscription is drained or unsubscribed.
    public func start() async throws -> NATSCallbackSubscription {
        try await connection.subscribe(to: querySubject, queue: Self.queueGroup) { [self] request in
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

    static func encode(_ reply: StatusReply) -> [UInt8] {
        (try? StatusViews.encoder.encode(reply)).map(Array.init)
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
                Self.encode(.one(StatusViews.view(entity: entity, status: status, workspace: workspace, name: name, includeSpec: true)))
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
                StatusViews.view(entity: resource.entity, status: resource.status, workspace: resource.workspace, name: resource.name, includeSpec: false)
            },
            total: total,
            nextOffset: next
        ))
    }
}

/// Records → the wire view of DESIGN.md's table and detail. Public so that `factoryctl watch`,
/// which reads the records from a KV watch, shows exactly what a status query answers.
public enum StatusViews {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    public static func view(entity: EntityRecord?, status: StatusRecord?, workspace: String, name: String, includeSpec: Bool) -> ResourceStatusView {
        let phase: Phase
        if let status {
            phase = status.phase
        } else {
            phase = entity?.deleted == true ? .deleted : .pending
        }
        var view = ResourceStatusView(
            name: name,
            version: entity?.manifest["version"]?.stringValue ?? "v1beta",
            workspace: workspace,
            status: phase.rawValue,
            runtime: (status?.runtime ?? .pending).rawValue,
            owner: entity?.owner,
            resourceType: entity?.type ?? status?.type ?? "hightouch",
            generation: entity?.generation ?? 0,
            observedGeneration: status?.observedGeneration ?? 0
        )
        if let vendor = status?.vendor, vendor != VendorObjects() {
            view.vendor = .init(modelId: vendor.modelID, modelSlug: vendor.modelSlug, syncId: vendor.syncID, syncSlug: vendor.syncSlug)
        }
        view.currentRun = status?.currentRun.map(run)
        view.lastRun = status?.lastRun.map(run)
        if let error = status?.lastError {
            view.lastError = .init(reason: error.reason, message: error.message, commandId: error.commandID, at: Timestamp.format(error.at))
        }
        if let last = entity?.lastCommand {
            view.lastCommand = .init(id: last.id, sequence: last.sequence, operation: last.operation, receivedAt: Timestamp.format(last.receivedAt))
        }
        if let active = entity?.activeCommand {
            view.activeCommand = .init(
                id: active.command.id, sequence: active.command.sequence, operation: active.command.operation,
                receivedAt: Timestamp.format(active.command.receivedAt), stage: active.stage.rawValue, owner: active.owner
            )
        }
        view.createdAt = (entity?.createdAt ?? status?.createdAt).map(Timestamp.format)
        view.updatedAt = [entity?.updatedAt, status?.updatedAt].compactMap { $0 }.max().map(Timestamp.format)
        view.deletedAt = status?.deletedAt.map(Timestamp.format)
        if includeSpec { view.spec = entity?.manifest["resource"]?["spec"] }
        return view
    }

    static func run(_ run: RunRecord) -> ResourceStatusView.Run {
        func rows(_ counts: RowCounts?) -> ResourceStatusView.Rows? {
            counts.map { .init(added: $0.added, changed: $0.changed, removed: $0.removed) }
        }
        var view = ResourceStatusView.Run(id: run.id, status: run.status, runtime: run.runtime.rawValue)
        view.createdAt = run.createdAt.map(Timestamp.format)
        view.startedAt = run.startedAt.map(Timestamp.format)
        view.finishedAt = run.finishedAt.map(Timestamp.format)
        view.completionRatio = run.completionRatio
        view.querySize = run.querySize
        view.plannedRows = rows(run.plannedRows)
        view.successfulRows = rows(run.successfulRows)
        view.failedRows = rows(run.failedRows)
        view.error = run.error
        view.checkedAt = Timestamp.format(run.checkedAt)
        return view
    }
}
