import FactoryModel
import Foundation
import NATSKit

extension DeploymentNames {
    /// The variables that name a deployment's streams, consumers, subjects and bucket.
    /// `hightouch-operator` reads them as they are (the seed manifest's); `factory-operator`
    /// reads them prefixed by the type in capitals, one set per hosted driver
    /// (`CENSUS_ENTITY_OF_INTEREST_MESSAGE_STREAM`, `DBTCLOUD_OPERATOR_STATE_BUCKET`).
    public static let variables = [
        "ENTITY_OF_INTEREST_MESSAGE_QUEUE", "ENTITY_OF_INTEREST_MESSAGE_STREAM", "ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT",
        "ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT", "ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT", "OPERATOR_STATE_BUCKET",
        "OPERATOR_DEADLETTER_SUBJECT", "OPERATOR_DEADLETTER_STREAM", "OPERATOR_FOLLOWUP_SUBJECT", "OPERATOR_FOLLOWUP_STREAM",
        "OPERATOR_FOLLOWUP_QUEUE",
    ]

    /// The prefix of a type's variables in `factory-operator`: `HIGHTOUCH_`, `DBTCLOUD_`.
    public static func variablePrefix(type: String) -> String {
        type.uppercased().replacingOccurrences(of: "-", with: "_") + "_"
    }

    /// Reads the names from `environment` (each variable with `prefix`) over `defaults`, and
    /// refuses a bad one naming the variable. The dead-letter and follow-up subjects follow a
    /// changed command subject unless set themselves.
    public static func read(from environment: [String: String], prefix: String = "", defaults: DeploymentNames) throws(ConfigurationError) -> DeploymentNames {
        let reader = EnvironmentReader(environment: environment)
        var names = defaults
        func read(_ variable: String, _ value: inout String, _ validate: (String) throws -> Void) throws(ConfigurationError) {
            value = reader.string(prefix + variable, default: value)
            try OperatorConfiguration.check(prefix + variable, value, validate)
        }
        let consumer: (String) throws -> Void = { try NATSNames.validateConsumerName($0, operation: "configure") }
        let stream: (String) throws -> Void = { try NATSNames.validateStreamName($0, operation: "configure") }
        let subject: (String) throws -> Void = { try NATSNames.validatePublishSubject($0, operation: "configure") }
        let bucket: (String) throws -> Void = { try NATSNames.validateBucketName($0, operation: "configure") }
        try read("ENTITY_OF_INTEREST_MESSAGE_QUEUE", &names.commandConsumer, consumer)
        try read("ENTITY_OF_INTEREST_MESSAGE_STREAM", &names.commandStream, stream)
        try read("ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT", &names.commandSubject, subject)
        try read("ENTITY_OF_INTEREST_MESSAGE_QUERY_SUBJECT", &names.querySubject, subject)
        try read("ENTITY_OF_INTEREST_MESSAGE_QUERY_REPLY_SUBJECT", &names.queryReplySubject, subject)
        try read("OPERATOR_STATE_BUCKET", &names.stateBucket, bucket)
        if names.commandSubject != defaults.commandSubject {
            names.deadLetterSubject = names.commandSubject + ".deadletter"
            names.followUpSubject = names.commandSubject + ".followup"
        }
        try read("OPERATOR_DEADLETTER_SUBJECT", &names.deadLetterSubject, subject)
        try read("OPERATOR_DEADLETTER_STREAM", &names.deadLetterStream, stream)
        try read("OPERATOR_FOLLOWUP_SUBJECT", &names.followUpSubject, subject)
        try read("OPERATOR_FOLLOWUP_STREAM", &names.followUpStream, stream)
        try read("OPERATOR_FOLLOWUP_QUEUE", &names.followUpConsumer, consumer)
        let subjects = [names.commandSubject, names.querySubject, names.deadLetterSubject, names.followUpSubject]
        if Set(subjects).count != subjects.count {
            throw ConfigurationError(
                variable: prefix + "ENTITY_OF_INTEREST_MESSAGE_COMMAND_SUBJECT",
                value: names.commandSubject,
                expected: "command, query, dead-letter and follow-up subjects that differ from each other"
            )
        }
        return names
    }
}
