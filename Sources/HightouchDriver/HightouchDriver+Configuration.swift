import FactoryEngine
import FactoryModel
import Foundation
import Hightouch
import Logging
import VendorHTTP

extension HightouchDriver {
    /// The `hightouch` type: the seed operator's schema and names, and the variables of the seed
    /// manifest.
    public static let descriptor = DriverDescriptor(
        definition: builtInDefinition,
        displayName: "Hightouch",
        variables: [
            .init("HIGHTOUCH_SERVICE_URL", default: "https://api.hightouch.com", "the vendor endpoint"),
            .init("HIGHTOUCH_SERVICE_BASE_PATH", default: "/api/v1", "the API's path prefix"),
            .init("HIGHTOUCH_SERVICE_SECRET", "the workspace API key; never logged"),
            .init("HIGHTOUCH_RATE_LIMIT", default: "200 / ELECTION_CLUSTER_SIZE", "requests per window, this replica's share"),
            .init("HIGHTOUCH_RATE_LIMIT_WINDOW", default: "10s", "the rate limit's window"),
        ],
        secretVariable: "HIGHTOUCH_SERVICE_SECRET"
    )

    private static let builtInDefinition: ResourceTypeDefinition = {
        do {
            return try ResourceTypeDefinition.hightouchDefault()
        } catch {
            // The built-in schema is a constant that a test compiles; failing here is a build defect.
            preconditionFailure("the built-in hightouch spec schema does not compile: \(error)")
        }
    }()

    /// Makes the driver for an executable: reads its variables from `environment`.
    public static let factory = DriverFactory(descriptor: descriptor) { environment, logger throws(ConfigurationError) in
        AnyResourceDriver(try HightouchDriver(configuration: Configuration(environment: environment), logger: logger))
    }

    /// The client built from a configuration.
    public init(configuration: Configuration, logger: Logger) throws(ConfigurationError) {
        guard let secret = configuration.secret else {
            throw ConfigurationError(variable: "HIGHTOUCH_SERVICE_SECRET", value: nil, expected: "the Hightouch workspace API key (a bearer token)")
        }
        self.init(
            client: HightouchClient(
                configuration: HightouchClient.Configuration(
                    token: VendorSecret(secret),
                    baseURL: configuration.serviceURL,
                    basePath: configuration.basePath,
                    rateLimit: RateLimiter.Configuration(permits: configuration.rateLimit, window: configuration.rateLimitWindow)
                ),
                logger: logger
            )
        )
    }

    /// The Hightouch variables. The secret never appears in a description.
    public struct Configuration: Sendable, CustomStringConvertible {
        /// HIGHTOUCH_SERVICE_URL.
        public var serviceURL = "https://api.hightouch.com"
        /// HIGHTOUCH_SERVICE_BASE_PATH.
        public var basePath = "/api/v1"
        /// HIGHTOUCH_SERVICE_SECRET.
        public var secret: String?
        /// HIGHTOUCH_RATE_LIMIT / HIGHTOUCH_RATE_LIMIT_WINDOW: this replica's client-side budget.
        /// Hightouch allows 200 requests per 10 s per API key, and every replica uses the same
        /// key, so by default each replica takes an equal share: 200 / ELECTION_CLUSTER_SIZE.
        public var rateLimit = 200
        public var rateLimitWindow: Duration = .seconds(10)

        public init() {}

        public init(environment: [String: String]) throws(ConfigurationError) {
            let reader = EnvironmentReader(environment: environment)
            serviceURL = reader.string("HIGHTOUCH_SERVICE_URL", default: serviceURL)
            guard let url = URL(string: serviceURL), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
                throw ConfigurationError(variable: "HIGHTOUCH_SERVICE_URL", value: serviceURL, expected: "an http:// or https:// URL such as https://api.hightouch.com")
            }
            basePath = reader.string("HIGHTOUCH_SERVICE_BASE_PATH", default: basePath)
            guard basePath.hasPrefix("/"), !basePath.contains(" ") else {
                throw ConfigurationError(variable: "HIGHTOUCH_SERVICE_BASE_PATH", value: basePath, expected: "a path starting with /, such as /api/v1")
            }
            secret = reader.optionalString("HIGHTOUCH_SERVICE_SECRET")
            let replicas = (try? reader.integer("ELECTION_CLUSTER_SIZE", default: 1, range: 1...1000)) ?? 1
            rateLimit = try reader.integer("HIGHTOUCH_RATE_LIMIT", default: max(1, 200 / replicas), range: 1...1_000_000)
            rateLimitWindow = try reader.duration("HIGHTOUCH_RATE_LIMIT_WINDOW", default: rateLimitWindow, minimum: .milliseconds(10))
        }

        public var description: String {
            "Hightouch(url: \(serviceURL), basePath: \(basePath), secret: \(secret == nil ? "none" : "***"), rate limit \(rateLimit)/\(DurationParser.format(rateLimitWindow)))"
        }
    }
}
