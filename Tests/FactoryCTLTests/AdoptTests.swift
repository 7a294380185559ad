import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NATSTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension BinaryTests {
    /// `factoryctl apply --adopt` as a user meets it: a sync someone made under the example's slug
    /// refuses the apply, and --adopt takes it over.
    @Suite("factoryctl apply --adopt (binaries)", .timeLimit(.minutes(3)))
    struct AdoptTests {
        static let token = "adopt-test-token"

        /// A request to the simulator's API (as a person in Hightouch's UI would make it).
        static func hightouch(_ method: String, _ url: String, body: String? = nil) async throws -> (Int, String) {
            var request = URLRequest(url: try #require(URL(string: url)))
            request.httpMethod = method
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            if let body {
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(body.utf8)
            }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
        }

        @Test("a foreign sync under the slug: apply fails with foreignObject and changes nothing; apply --adopt says so, takes it over, runs once; get -d shows the adoption")
        func adopt() async throws {
            let help = try await CLIProcess.run(["apply", "--help"])
            #expect(help.output.contains("--adopt") && help.output.contains("foreignObject"), "\(help)")

            try await withNATSServer { server in
                let s = ["-s", server.url]
                let port = try FreePort.pick()
                let simulator = try CLIProcess.Background(["sim", "hightouch", "--port", "\(port)", "--token", Self.token, "--run-duration", "300ms"])
                defer { simulator.signal(SIGTERM) }
                let api = "http://127.0.0.1:\(port)/api/v1"
                var up = false
                for _ in 0..<100 where !up {
                    up = (try? await Self.hightouch("GET", "http://127.0.0.1:\(port)/_admin/health"))?.0 == 200
                    if !up { try await Task.sleep(for: .milliseconds(100)) }
                }
                try #require(up, "the simulator did not start:\n\(simulator.output)\n\(simulator.errorOutput)")
                let operatorProcess = try CLIProcess.Background(
                    ["operator", "sync"], binary: CLIProcess.binary("factory-operator"),
                    environment: [
                        "NATS_URL": server.url, "OPERATOR_DRIVERS": "hightouch", "METRIC_PORT": "\(try FreePort.pick())",
                        "HIGHTOUCH_SERVICE_URL": "http://127.0.0.1:\(port)", "HIGHTOUCH_SERVICE_SECRET": Self.token,
                        "OPERATOR_RECONCILE_WORKERS_INTERVAL": "300ms",
                    ]
                )
                defer { operatorProcess.signal(SIGTERM) }
                var ready = false
                for _ in 0..<100 where !ready {
                    ready = try await CLIProcess.run(["get", "-t", "resource", "-w", "public", "--resource-type", "hightouch"] + s).status == 0
                    if !ready { try await Task.sleep(for: .milliseconds(200)) }
                }
                try #require(ready, "the operator did not answer:\n\(operatorProcess.output)\n\(operatorProcess.errorOutput)")

                // Someone's pipeline in Hightouch: the example's model, and a sync under the
                // example's slug configured their way.
                let model = try await Self.hightouch("POST", "\(api)/models", body: #"""
                    {"name": "city-retail-01", "slug": "city-retail-01", "queryType": "raw_sql", "sourceId": 23474, "isSchema": false,
                     "primaryKey": "__metadata", "raw": {"sql": "SELECT * FROM icebase.retail.city LIMIT 10000"}}
                    """#)
                #expect(model.0 == 200, "\(model)")
                let sync = try await Self.hightouch("POST", "\(api)/syncs", body: #"""
                    {"slug": "icebase-excel-01", "configuration": {"mode": "upsert"}, "destinationId": 80565, "modelId": 10001, "schedule": null, "disabled": false}
                    """#)
                #expect(sync.0 == 200 && sync.1.contains(#""id":20001"#), "\(sync)")

                let plain = try await CLIProcess.run(["apply", "-f", "examples/resource.yaml", "-w", "public", "--watch"] + s)
                #expect(plain.status == 1, "\(plain)")
                #expect(plain.output.contains("error (foreignObject): sync icebase-excel-01 at Hightouch is sync 20001"), "\(plain)")
                #expect(plain.output.contains("Apply again with factoryctl apply --adopt to take it over, or use another slug"), "\(plain)")
                let untouched = try await Self.hightouch("GET", "\(api)/syncs/20001")
                #expect(untouched.1.contains(#""mode":"upsert""#), "nothing changed: \(untouched)")

                let adopt = try await CLIProcess.run(["apply", "--adopt", "-f", "examples/resource.yaml", "-w", "public", "--watch"] + s)
                #expect(adopt.status == 0, "\(adopt)")
                #expect(adopt.lines.first?.hasPrefix("public/pipeline-01: apply published to dataos-hightouch-entities, sequence 2 (again, to re-drive it after its error: foreignObject)") == true, "\(adopt)")
                #expect(adopt.lines.first?.hasSuffix("; adopt: vendor objects found under the spec's names are taken over and updated to the spec") == true, "\(adopt)")
                #expect(adopt.lines.last?.contains("succeeded") == true, "\(adopt)")
                let counters = try await Self.hightouch("GET", "http://127.0.0.1:\(port)/_admin/counters")
                #expect(counters.1.contains(#""bySyncId":{"20001":1}"#), "one run, on the sync taken over: \(counters)")

                let detail = try await CLIProcess.run(["get", "pipeline-01", "-w", "public", "-d"] + s)
                #expect(detail.output.contains("Sync:             20001 (icebase-excel-01)"), "\(detail)")
                #expect(detail.output.contains("Last drift repair:"), "\(detail)")
                #expect(detail.output.contains("sync 20001 (icebase-excel-01): configuration, schedule differed from the spec"), "\(detail)")
            }
        }
    }
}
