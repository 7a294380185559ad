import Census
import FactoryEngine
import FactoryModel
import Foundation
import Logging
import VendorHTTP

extension CensusDriver {
    /// The `census` type: its built-in schema, the standard names of its deployment
    /// (`census.pipeline.run`, `dataos-census-entities`, `census-operator-state`, …) and its variables.
    public static let descriptor = DriverDescriptor(
        definition: builtInDefinition,
        displayName: "Census",
        variables: [
            .init("CENSUS_API_TOKEN", "the workspace API token (with or without its secret-token: prefix); never logged"),
            .init("CENSUS_SERVICE_URL", default: "https://app.getcensus.com", "the vendor endpoint: scheme and host (EU: https://app-eu.getcensus.com)"),
            .init("CENSUS_CA_FILE", "a PEM file of CA certificates to verify the endpoint with instead of the system's"),
            .init("CENSUS_RATE_LIMIT", default: "100 / ELECTION_CLUSTER_SIZE", "requests per window, this replica's share"),
            .init("CENSUS_RATE_LIMIT_WINDOW", default: "10s", "the rate limit's window"),
        ],
        secretVariable: "CENSUS_API_TOKEN"
    )

    private static let builtInDefinition: ResourceTypeDefinition = {
        do {
            return try ResourceTypeDefinition.censusDefault()
        } catch {
            // The built-in schema is a constant that a test compiles; failing here is a build defect.
            preconditionFailure("the built-in census spec schema does not compile: \(error)")
        }
    }()

    /// Makes the driver for an executable: reads its variables from `environment`.
    public static let factory = DriverFactory(descriptor: descriptor) { environment, logger throws(ConfigurationError) in
        AnyResourceDriver(try CensusDriver(configuration: Configuration(environment: environment), logger: logger))
    }

    /// The client built from a configuration.
    ///
    /// - Throws: a ``ConfigurationError`` naming `CENSUS_API_TOKEN` when it is missing, or
    ///   `CENSUS_CA_FILE` when the file cannot be read as PEM certificates.
    public init(configuration: Configuration, logger: Logger) throws(ConfigurationError) {
        guard let token = configuration.token else {
            throw ConfigurationError(variable: "CENSUS_API_TOKEN", value: nil, expected: "the Census workspace API token (secret-token:…)")
        }
        let client: CensusClient
        do {
            client = try CensusClient(
                configuration: CensusClient.Configuration(
                    token: VendorSecret(token),
                    baseURL: configuration.serviceURL,
                    rateLimit: RateLimiter.Configuration(permits: configuration.rateLimit, window: configuration.rateLimitWindow),
                    caCertificateFile: configuration.caFile
                ),
                logger: logger
            )
        } catch {
            throw ConfigurationError(variable: "CENSUS_CA_FILE", value: configuration.caFile, expected: "a readable PEM file of CA certificates (\(error.reason))")
        }
        self.init(client: client)
    }

    /// The Census variables. The token never appears in a description.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// CENSUS_SERVICE_URL: scheme and host; the client adds `/api/v1`.
        public var serviceURL = "https://app.getcensus.com"
        /// CENSUS_API_TOKEN.
        public var token: String?
        /// CENSUS_CA_FILE.
        public var caFile: String?
        /// CENSUS_RATE_LIMIT / CENSUS_RATE_LIMIT_WINDOW: this replica's client-side budget. Census
        /// documents no limit; 100 requests per 10 s per token keeps the operator polite, and every
        /// replica uses the same token, so each takes an equal share: 100 / ELECTION_CLUSTER_SIZE.
        public var rateLimit = 100
        public var rateLimitWindow: Duration = .seconds(10)

        public init() {}

        public init(environment: [String: String]) throws(ConfigurationError) {
            let reader = EnvironmentReader(environment: environment)
            serviceURL = reader.string("CENSUS_SERVICE_URL", default: serviceURL)
            guard let url = URL(string: serviceURL), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
                throw ConfigurationError(variable: "CENSUS_SERVICE_URL", value: serviceURL, expected: "an http:// or https:// URL such as https://app.getcensus.com")
            }
            guard url.path.isEmpty || url.path == "/", url.query == nil else {
                throw ConfigurationError(
                    variable: "CENSUS_SERVICE_URL", value: serviceURL,
                    expected: "the scheme and host only, such as https://app.getcensus.com (the client adds /api/v1)"
                )
            }
            token = reader.optionalString("CENSUS_API_TOKEN")
            if let text = reader.optionalString("CENSUS_CA_FILE") {
                guard FileManager.default.isReadableFile(atPath: text) else {
                    throw ConfigurationError(variable: "CENSUS_CA_FILE", value: text, expected: "a readable PEM file of CA certificates")
                }
                caFile = text
            }
            let replicas = (try? reader.integer("ELECTION_CLUSTER_SIZE", default: 1, range: 1...1000)) ?? 1
            rateLimit = try reader.integer("CENSUS_RATE_LIMIT", default: max(1, 100 / replicas), range: 1...1_000_000)
            rateLimitWindow = try reader.duration("CENSUS_RATE_LIMIT_WINDOW", default: rateLimitWindow, minimum: .milliseconds(10))
        }

        public var description: String {
            "Census(url: \(serviceURL), token: \(token == nil ? "none" : "***"), ca: \(caFile ?? "system"), rate limit \(rateLimit)/\(DurationParser.format(rateLimitWindow)))"
        }
    }
}
