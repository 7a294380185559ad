import FactoryModel
import Foundation
import NATSKit

// MARK: - ConnectionSettings

/// Where and how factoryctl reaches NATS and the operator: resolved once from the flags, then the
/// environment (the NATS CLI's and the operator's variable names), then the defaults.
struct ConnectionSettings: Sendable {
    static let defaultServer = "nats://127.0.0.1:4222"
    /// The type whose deployment get, watch, run and delete talk to unless told otherwise.
    static let defaultType = "hightouch"
    static let defaultCommandSubject = DeploymentNames.standard(type: defaultType).commandSubject
    static let defaultQuerySubject = DeploymentNames.standard(type: defaultType).querySubject
    static let defaultStateBucket = DeploymentNames.standard(type: defaultType).stateBucket

    /// The raw flag values (nil: not given).
    struct Flags: Sendable {
        var server: String?
        var user: String?
        var password: String?
        var token: String?
        var creds: String?
        var tlsca: String?
        var tlscert: String?
        var tlskey: String?
        var timeout: String = "5s"
        var commandSubject: String?
        var querySubject: String?
        var stateBucket: String?
    }

    var servers: [String]
    var authentication: NATSConfiguration.Authentication
    var tls: NATSConfiguration.TLS?
    /// Bounds connecting, each request and each publish acknowledgement.
    var timeout: Duration
    var commandSubject: String
    var querySubject: String
    var stateBucket: String
    /// The command subject given by flag or environment, if any: it then serves every type.
    var commandSubjectOverride: String?
    /// The query subject given by flag or environment, if any.
    var querySubjectOverride: String?

    /// The state bucket given by flag or environment, if any.
    var stateBucketOverride: String?

    /// The state bucket of `type`: the given bucket, else the type's deployment's.
    func stateBucket(for type: String?) -> String {
        guard let type, stateBucketOverride == nil else { return stateBucket }
        return DeploymentNames.builtIn(type: type).stateBucket
    }

    /// Where a status query about `type` goes: the given subject, else the type's deployment's.
    func querySubject(for type: String?) -> String {
        guard let type, querySubjectOverride == nil else { return querySubject }
        return DeploymentNames.builtIn(type: type).querySubject
    }

    /// Where a command for `type` is published: the given subject, else the type's deployment's.
    func commandSubject(for type: String?) -> String {
        guard let type, commandSubjectOverride == nil else { return commandSubject }
        return DeploymentNames.builtIn(type: type).commandSubject
    }

    /// The servers as given, passwords masked: for messages.
    var serverList: String {
        servers.map(NATSConfiguration.redactingURL).joined(separator: ",")
    }

    init(flags: Flags, environment: [String: String]) throws(CLIError) {
        func pick(_ flag: String?, _ variable: String) -> String? {
            if let flag, !flag.isEmpty { return flag }
            if let value = environment[variable], !value.isEmpty { return value }
            return nil
        }

        let serverText = pick(flags.server, "NATS_URL") ?? Self.defaultServer
        servers = NATSConfiguration.servers(fromList: serverText)
        guard !servers.isEmpty, servers.allSatisfy({ URL(string: $0)?.host != nil }) else {
            throw .invalidInput("--server must list NATS URLs such as nats://127.0.0.1:4222,nats://nats-2:4222; got '\(serverText)'")
        }

        let user = pick(flags.user, "NATS_USER")
        let password = pick(flags.password, "NATS_PASSWORD")
        let token = pick(flags.token, "NATS_TOKEN")
        let creds = pick(flags.creds, "NATS_CREDS")
        switch (user, password, token, creds) {
        case (nil, nil, nil, nil):
            authentication = .none
        case (let user?, let password?, nil, nil):
            authentication = .userPassword(user: user, password: password)
        case (let user?, nil, nil, nil):
            throw .invalidInput("--user \(user) needs --password (or NATS_PASSWORD)")
        case (nil, _?, nil, nil):
            throw .invalidInput("--password needs --user (or NATS_USER)")
        case (nil, nil, let token?, nil):
            authentication = .token(token)
        case (nil, nil, nil, let creds?):
            guard FileManager.default.isReadableFile(atPath: creds) else {
                throw .invalidInput("--creds \(creds): no readable .creds file there")
            }
            authentication = .credentialsFile(path: creds)
        default:
            throw .invalidInput("give one way to authenticate: --user with --password, --token, or --creds (flags and NATS_* variables count alike)")
        }

        let ca = pick(flags.tlsca, "NATS_CA")
        let certificate = pick(flags.tlscert, "NATS_CERT")
        let key = pick(flags.tlskey, "NATS_KEY")
        for (option, path) in [("--tlsca", ca), ("--tlscert", certificate), ("--tlskey", key)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                throw .invalidInput("\(option) \(path): no readable PEM file there")
            }
        }
        if (certificate == nil) != (key == nil) {
            throw .invalidInput("a client certificate needs both --tlscert and --tlskey")
        }
        if ca != nil || certificate != nil || servers.contains(where: { $0.lowercased().hasPrefix("tls://") }) {
            tls = NATSConfiguration.TLS(caFile: ca, certificateFile: certificate, keyFile: key)
        } else {
            tls = nil
        }

        timeout = try Durations.parse(flags.timeout, option: "--timeout")
        commandSubjectOverride = pick(flags.commandSubject, "ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT")
        commandSubject = commandSubjectOverride ?? Self.defaultCommandSubject
        querySubjectOverride = pick(flags.querySubject, "ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT")
        querySubject = querySubjectOverride ?? Self.defaultQuerySubject
        stateBucketOverride = pick(flags.stateBucket, "OPERATOR_STATE_BUCKET")
        stateBucket = stateBucketOverride ?? Self.defaultStateBucket
    }

    /// The NATSKit configuration: fail fast (a CLI must not retry a dead server for long), but
    /// ride out a short outage while watching.
    var natsConfiguration: NATSConfiguration {
        NATSConfiguration(
            servers: servers,
            name: "factoryctl",
            authentication: authentication,
            tls: tls,
            connectTimeout: min(timeout, .seconds(5)),
            retryOnFailedConnect: false,
            initialConnectTimeout: timeout
        )
    }
}
