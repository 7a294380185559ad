// swift-tools-version:6.1
//
// FactoryOperator: a Swift worker on NATS JetStream that turns declared pipeline resources into
// vendor API calls. The folder tree is the architecture:
//
//   CNATS               the cnats C library (system library; imported by NATSKit only)
//   NATSKit             safe Swift NATS / JetStream / KV wrapper, no C pointer in its API
//   NATSTestKit         starts and stops real nats-server processes (tests, benchmarks, `factoryctl dev`)
//   JSONSchema          JSON values, a strict JSON parser and a draft 2020-12 validator
//   FactoryModel        manifests, the command envelope, the status query wire format, configuration values
//   FactoryState        the state documents (records, versions 1 and 2) and their views: what factoryctl reads
//   VendorHTTP          what every vendor client shares: retries with backoff, rate limiting, typed HTTP errors
//   Hightouch           the production Hightouch API client
//   SimulatorKit        what simulators and fault tests share: a served app's lifecycle, a fault proxy, an HTTP task target
//   SimulatedVendors    every vendor's simulator behind one protocol (process tests, chaos, benchmarks)
//   HightouchSimulator  a faithful Hightouch API simulator (Hummingbird)
//   DBTCloud            the production dbt Cloud Administrative API v2 client
//   DBTCloudSimulator   a faithful dbt Cloud API simulator (Hummingbird, HTTP or HTTPS)
//   Census              the Census API client
//   CensusSimulator     a Census API simulator (Hummingbird; HTTP and HTTPS)
//   FactoryEngine       the vendor-neutral engine: the driver protocol, commands, state in KV, run following,
//                       queries, election, maintenance, metrics; imports no vendor module
//   FactoryEngineTestKit  an in-memory state backend and a scriptable driver: the engine tested without a server
//   HightouchDriver     the `hightouch` resource type on the engine
//   DBTCloudDriver      the `dbtcloud` resource type on the engine
//   Fivetran, FivetranSimulator, FivetranDriver   the same three for Fivetran connectors
//   CensusDriver        the `census` resource type on the engine
//   Pipelines           pipeline specs, validation, run documents and scheduling rules (pure)
//   PipelineDriver      the `pipeline` resource type on the engine, with its advancer and inputs
//   OperatorApp         what the operator executables share: `operator sync`, logging, the metrics server
//   HightouchOperator   `hightouch-operator` executable (thin; the seed operator's drop-in)
//   FactoryOperator     `factory-operator` executable (thin; any set of drivers, OPERATOR_DRIVERS)
//   FactoryCTL          `factoryctl` executable (thin)
//   FactoryBench        `factory-bench` benchmark executable (never a test)
import PackageDescription

let package = Package(
    name: "FactoryOperator",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hightouch-operator", targets: ["HightouchOperator"]),
        .executable(name: "factory-operator", targets: ["FactoryOperator"]),
        .executable(name: "factoryctl", targets: ["FactoryCTL"]),
        .executable(name: "factory-bench", targets: ["FactoryBench"]),
        .executable(name: "factory-chaos", targets: ["FactoryChaos"]),
        .executable(name: "factory-fuzz", targets: ["FactoryFuzz"]),
        .library(name: "NATSKit", targets: ["NATSKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-async-algorithms.git", from: "1.1.4"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Already in the graph through async-http-client and hummingbird; named for its NIOSSL
        // product (TLS configuration: a private CA for vendor clients, certificates for simulators).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // Already in the graph through async-http-client; named for the webhooks' HMAC-SHA256.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // MARK: - C interop
        .systemLibrary(
            name: "CNATS",
            pkgConfig: "libnats",
            providers: [.apt(["libnats-dev"])]
        ),

        // MARK: - NATS
        .target(
            name: "NATSKit",
            dependencies: [
                "CNATS",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "NATSTestKit",
            dependencies: []
        ),

        // MARK: - Wire formats and validation
        .target(
            name: "JSONSchema",
            dependencies: []
        ),
        .target(
            name: "FactoryModel",
            dependencies: [
                "JSONSchema",
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // MARK: - Vendors
        // RFC 3339 date-times read and written by hand (vendor APIs' and the pipeline documents').
        .target(name: "Timestamps"),
        .target(
            name: "VendorHTTP",
            dependencies: [
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "Hightouch",
            dependencies: [
                "VendorHTTP",
                "Timestamps",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // What simulators and fault tests share: a served application's lifecycle, a fault proxy,
        // a target for HTTP tasks.
        .target(
            name: "SimulatorKit",
            dependencies: [
                "Timestamps",
                .product(name: "Hummingbird", package: "hummingbird"),
                // Simulators serve HTTPS from PEM files (HTTPServerBuilder.tls).
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                // A served application stops gracefully (its own ServiceGroup).
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                // Completion webhooks are signed (HMAC-SHA256), as the vendors sign them.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Every vendor's simulator behind one protocol, for process tests, chaos runs and benchmarks.
        .target(
            name: "SimulatedVendors",
            dependencies: ["SimulatorKit", "HightouchSimulator", "DBTCloudSimulator", "CensusSimulator", "FivetranSimulator", "JSONSchema"]
        ),
        .target(
            name: "HightouchSimulator",
            dependencies: [
                "SimulatorKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "DBTCloud",
            dependencies: [
                "VendorHTTP",
                "Timestamps",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "DBTCloudSimulator",
            dependencies: [
                "SimulatorKit",
                "JSONSchema",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        .target(
            name: "Census",
            dependencies: [
                "VendorHTTP",
                "Timestamps",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // A CA file in the configuration (CENSUS_CA_FILE): NIOSSL's TLSConfiguration.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "CensusSimulator",
            dependencies: [
                "SimulatorKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                // HTTPS (--tls-cert/--tls-key): HTTPServerBuilder.tls; NIOSSL's TLSConfiguration comes with it.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Fivetran",
            dependencies: [
                "VendorHTTP",
                "Timestamps",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "FivetranSimulator",
            dependencies: [
                "SimulatorKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        // MARK: - State documents (read by the engine and by factoryctl)
        .target(
            name: "FactoryState",
            dependencies: ["FactoryModel", "JSONSchema"]
        ),
        // OpenLineage run events (issue 16): the model, pure; and the official schemas for tests.
        .target(
            name: "Lineage",
            dependencies: ["FactoryModel", "FactoryState", "JSONSchema"]
        ),
        .target(
            name: "LineageTestKit",
            dependencies: ["Lineage", "JSONSchema"],
            resources: [.copy("Resources")]
        ),

        // MARK: - The engine and its drivers
        .target(
            name: "FactoryEngine",
            dependencies: [
                "NATSKit",
                "FactoryModel",
                "FactoryState",
                "Lineage",
                "JSONSchema",
                // The fence right before a trigger's request is sent (VendorSendGuard).
                "VendorHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                // The lineage forwarder's POSTs (docs/lineage.md).
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // Vendors' webhook signatures (HMAC-SHA256).
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "FactoryEngineTestKit",
            dependencies: ["FactoryEngine", "FactoryState", "FactoryModel", "JSONSchema", "VendorHTTP", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "DBTCloudDriver",
            dependencies: [
                "FactoryEngine",
                "FactoryModel",
                "FactoryState",
                "JSONSchema",
                "Lineage",
                "DBTCloud",
                "VendorHTTP",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "HightouchDriver",
            dependencies: [
                "FactoryEngine",
                "Lineage",
                "FactoryModel",
                "FactoryState",
                "JSONSchema",
                "Hightouch",
                "VendorHTTP",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .target(
            name: "HTTPTaskDriver",
            dependencies: [
                "FactoryEngine",
                "FactoryModel",
                "FactoryState",
                "JSONSchema",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "FivetranDriver",
            dependencies: [
                "FactoryEngine",
                "FactoryModel",
                "FactoryState",
                "JSONSchema",
                "Lineage",
                "Fivetran",
                "VendorHTTP",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .target(
            name: "CensusDriver",
            dependencies: [
                "FactoryEngine",
                "FactoryModel",
                "FactoryState",
                "JSONSchema",
                "Lineage",
                "Census",
                "VendorHTTP",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Pipelines: the spec, its validation, the run document and the scheduling rules, pure
        // (no NATS, no clock): the pipeline driver and factoryctl build on it.
        .target(
            name: "Pipelines",
            dependencies: ["FactoryModel", "JSONSchema", "Timestamps"]
        ),
        // The `pipeline` resource type on the engine, and its companion (the advancer and the
        // inputs) running beside the engine in each replica.
        .target(
            name: "PipelineDriver",
            dependencies: [
                "FactoryEngine",
                "FactoryModel",
                "FactoryState",
                "JSONSchema",
                "NATSKit",
                "Pipelines",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The web console (`factoryctl console`, issue 17): a Hummingbird server of static pages,
        // JSON and Server-Sent Events fed by shared KV watches.
        .target(
            name: "FactoryConsole",
            dependencies: [
                "FactoryModel",
                "FactoryState",
                "JSONSchema",
                "NATSKit",
                "Pipelines",
                "SimulatorKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            resources: [.copy("Static")]
        ),
        // Headless Chromium through chromedriver's WebDriver API: the console's browser tests and benchmark.
        .target(
            name: "BrowserKit",
            dependencies: [
                "JSONSchema",
                "NATSTestKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        // MARK: - Executables
        .target(
            name: "OperatorApp",
            dependencies: [
                "FactoryEngine",
                "FactoryModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "HightouchOperator",
            dependencies: [
                "OperatorApp",
                "FactoryEngine",
                "HightouchDriver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "FactoryOperator",
            dependencies: [
                "OperatorApp",
                "FactoryEngine",
                "HightouchDriver",
                "HTTPTaskDriver",
                "FivetranDriver",
                "DBTCloudDriver",
                "CensusDriver",
                "PipelineDriver",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "FactoryCTL",
            dependencies: [
                "NATSKit",
                "FactoryModel",
                "JSONSchema",
                "HightouchSimulator",
                "FivetranSimulator",
                "DBTCloudSimulator",
                "CensusSimulator",
                "SimulatorKit",
                "NATSTestKit",
                // The state records and views `watch` reads (not the engine).
                "FactoryState",
                // Pipeline specs (validate) and run documents (run, runs, get --run, watch).
                "Pipelines",
                // `console`: the web console.
                "FactoryConsole",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                // `dev`: replicas' /readyz, and SIGINT/SIGTERM as an async sequence.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "FactoryBench",
            dependencies: [
                "NATSKit",
                "NATSTestKit",
                "JSONSchema",
                "FactoryModel",
                "Hightouch",
                "HightouchSimulator",
                // Every vendor client against its simulator, beside VendorHTTP and plain AsyncHTTPClient floors.
                "VendorHTTP",
                "Fivetran",
                "FivetranSimulator",
                "DBTCloud",
                "DBTCloudSimulator",
                "Census",
                "CensusSimulator",
                // The pipeline benchmark's HTTP task target.
                "SimulatorKit",
                // The console with many resources and a large run, in Chromium (`console`).
                "BrowserKit",
                "FactoryState",
                "Pipelines",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        // MARK: - Proof under faults (issue 8): chaos runs
        .target(
            name: "ChaosKit",
            dependencies: [
                "NATSKit",
                "NATSTestKit",
                "HightouchSimulator",
                "SimulatedVendors",
                "JSONSchema",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "FactoryChaos",
            dependencies: [
                "ChaosKit",
                "HightouchSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: - Proof under faults (issue 8): fuzz targets (scripts/fuzz builds them with libFuzzer)
        .target(
            name: "FuzzTargets",
            dependencies: ["FactoryModel", "JSONSchema"]
        ),
        .executableTarget(
            name: "FactoryFuzz",
            dependencies: ["FuzzTargets"]
        ),

        // MARK: - Tests (real nats-server processes, real HTTP servers)
        .testTarget(
            name: "NATSKitTests",
            dependencies: ["NATSKit", "NATSTestKit"]
        ),
        .testTarget(
            name: "JSONSchemaTests",
            dependencies: ["JSONSchema"],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "FactoryModelTests",
            dependencies: ["FactoryModel", "JSONSchema"],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "HightouchTests",
            dependencies: [
                "Hightouch",
                "HightouchSimulator",
                "VendorHTTP",
                // The driver through the engine in memory against the simulator (foreign objects).
                "HightouchDriver",
                "FactoryEngine",
                "FactoryEngineTestKit",
                "FactoryState",
                "FactoryModel",
                "JSONSchema",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The Fivetran client against its simulator (HTTP and HTTPS), the driver, and the command
        // protocol in memory against the simulator.
        .testTarget(
            name: "FivetranTests",
            dependencies: [
                "Fivetran",
                "FivetranSimulator",
                "FivetranDriver",
                "VendorHTTP",
                "FactoryEngine",
                "FactoryEngineTestKit",
                "FactoryState",
                "FactoryModel",
                "JSONSchema",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "DBTCloudTests",
            dependencies: [
                "DBTCloud",
                "DBTCloudSimulator",
                "DBTCloudDriver",
                "VendorHTTP",
                "FactoryEngine",
                "FactoryEngineTestKit",
                "FactoryState",
                "FactoryModel",
                "JSONSchema",
                // Throwaway TLS certificates made with openssl.
                "NATSTestKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The Census client against its simulator (HTTP and HTTPS), the driver, and the command
        // protocol in memory against the real simulator.
        .testTarget(
            name: "CensusTests",
            dependencies: [
                "Census",
                "CensusSimulator",
                "CensusDriver",
                "VendorHTTP",
                "FactoryEngine",
                "FactoryEngineTestKit",
                "FactoryState",
                "FactoryModel",
                "JSONSchema",
                "NATSTestKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Drives the built `factoryctl` and `hightouch-operator` as a user would; depending on the
        // executable targets makes `swift build --build-tests` build both binaries.
        .testTarget(
            name: "FactoryCTLTests",
            dependencies: [
                "FactoryCTL",
                "HightouchOperator",
                "FactoryOperator",
                "FactoryEngine",
                "FactoryState",
                "HightouchDriver",
                "FactoryModel",
                "JSONSchema",
                "NATSKit",
                "NATSTestKit",
            ],
            // Read from the source tree by the Python checker, not through the bundle.
            exclude: ["Resources"]
        ),
        // The engine alone: the command protocol against the in-memory test kit, no server.
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "FactoryEngine",
                "FactoryEngineTestKit",
                "FactoryState",
                "FactoryModel",
                "JSONSchema",
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "HTTPTaskTests",
            dependencies: [
                "HTTPTaskDriver",
                "FactoryEngine",
                "FactoryEngineTestKit",
                "FactoryModel",
                "FactoryState",
                "JSONSchema",
                "SimulatorKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "LineageTests",
            dependencies: [
                "Lineage",
                "LineageTestKit",
                "JSONSchema",
                "FactoryEngine",
                "FactoryEngineTestKit",
                "FactoryState",
                "FactoryModel",
                "HightouchDriver",
                "Hightouch",
                "HightouchSimulator",
                "FivetranDriver",
                "CensusDriver",
                "DBTCloudDriver",
                "VendorHTTP",
                "SimulatorKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: ["Pipelines", "FactoryModel", "JSONSchema"]
        ),
        // The pipeline runtime: the mapping of task statuses to attempts, and pipelines end to
        // end with a real nats-server, the simulators and two `factory-operator` processes.
        .testTarget(
            name: "PipelineRuntimeTests",
            dependencies: [
                "PipelineDriver",
                "Lineage",
                "LineageTestKit",
                "Pipelines",
                "FactoryEngine",
                "FactoryState",
                "FactoryModel",
                "JSONSchema",
                "NATSKit",
                "NATSTestKit",
                "SimulatorKit",
                "SimulatedVendors",
                "HightouchSimulator",
                "DBTCloudSimulator",
                "FactoryOperator",
                "FactoryCTL",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "OperatorTests",
            dependencies: [
                "FactoryEngine",
                "FactoryState",
                "HightouchDriver",
                "FactoryEngineTestKit",
                "OperatorApp",
                "HightouchOperator",
                "FactoryOperator",
                "NATSKit",
                "NATSTestKit",
                "FactoryModel",
                "JSONSchema",
                "Hightouch",
                "HightouchSimulator",
                // Every resource type as processes: each vendor's simulator behind a fault proxy.
                "SimulatorKit",
                "SimulatedVendors",
                "FivetranSimulator",
                "DBTCloudSimulator",
                "Lineage",
                "LineageTestKit",
                .product(name: "Logging", package: "swift-log"),
            ],
            // Run by the interoperability tests with the project's Python environment.
            exclude: ["Interop/nats_py_client.py"]
        ),
        // The web console in headless Chromium (chromedriver's WebDriver API) against a real
        // nats-server and a `factory-operator` process.
        .testTarget(
            name: "ConsoleTests",
            dependencies: [
                "BrowserKit",
                "FactoryConsole",
                "FactoryCTL",
                "FactoryOperator",
                "FactoryModel",
                "FactoryState",
                "JSONSchema",
                "NATSKit",
                "NATSTestKit",
                "Pipelines",
                "SimulatorKit",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ChaosTests",
            dependencies: ["ChaosKit", "NATSKit", "HightouchSimulator"]
        ),
        .testTarget(
            name: "HostileInputTests",
            dependencies: ["ChaosKit", "HightouchSimulator", "FuzzTargets"],
            path: "Tests/HostileInput",
            exclude: ["corpus.jsonl", "make_corpus.py", "hostile_client.py"]
        ),
    ]
)

// Every Swift target: Swift 6 language mode (complete strict concurrency) and explicit `any`.
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
