import FactoryEngine
import FactoryModel
import Fivetran
import Foundation
import Logging
import VendorHTTP

extension FivetranDriver {
    /// The `fivetran` type: its schema, the standard names of its deployment, its variables.
    public static let descriptor = DriverDescriptor(
        definition: builtInDefinition,
        displayName: "Fivetran",
        variables: [
            .init("FIVETRAN_API_KEY", "the API key (HTTP Basic user); never logged"),
            .init("FIVETRAN_API_SECRET", "the API secret (HTTP Basic password); never logged"),
            .init("FIVETRAN_SERVICE_URL", default: "https://api.fivetran.com", "the vendor endpoint"),
            .init("FIVETRAN_TIMEOUT", default: "300s", "how long a sync may take when the spec gives no timeout"),
            .init("FIVETRAN_DONT_DISABLE_SYNC", default: "false", "true: leave connectors' schedule_type as it is (spec keepSchedule)"),
            .init("FIVETRAN_CA_FILE", "PEM certificates of the CA to trust for HTTPS instead of the system's"),
            .init("FIVETRAN_RATE_LIMIT", default: "20000 / ELECTION_CLUSTER_SIZE", "requests per window, this replica's share"),
            .init("FIVETRAN_RATE_LIMIT_WINDOW", default: "1h", "the rate limit's window"),
            .init("FIVETRAN_WEBHOOK_SECRET", "the secret Fivetran signs its webhooks with; with OPERATOR_WEBHOOK_PORT, sync_end webhooks hasten the look at a sync; never logged"),
        ],
        secretVariable: "FIVETRAN_API_SECRET"
    )

    private static let builtInDefinition: ResourceTypeDefinition = {
        do {
            return try ResourceTypeDefinition.fivetranDefault()
        } catch {
            // The built-in schema is a constant that a test compiles; failing here is a build defect.
            preconditionFailure("the built-in fivetran spec schema does not compile: \(error)")
        }
    }()

    /// Makes the driver for an executable: reads its variables from `environment`.
    public static let factory = DriverFactory(descriptor: descriptor) { environment, logger throws(ConfigurationError) in
        AnyResourceDriver(try FivetranDriver(configuration: Configuration(environment: environment), logger: logger), webhook: webhook)
    }

    /// The client and defaults a configuration describes.
    ///
    /// - Throws: ``ConfigurationError`` naming FIVETRAN_API_KEY or FIVETRAN_API_SECRET when one
    ///   is missing, or FIVETRAN_CA_FILE when its certificates cannot be read.
    public init(configuration: Configuration, logger: Logger) throws(ConfigurationError) {
        switch (configuration.apiKey, configuration.apiSecret) {
        case (nil, nil):
            throw ConfigurationError(variable: "FIVETRAN_API_SECRET", value: nil, expected: "the Fivetran API secret, with FIVETRAN_API_KEY (HTTP Basic)")
        case (_?, nil):
            throw ConfigurationError(
                variable: "FIVETRAN_API_SECRET", value: nil,
                expected: "the API secret that goes with FIVETRAN_API_KEY: Fivetran authenticates with both (HTTP Basic key:secret)"
            )
        case (nil, _?):
            throw ConfigurationError(
                variable: "FIVETRAN_API_KEY", value: nil,
                expected: "the API key that goes with FIVETRAN_API_SECRET: Fivetran authenticates with both (HTTP Basic key:secret)"
            )
        case (let key?, let secret?):
            let client: FivetranClient
            do {
                client = try FivetranClient(
                    configuration: FivetranClient.Configuration(
                        apiKey: VendorSecret(key),
                        apiSecret: VendorSecret(secret),
                        baseURL: configuration.serviceURL,
                        rateLimit: RateLimiter.Configuration(permits: configuration.rateLimit, window: configuration.rateLimitWindow),
                        trustedCertificatesPEM: configuration.trustedCertificatesPEM
                    ),
                    logger: logger
                )
            } catch {
                throw ConfigurationError(
                    variable: "FIVETRAN_CA_FILE", value: configuration.caFile,
                    expected: "a file of PEM certificates (-----BEGIN CERTIFICATE-----): \(error.message ?? "\(error)")"
                )
            }
            self.init(client: client, defaults: Defaults(keepSchedule: configuration.keepSchedule, timeout: configuration.timeout))
        }
    }

    /// The Fivetran variables. The key and secret never appear in a description or a `dump`.
    public struct Configuration: Sendable, CustomStringConvertible, CustomReflectable {
        /// FIVETRAN_SERVICE_URL.
        public var serviceURL = "https://api.fivetran.com"
        /// FIVETRAN_API_KEY.
        public var apiKey: String?
        /// FIVETRAN_API_SECRET.
        public var apiSecret: String?
        /// FIVETRAN_TIMEOUT: a duration (`300s`, `10m`) or whole seconds (`300`).
        public var timeout: Duration = .seconds(300)
        /// FIVETRAN_DONT_DISABLE_SYNC: leave `schedule_type` alone unless a spec says otherwise.
        public var keepSchedule = false
        /// FIVETRAN_CA_FILE, and the certificates read from it.
        public var caFile: String?
        public var trustedCertificatesPEM: String?
        /// FIVETRAN_RATE_LIMIT / FIVETRAN_RATE_LIMIT_WINDOW: this replica's client-side budget.
        /// Fivetran allows 20,000 requests per rolling hour per account, and every replica uses
        /// the same key, so by default each replica takes an equal share.
        public var rateLimit = 20_000
        public var rateLimitWindow: Duration = .seconds(3_600)

        public init() {}

        public init(environment: [String: String]) throws(ConfigurationError) {
            let reader = EnvironmentReader(environment: environment)
            serviceURL = reader.string("FIVETRAN_SERVICE_URL", default: serviceURL)
            guard let url = URL(string: serviceURL), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
                throw ConfigurationError(variable: "FIVETRAN_SERVICE_URL", value: serviceURL, expected: "an http:// or https:// URL such as https://api.fivetran.com")
            }
            apiKey = reader.optionalString("FIVETRAN_API_KEY")
            apiSecret = reader.optionalString("FIVETRAN_API_SECRET")
            if let text = reader.optionalString("FIVETRAN_TIMEOUT") {
                guard let parsed = FivetranDriver.parseTimeout(text) else {
                    throw ConfigurationError(variable: "FIVETRAN_TIMEOUT", value: text, expected: "whole seconds or " + DurationParser.expectation + " (at least 1s)")
                }
                timeout = parsed
            }
            keepSchedule = try reader.boolean("FIVETRAN_DONT_DISABLE_SYNC", default: false)
            if let path = reader.optionalString("FIVETRAN_CA_FILE") {
                caFile = path
                guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                    throw ConfigurationError(variable: "FIVETRAN_CA_FILE", value: path, expected: "a readable file of PEM certificates")
                }
                trustedCertificatesPEM = text
            }
            let replicas = (try? reader.integer("ELECTION_CLUSTER_SIZE", default: 1, range: 1...1000)) ?? 1
            rateLimit = try reader.integer("FIVETRAN_RATE_LIMIT", default: max(1, 20_000 / replicas), range: 1...1_000_000)
            rateLimitWindow = try reader.duration("FIVETRAN_RATE_LIMIT_WINDOW", default: rateLimitWindow, minimum: .milliseconds(10))
        }

        public var description: String {
            "Fivetran(url: \(serviceURL), key: \(apiKey == nil ? "none" : "***"), secret: \(apiSecret == nil ? "none" : "***"), "
                + "timeout \(DurationParser.format(timeout)), keep schedules \(keepSchedule), CA \(caFile ?? "system"), "
                + "rate limit \(rateLimit)/\(DurationParser.format(rateLimitWindow)))"
        }

        public var customMirror: Mirror {
            Mirror(self, children: ["description": description], displayStyle: .struct)
        }
    }
}
