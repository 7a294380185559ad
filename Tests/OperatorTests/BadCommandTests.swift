import FactoryModel
import Foundation
import JSONSchema
import NATSKit
@testable import FactoryEngine
import FactoryState
import Testing

@Suite("Bad commands", .serialized, .timeLimit(.minutes(3)))
struct BadCommandTests {
    @Test("every kind of bad command is terminated, reported in status and on the dead-letter subject; the replica keeps serving")
    func badCommandsAreRefused() async throws {
        try await withOperator(configure: { $0.maxCommandBytes = 64 * 1024 }) { harness in
            let seed = try OperatorHarness.seedManifest(name: "good")
            let good = CommandEnvelope.apply(seed, workspace: try WorkspaceName("public")).jsonValue

            func mutated(_ change: (inout JSONObject) -> Void) -> [UInt8] {
                guard case .object(var object) = good else { return [] }
                change(&object)
                return JSONValue.object(object).serializedBytes()
            }
            func withSpec(name: String, _ edit: (String) -> String) throws -> [UInt8] {
                let text = good.serialized().replacingOccurrences(of: #""name":"good""#, with: #""name":"\#(name)""#)
                return Array(edit(text).utf8)
            }
            let cases: [(label: String, bytes: [UInt8], reason: String, resource: String?)] = [
                ("not JSON", Array("apply pipeline-01 please".utf8), "notJSON", nil),
                ("truncated JSON naming a resource", Array(good.serialized().prefix(160).utf8), "notJSON", "good"),
                ("unknown op", mutated { _ = $0.removeValue(forKey: "op"); _ = $0.insertNew(key: "op", value: "explode") }, "unknownOp", "good"),
                ("schema violation", try withSpec(name: "bad-schema") { $0.replacingOccurrences(of: #""isSchema":false"#, with: #""isSchema":"no""#) }, "schemaViolation", "bad-schema"),
                ("workspace not enabled", try withSpec(name: "foreign") { $0.replacingOccurrences(of: #""workspace":"public""#, with: #""workspace":"finance""#) }, "workspaceNotEnabled", "foreign"),
                ("oversize", Array((good.serialized().dropLast() + #","padding":""# + String(repeating: "x", count: 70 * 1024) + #""}"#).utf8), "oversize", nil),
                ("run of an unknown resource", CommandEnvelope.run(ResourceReference(name: try ResourceName("ghost")), workspace: try WorkspaceName("public")).encoded(), "notApplied", "ghost"),
            ]
            for (index, testCase) in cases.enumerated() {
                try await harness.publishRaw(testCase.bytes, messageID: "bad-\(index)")
            }
            // The replica keeps serving: a good command after all of them succeeds.
            try await harness.publish(.apply(seed, workspace: try WorkspaceName("public")))
            try await harness.waitForStatus("good") { $0.runtime == "succeeded" }

            let letters = try await harness.deadLetters()
            for (index, testCase) in cases.enumerated() {
                let letter = letters.first { $0.headers[DeadLetters.commandHeader] == "bad-\(index)" }
                #expect(letter != nil, "\(testCase.label): dead-lettered")
                #expect(letter?.headers[DeadLetters.reasonHeader] == testCase.reason, "\(testCase.label): reason \(String(describing: letter?.headers[DeadLetters.reasonHeader]))")
                #expect(letter?.payload == testCase.bytes, "\(testCase.label): the original bytes are kept")
                #expect(letter?.headers[DeadLetters.errorHeader]?.isEmpty == false)
                if let resource = testCase.resource {
                    let workspace = testCase.reason == "workspaceNotEnabled" ? "finance" : "public"
                    let status = try await harness.status(resource, workspace: workspace)
                    #expect(status?.lastError?.reason == testCase.reason || resource == "good", "\(testCase.label): status of \(resource) says why")
                }
            }
            let schema = try await harness.status("bad-schema")
            #expect(schema?.status == "error")
            #expect(schema?.lastError?.message.contains("/spec/model/isSchema") == true)
            #expect(try await harness.commandsLeft() == 0, "every bad command was terminated, none is redelivered")
            #expect(harness.triggers(syncSlug: "icebase-excel-01") == 1, "only the good command triggered")
        }
    }
}
