import DBTCloud
import FactoryEngine
import FactoryModel
import Foundation
import Logging
import VendorHTTP

extension DBTCloudDriver {
    /// The `dbtcloud` type: its built-in schema, the standard names of its deployment, and its
    /// variables.
    public static let descriptor = DriverDescriptor(
        definition: builtInDefinition,
        displayName: "dbt Cloud",
        variables: [
            .init("DBT_CLOUD_API_TOKEN", "the dbt Cloud API token (service or personal); never logged"),
            .init("DBT_CLOUD_ACCOUNT_ID", "the account of specs that name none"),
            .init("DBT_CLOUD_SERVICE_URL", default: DBTCloudClient.Configuration.defaultBaseURL, "the account's access URL"),
            .init("DBT_CLOUD_CA_FILE", "PEM CA certificates trusted besides the system's, for HTTPS to a private endpoint"),
            .init("DBT_CLOUD_RATE_LIMIT", default: "5000 / ELECTION_CLUSTER_SIZE", "requests per window, this replica's share"),
            .init("DBT_CLOUD_RATE_LIMIT_WINDOW", default: "1m", "the rate limit's window"),
            .init("DBT_CLOUD_WEBHOOK_SECRET", "the secret dbt Cloud signs its job webhooks with; with OPERATOR_WEBHOOK_PORT, job.run.completed webhooks hasten the look at a run; never logged"),
        ],
        secretVariable: "DBT_CLOUD_API_TOKEN"
    )

    private static let builtInDefinition: ResourceTypeDefinition = {
        do {
            return try ResourceTypeDefinition.dbtCloudDefault()
        } catch {
            // The built-in schema is a constant that a test compiles; failing here is a build defect.
            preconditionFailure("the built-in dbtcloud spec schema does not compile: \(error)")
        }
    }()

    /// Makes the driver for an executable: reads its variables from `environment`.
    public static let factory = DriverFactory(descriptor: descriptor) { environment, logger throws(ConfigurationError) in
        AnyResourceDriver(try DBTCloudDriver(configuration: Configuration(environment: environment), logger: logger), webhook: webhook)
    }

    /// The client built from a configuration.
    public init(configuration: Configuration, logger: Logger) throws(ConfigurationError) {
        guard let token = configuration.token else {
            throw ConfigurationError(variable: "DBT_CLOUD_API_TOKEN", value: nil, expected: "a dbt Cloud API token (a service token or a personal access token)")
        }
        let client: DBTCloudClient
        do throws(VendorError) {
            client = try DBTCloudClient(
                configuration: DBTCloudClient.Configuration(
                    token: VendorSecret(token),
                    baseURL: configuration.serviceURL,
                    rateLimit: RateLimiter.Configuration(permits: configuration.rateLimit, window: configuration.rateLimitWindow),
                    caFile: configuration.caFile
                ),
                logger: logger
            )
        } catch {
            throw ConfigurationError(
                variable: "DBT_CLOUD_CA_FILE", value: configuration.caFile,
                expected: "a readable PEM file of CA certificates (\(error.message ?? error.underlying ?? "unreadable"))"
            )
        }
        self.init(client: client, defaultAccountID: configuration.accountID)
    }

    /// The dbt Cloud variables. The token never appears in a description.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// DBT_CLOUD_SERVICE_URL.
        public var serviceURL = DBTCloudClient.Configuration.defaultBaseURL
        /// DBT_CLOUD_API_TOKEN.
        public var token: String?
        /// DBT_CLOUD_ACCOUNT_ID.
        public var accountID: Int?
        /// DBT_CLOUD_CA_FILE.
        public var caFile: String?
        /// DBT_CLOUD_RATE_LIMIT / DBT_CLOUD_RATE_LIMIT_WINDOW: this replica's client-side budget.
        /// dbt Cloud allows 5,000 requests per minute per account, and every replica uses the same
        /// account, so by default each replica takes an equal share: 5000 / ELECTION_CLUSTER_SIZE.
        public var rateLimit = 5_000
        public var rateLimitWindow: Duration = .seconds(60)

        public init() {}

        public init(environment: [String: String]) throws(ConfigurationError) {
            let reader = EnvironmentReader(environment: environment)
            serviceURL = reader.string("DBT_CLOUD_SERVICE_URL", default: serviceURL)
            guard let url = URL(string: serviceURL), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
                throw ConfigurationError(variable: "DBT_CLOUD_SERVICE_URL", value: serviceURL, expected: "an http:// or https:// URL such as https://cloud.getdbt.com")
            }
            token = reader.optionalString("DBT_CLOUD_API_TOKEN")
            if let text = reader.optionalString("DBT_CLOUD_ACCOUNT_ID") {
                guard let id = Int(text.trimmingCharacters()), id > 0 else {
                    throw ConfigurationError(variable: "DBT_CLOUD_ACCOUNT_ID", value: text, expected: "a dbt Cloud account id (a positive whole number)")
                }
                accountID = id
            }
            caFile = reader.optionalString("DBT_CLOUD_CA_FILE")
            if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
                throw ConfigurationError(variable: "DBT_CLOUD_CA_FILE", value: caFile, expected: "a readable PEM file of CA certificates")
            }
            let replicas = (try? reader.integer("ELECTION_CLUSTER_SIZE", default: 1, range: 1...1000)) ?? 1
            rateLimit = try reader.integer("DBT_CLOUD_RATE_LIMIT", default: max(1, 5_000 / replicas), range: 1...1_000_000)
            rateLimitWindow = try reader.duration("DBT_CLOUD_RATE_LIMIT_WINDOW", default: rateLimitWindow, minimum: .milliseconds(10))
        }

        public var description: String {
            "dbt Cloud(url: \(serviceURL), token: \(token == nil ? "none" : "***"), account: \(accountID.map(String.init) ?? "per spec")"
                + (caFile.map { ", ca: \($0)" } ?? "") + ", rate limit \(rateLimit)/\(DurationParser.format(rateLimitWindow)))"
        }
    }
}
