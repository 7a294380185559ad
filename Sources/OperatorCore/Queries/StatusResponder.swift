import FactoryModel
import JSONSchema
import Foundation
import Logging
import NATSKit

/// Answers status queries on the query subject, from the state bucket. Every replica subscribes
/// in one queue group, so each query is answered once, by any replica. A query without a reply
/// subject is answered on the configured reply subject.
public final class StatusResponder: Sendable {
    public static let queueGroup = "hightouch-operator-status"

    let connection: NATSConnection
    let store: StateStore
    let querySubject: String
    let replySubject: String
    let logger: Logger
    let concurrency: Int

    public init(connection: NATSConnection, store: StateStore, querySubject: String, replySubject: String, concurrency: Int = 32, logger: Logger) {
        self.connection = connection
        self.store = store
        self.querySubject = querySubject
        self.replySubject = replySubject
        self.concurrency = concurrency
        self.logger = logger
    }

    /// Subscribes, then answers until the subscription ends (drain or cancellation).
    public func run(subscription: NATSSubscription) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await request in subscription {
                if running >= concurrency {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask { await self.answer(request) }
            }
        }
    }

    public func subscribe() async throws -> NATSSubscription {
        try await connection.subscribe(to: querySubject, queue: Self.queueGroup)
    }

    func answer(_ request: NATSMessage) async {
        let reply = await self.reply(to: request.payload)
        let payload = (try? StatusViews.encoder.encode(reply)).map(Array.init) ?? Array(#"{"version":1,"kind":"error","error":{"reason":"unavailable","message":"encoding failed"}}"#.utf8)
        do {
            try connection.publish(payload, to: request.reply ?? replySubject)
        } catch {
            logger.warning("Could not answer a status query", metadata: ["error": "\(error)"])
        }
    }

    func reply(to payload: [UInt8]) async -> StatusReply {
        guard payload.count <= 64 * 1024, let query = try? JSONDecoder().decode(StatusQuery.self, from: Data(payload)) else {
            return .failure("badQuery", #"a status query is JSON like {"workspace":"public","name":"pipeline-01"}; without "name" it lists the workspace"#)
        }
        if let version = query.version, version > StatusQuery.currentVersion {
            return .failure("badQuery", "query version \(version) is newer than this operator understands (\(StatusQuery.currentVersion))")
        }
        let all = query.allWorkspaces ?? false
        let workspace: String? = all ? nil : query.workspace
        if !all {
            guard let workspace, (try? WorkspaceName(workspace)) != nil else {
                return .failure("badQuery", "\"workspace\" must name a workspace (lowercase letters, digits and -), or set \"allWorkspaces\": true")
            }
        }
        do {
            if let name = query.name {
                guard let workspace, (try? ResourceName(name)) != nil else {
                    return .failure("badQuery", "\"name\" must be a resource name (lowercase letters, digits and -) in one workspace")
                }
                let entity = try await store.read(EntityRecord.self, key: StateStore.entityKey(workspace: workspace, name: name))?.document
                let status = try await store.read(StatusRecord.self, key: StateStore.statusKey(workspace: workspace, name: name))?.document
                guard entity != nil || status != nil else {
                    return .failure("notFound", "no resource \(name) in workspace \(workspace)")
                }
                return .one(StatusViews.view(entity: entity, status: status, workspace: workspace, name: name, includeSpec: true))
            }
            return .list(try await list(workspace: workspace))
        } catch {
            return .failure("unavailable", "the state store did not answer: \(error)")
        }
    }

    /// Every resource of a workspace (or of all), read in one pass of a KV watch.
    private func list(workspace: String?) async throws -> [ResourceStatusView] {
        let entities = try await snapshot(EntityRecord.self, pattern: workspace.map { "entity.\($0).*" } ?? "entity.*.*")
        let statuses = try await snapshot(StatusRecord.self, pattern: workspace.map { "status.\($0).*" } ?? "status.*.*")
        var names = Set<String>()
        var byName: [String: (EntityRecord?, StatusRecord?)] = [:]
        for entity in entities {
            let id = "\(entity.workspace)/\(entity.name)"
            names.insert(id)
            byName[id, default: (nil, nil)].0 = entity
        }
        for status in statuses {
            let id = "\(status.workspace)/\(status.name)"
            names.insert(id)
            byName[id, default: (nil, nil)].1 = status
        }
        return names.sorted().compactMap { id in
            guard let (entity, status) = byName[id] else { return nil }
            let workspace = entity?.workspace ?? status?.workspace ?? ""
            let name = entity?.name ?? status?.name ?? ""
            return StatusViews.view(entity: entity, status: status, workspace: workspace, name: name, includeSpec: false)
        }
    }

    private func snapshot<Document: Codable & Sendable>(_ type: Document.Type, pattern: String) async throws -> [Document] {
        let watcher = try await store.bucket.watch(pattern, options: KeyValueWatchOptions(ignoreDeletes: true))
        defer { watcher.stop() }
        var documents: [Document] = []
        for try await event in watcher {
            switch event {
            case .entry(let entry):
                if let document = try? StateStore.decode(type, entry.value, key: entry.key) { documents.append(document) }
            case .initialValuesDone:
                return documents
            }
        }
        return documents
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
