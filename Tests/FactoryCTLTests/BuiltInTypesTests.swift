import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `factoryctl validate` knows every built-in resource type from its schema alone (no manifest, no
/// NATS): each example is valid, and a spec missing what its type requires is refused, naming it.
@Suite("factoryctl validate: every built-in type")
struct BuiltInTypesTests {
    static func example(_ name: String) -> String {
        CLIProcess.packageRoot.appendingPathComponent("examples/\(name)").path
    }

    @Test("each example of each type is valid without a manifest", arguments: ["resource.yaml", "http.yaml", "http-local.yaml", "fivetran.yaml", "dbtcloud.yaml", "census.yaml"])
    func examplesValid(file: String) async throws {
        let outcome = try await CLIProcess.run(["validate", "-f", Self.example(file)])
        #expect(outcome.status == 0, "\(outcome)")
        #expect(outcome.output.contains("valid"), "\(outcome)")
    }

    @Test("a spec without its type's required field is refused, naming the field", arguments: [
        ("fivetran.yaml", "connectorId"),
        ("dbtcloud.yaml", "jobId"),
        ("census.yaml", "syncId"),
    ])
    func requiredFieldRefused(file: String, field: String) async throws {
        let text = try String(contentsOfFile: Self.example(file), encoding: .utf8)
        let broken = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("\(field):") }
            .joined(separator: "\n")
        #expect(broken != text, "the example has a \(field) line to remove")
        let outcome = try await CLIProcess.run(["validate", "-f", "-"], standardInput: Data(broken.utf8))
        #expect(outcome.status != 0, "\(outcome)")
        #expect((outcome.output + outcome.errorOutput).contains(field), "\(outcome)")
    }
}

/// `factoryctl sim fivetran|dbtcloud|census` as a user runs them: each prints where it listens,
/// answers its API with the credential given and refuses another, and stops on SIGTERM.
@Suite("factoryctl sim: every vendor's simulator", .serialized)
struct VendorSimulatorCommandTests {
    struct Case: Sendable, CustomStringConvertible {
        var vendor: String
        var options: [String]
        var listening: String
        /// A read of the API: the path below the printed base, and the accepted and a refused Authorization.
        var path: String
        var accepted: String
        var refused: String
        var description: String { vendor }
    }

    static let cases: [Case] = [
        Case(
            vendor: "fivetran", options: ["--api-key", "k1", "--api-secret", "s1", "--connector", "shrank_paparazzi"],
            listening: "Fivetran simulator listening on ", path: "/connectors/shrank_paparazzi",
            accepted: "Basic " + Data("k1:s1".utf8).base64EncodedString(), refused: "Basic " + Data("k1:wrong".utf8).base64EncodedString()
        ),
        Case(
            vendor: "dbtcloud", options: ["--token", "t1", "--account", "77", "--job", "501:Nightly"],
            listening: "dbt Cloud simulator listening on ", path: "jobs/501/", accepted: "Token t1", refused: "Token wrong"
        ),
        Case(
            vendor: "census", options: ["--token", "t1", "--sync", "61:Users"],
            listening: "Census simulator listening on ", path: "/syncs/61", accepted: "Bearer secret-token:t1", refused: "Bearer secret-token:wrong"
        ),
    ]

    @Test("serves its API with the credential given, refuses another, stops on SIGTERM", arguments: cases)
    func serves(_ testCase: Case) async throws {
        let simulator = try CLIProcess.Background(["sim", testCase.vendor, "--port", "0"] + testCase.options)
        #expect(await simulator.waitForOutput(testCase.listening, timeout: .seconds(30)), "\(simulator.output)\(simulator.errorOutput)")
        let line = try #require(simulator.output.split(separator: "\n").first { $0.contains(testCase.listening) })
        let base = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init))
        let url = base.hasSuffix("/") || testCase.path.hasPrefix("/") ? base + testCase.path : base + "/" + testCase.path
        for (authorization, expected) in [(testCase.accepted, 200), (testCase.refused, 401)] {
            var request = URLRequest(url: try #require(URL(string: url)))
            request.setValue(authorization, forHTTPHeaderField: "Authorization")
            request.setValue("application/json;version=2", forHTTPHeaderField: "Accept")
            let (_, response) = try await URLSession.shared.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == expected, "\(testCase.vendor) \(url) with \(authorization)")
        }
        simulator.signal(SIGTERM)
        #expect(await simulator.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test("--webhook-url and --webhook-secret go together and take an http(s) URL; refused before anything starts", arguments: ["fivetran", "dbtcloud"])
    func webhookOptions(vendor: String) async throws {
        for (arguments, expected) in [
            (["--webhook-url", "http://127.0.0.1:9/webhooks/x"], "--webhook-url and --webhook-secret go together"),
            (["--webhook-url", "ftp://example.com/x", "--webhook-secret", "s"], "--webhook-url must be an http:// or https:// URL"),
        ] {
            let outcome = try await CLIProcess.run(["sim", vendor, "--port", "0"] + arguments, timeout: .seconds(20))
            #expect(outcome.status != 0, "\(outcome)")
            #expect(outcome.errorOutput.contains(expected), "\(outcome)")
        }
    }
}
