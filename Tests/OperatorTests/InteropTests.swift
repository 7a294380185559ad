import Foundation
import NATSTestKit
@testable import FactoryEngine
import FactoryState
import Testing

@Suite("Interoperability", .serialized, .timeLimit(.minutes(2)))
struct InteropTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("a Python nats-py client publishes an apply and queries status by request-reply, with no Swift code on its side")
    func natsPyClient() async throws {
        let python = Self.root.appendingPathComponent(".venv/bin/python").path
        try #require(FileManager.default.isExecutableFile(atPath: python), "run scripts/bootstrap to install .venv with nats-py")
        try await withOperator { harness in
            let client = Self.root.appendingPathComponent("Tests/OperatorTests/Interop/nats_py_client.py").path
            let run = try Shell.run(python, [client, harness.server.url, "pipeline-py"])
            let text = run.output
            #expect(run.status == 0, "\(text)")
            let line = try #require(text.split(separator: "\n").last { $0.hasPrefix("{") })
            let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let status = try #require((result["status"] as? [String: Any])?["resource"] as? [String: Any], "\(text)")
            #expect(status["runtime"] as? String == "succeeded")
            #expect(status["status"] as? String == "active")
            #expect((status["vendor"] as? [String: Any])?["syncSlug"] as? String == "icebase-excel-py")
            let list = try #require((result["list"] as? [String: Any])?["resources"] as? [[String: Any]])
            #expect(list.contains { $0["name"] as? String == "pipeline-py" })
            let missing = try #require((result["missing"] as? [String: Any])?["error"] as? [String: Any])
            #expect(missing["reason"] as? String == "notFound")
            #expect(harness.triggers(syncSlug: "icebase-excel-py") == 1)
        }
    }
}
