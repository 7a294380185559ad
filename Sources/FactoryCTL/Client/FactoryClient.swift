import FactoryModel
import Foundation
import NATSKit

// MARK: - FactoryClient

/// factoryctl's side of the operator's NATS interface: commands published to the command stream
/// (JetStream, acknowledged), status queries (request-reply on the query subject) and the state
/// bucket (KV, for watch). Every failure comes out as a ``CLIError`` in the user's terms.
final class FactoryClient: Sendable {
    let settings: ConnectionSettings
    let connection: NATSConnection

    private init(settings: ConnectionSettings, connection: NATSConnection) {
        self.settings = settings
        self.connection = connection
    }

    /// Connects, failing within the timeout when no server answers.
    static func connect(_ settings: ConnectionSettings) async throws(CLIError) -> FactoryClient {
        do throws(NATSError) {
            return FactoryClient(settings: settings, connection: try await NATSConnection.connect(settings.natsConfiguration))
        } catch {
            throw .nats(error, during: "connecting to \(settings.serverList)", settings: settings)
        }
    }

    func close() async {
        await connection.close()
    }

    // MARK: - Commands

    /// Publishes `envelope` on its resource type's command subject with `messageID` as
    /// `Nats-Msg-Id` and waits for the stream's acknowledgement.
    func publish(_ envelope: CommandEnvelope, messageID: String) async throws(CLIError) -> JetStreamPublishAck {
        let subject = settings.commandSubject(for: envelope.resource.type)
        let activity = "publishing \(envelope.operation.rawValue) of \(envelope.resource.name) to \(subject)"
        do throws(NATSError) {
            let jetStream = try await connection.jetStream(options: JetStreamOptions(timeout: settings.timeout))
            return try await jetStream.publish(envelope.encoded(), to: subject, options: JetStreamPublishOptions(messageID: messageID))
        } catch where error.code == .noResponders {
            throw .noStream(commandSubject: subject, servers: settings.serverList)
        } catch {
            throw .nats(error, during: activity, settings: settings)
        }
    }

    // MARK: - Status queries

    /// One resource's status view (from the deployment of `type`, by default the default type's).
    func resource(_ name: ResourceName, workspace: WorkspaceName, type: String? = nil) async throws(CLIError) -> ResourceStatusView {
        let reply = try await query(StatusQuery(workspace: workspace.rawValue, name: name.rawValue), subject: settings.querySubject(for: type))
        guard let resource = reply.resource else {
            throw .failed("the operator answered a query for \(name) without a resource; is it a newer version than this factoryctl?")
        }
        return resource
    }

    /// Every resource of `workspace`, or of every workspace when it is nil, page after page, from
    /// the deployment of `type` (by default the default type's, or the given query subject's).
    func resources(workspace: WorkspaceName?, type: String? = nil) async throws(CLIError) -> [ResourceStatusView] {
        let subject = settings.querySubject(for: type)
        var resources: [ResourceStatusView] = []
        var offset: Int? = 0
        while let from = offset {
            let reply = try await query(StatusQuery(workspace: workspace?.rawValue, allWorkspaces: workspace == nil, limit: StatusQuery.maximumLimit, offset: from), subject: subject)
            resources += reply.resources ?? []
            // An operator that does not page answers everything at once, without nextOffset.
            offset = reply.nextOffset.flatMap { $0 > from ? $0 : nil }
        }
        return resources
    }

    /// The types whose deployments to ask: the one given, every one a given subject serves, or
    /// every built-in type.
    func types(_ given: String?) -> [String?] {
        if let given { return [given] }
        if settings.querySubjectOverride != nil { return [nil] }
        return BuiltInResourceTypes.names
    }

    /// The resources of every type's deployment that answers (a type no operator serves here is
    /// left out), sorted by workspace and name. Fails only if no deployment answers at all.
    func resourcesOfEveryType(workspace: WorkspaceName?, type: String?) async throws(CLIError) -> [ResourceStatusView] {
        var views: [ResourceStatusView] = []
        var unanswered: CLIError?
        var answered = false
        for candidate in types(type) {
            do throws(CLIError) {
                views += try await resources(workspace: workspace, type: candidate)
                answered = true
            } catch where error.isNoOperator && type == nil {
                unanswered = unanswered ?? error
            }
        }
        if !answered, let unanswered { throw unanswered }
        return views.sorted { ($0.workspace, $0.name, $0.resourceType) < ($1.workspace, $1.name, $1.resourceType) }
    }

    /// One resource, from the deployment of `type`, or from the first deployment that knows it.
    func findResource(_ name: ResourceName, workspace: WorkspaceName, type: String?) async throws(CLIError) -> ResourceStatusView {
        if let type { return try await resource(name, workspace: workspace, type: type) }
        var first: CLIError?
        for candidate in types(nil) {
            do throws(CLIError) {
                return try await resource(name, workspace: workspace, type: candidate)
            } catch {
                // Not found or no operator for this type: ask the next; report the first reason.
                if first == nil || (first?.isNoOperator == true && !error.isNoOperator) { first = error }
            }
        }
        throw first ?? .notFound(name: name.rawValue, workspace: workspace.rawValue)
    }

    /// Sends a status query (on `subject`, by default the query subject of the settings); an
    /// error reply becomes a ``CLIError``.
    func query(_ query: StatusQuery, subject: String? = nil) async throws(CLIError) -> StatusReply {
        let querySubject = subject ?? settings.querySubject
        let payload: [UInt8]
        do {
            payload = Array(try JSONEncoder().encode(query))
        } catch {
            throw .failed("cannot encode the status query: \(error)")
        }
        let answer: NATSMessage
        do throws(NATSError) {
            answer = try await connection.request(payload, to: querySubject, timeout: settings.timeout)
        } catch where error.code == .noResponders {
            throw .noOperator(querySubject: querySubject, servers: settings.serverList)
        } catch where error.code == .timeout {
            throw .timeout("the operator on \(querySubject)", after: settings.timeout)
        } catch {
            throw .nats(error, during: "querying \(querySubject)", settings: settings)
        }
        let reply: StatusReply
        do {
            reply = try JSONDecoder().decode(StatusReply.self, from: Data(answer.payload))
        } catch {
            throw .failed("the answer on \(querySubject) is not a status reply (\(answer.string.prefix(120))); is something else answering there?")
        }
        if let failure = reply.error {
            switch failure.reason {
            case "notFound":
                throw .notFound(name: query.name ?? "?", workspace: query.workspace ?? "?")
            case "badQuery":
                throw .invalidInput("the operator refused the query: \(failure.message)")
            default:
                throw .failed("the operator could not answer: \(failure.message)")
            }
        }
        return reply
    }

    // MARK: - State bucket

    /// The state bucket of `type` (by default the given or default bucket), for watching.
    func stateBucket(type: String? = nil) async throws(CLIError) -> KeyValueBucket {
        let name = settings.stateBucket(for: type)
        do throws(NATSError) {
            let jetStream = try await connection.jetStream(options: JetStreamOptions(timeout: settings.timeout))
            return try await jetStream.keyValue(name)
        } catch where error.code == .notFound {
            throw CLIError(
                .unavailable,
                "the state bucket \(name) does not exist at \(settings.serverList): no operator has run against this server yet; start one (scripts/dev), or check --state-bucket"
            )
        } catch {
            throw .nats(error, during: "opening the state bucket \(name)", settings: settings)
        }
    }
}

// MARK: - Scoped use

/// Connects, runs `body`, and closes the connection whatever happens.
func withFactoryClient<T>(_ settings: ConnectionSettings, _ body: (FactoryClient) async throws -> T) async throws -> T {
    let client = try await FactoryClient.connect(settings)
    do {
        let result = try await body(client)
        await client.close()
        return result
    } catch {
        await client.close()
        throw error
    }
}
