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

    /// Every resource of `workspace`, or of every workspace when it is nil, page after page.
    func resources(workspace: WorkspaceName?) async throws(CLIError) -> [ResourceStatusView] {
        var resources: [ResourceStatusView] = []
        var offset: Int? = 0
        while let from = offset {
            let reply = try await query(StatusQuery(workspace: workspace?.rawValue, allWorkspaces: workspace == nil, limit: StatusQuery.maximumLimit, offset: from))
            resources += reply.resources ?? []
            // An operator that does not page answers everything at once, without nextOffset.
            offset = reply.nextOffset.flatMap { $0 > from ? $0 : nil }
        }
        return resources
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

    /// The operator's state bucket, for watching.
    func stateBucket() async throws(CLIError) -> KeyValueBucket {
        do throws(NATSError) {
            let jetStream = try await connection.jetStream(options: JetStreamOptions(timeout: settings.timeout))
            return try await jetStream.keyValue(settings.stateBucket)
        } catch where error.code == .notFound {
            throw CLIError(
                .unavailable,
                "the state bucket \(settings.stateBucket) does not exist at \(settings.serverList): no operator has run against this server yet; start one (scripts/dev), or check --state-bucket"
            )
        } catch {
            throw .nats(error, during: "opening the state bucket \(settings.stateBucket)", settings: settings)
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
