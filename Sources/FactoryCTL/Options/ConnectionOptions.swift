import ArgumentParser

// MARK: - ConnectionOptions

/// The NATS options every networked subcommand shares, named as the NATS CLI names them, plus
/// the operator's subjects and state bucket. A flag wins over its environment variable, which
/// wins over the default (see ``ConnectionSettings``).
struct ConnectionOptions: ParsableArguments {
    @Option(
        name: [.customShort("s"), .customLong("server")],
        help: ArgumentHelp("NATS server URLs, comma-separated (default: $NATS_URL, else nats://127.0.0.1:4222).", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("User name (default: $NATS_USER).", valueName: "user"))
    var user: String?

    @Option(help: ArgumentHelp("Password (default: $NATS_PASSWORD).", valueName: "password"))
    var password: String?

    @Option(help: ArgumentHelp("Authentication token (default: $NATS_TOKEN).", valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp("A .creds file with a user JWT and nkey seed (default: $NATS_CREDS).", valueName: "file"))
    var creds: String?

    @Option(help: ArgumentHelp("CA certificate (PEM) to verify the server by (default: $NATS_CA).", valueName: "file"))
    var tlsca: String?

    @Option(help: ArgumentHelp("Client certificate (PEM) for mutual TLS (default: $NATS_CERT).", valueName: "file"))
    var tlscert: String?

    @Option(help: ArgumentHelp("Client private key (PEM) for mutual TLS (default: $NATS_KEY).", valueName: "file"))
    var tlskey: String?

    @Option(help: ArgumentHelp("How long to wait for the server, the stream or the operator: 500ms, 5s, 1m.", valueName: "duration"))
    var timeout: String = "5s"

    @Option(
        name: .customLong("command-subject"),
        help: ArgumentHelp("Subject commands are published on (default: $ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT, else hightouch.pipeline.run).", valueName: "subject"))
    var commandSubject: String?

    @Option(
        name: .customLong("query-subject"),
        help: ArgumentHelp("Subject of status queries (default: $ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT, else hightouch.pipeline.run.query).", valueName: "subject"))
    var querySubject: String?

    @Option(
        name: .customLong("state-bucket"),
        help: ArgumentHelp("The operator's KV state bucket, read by watch (default: $OPERATOR_STATE_BUCKET, else hightouch-operator-state).", valueName: "bucket"))
    var stateBucket: String?

    /// Flags over `environment` over defaults.
    func settings(environment: [String: String]) throws(CLIError) -> ConnectionSettings {
        try ConnectionSettings(
            flags: ConnectionSettings.Flags(
                server: server, user: user, password: password, token: token, creds: creds,
                tlsca: tlsca, tlscert: tlscert, tlskey: tlskey, timeout: timeout,
                commandSubject: commandSubject, querySubject: querySubject, stateBucket: stateBucket),
            environment: environment)
    }
}
