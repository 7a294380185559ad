import FactoryModel
import Foundation
import NATSKit
@testable import FactoryEngine
import FactoryState
import Testing

@Suite("Status queries", .serialized, .timeLimit(.minutes(2)))
struct QueryTests {
    @Test("a query without a reply inbox is answered on the query reply subject; bad queries get a clear error")
    func replySubjectAndBadQueries() async throws {
        try await withOperator { harness in
            try await harness.publish(.apply(try OperatorHarness.seedManifest(), workspace: try WorkspaceName("public")))
            try await harness.waitForStatus("pipeline-01") { $0.runtime == "succeeded" }

            let replies = try await harness.client.subscribe(to: harness.names.queryReplySubject)
            try harness.client.publish(Array(#"{"workspace":"public","name":"pipeline-01"}"#.utf8), to: harness.names.querySubject)
            var iterator = replies.makeAsyncIterator()
            let answer = try #require(await iterator.next())
            let reply = try JSONDecoder().decode(StatusReply.self, from: Data(answer.payload))
            #expect(reply.kind == .resource)
            #expect(reply.resource?.name == "pipeline-01")

            for bad in ["not json", #"{"name":"pipeline-01"}"#, #"{"workspace":"Bad Space"}"#, #"{"workspace":"public","name":"x..y"}"#, #"{"version":99,"workspace":"public"}"#] {
                let raw = try await harness.client.request(Array(bad.utf8), to: harness.names.querySubject)
                let decoded = try JSONDecoder().decode(StatusReply.self, from: Data(raw.payload))
                #expect(decoded.kind == .error, "\(bad)")
                #expect(decoded.error?.reason == "badQuery", "\(bad)")
            }
            let all = try await harness.query(StatusQuery(workspace: nil, allWorkspaces: true))
            #expect(all.resources?.map(\.name) == ["pipeline-01"])
            let sandbox = try await harness.query(StatusQuery(workspace: "sandbox"))
            #expect(sandbox.kind == .list && sandbox.resources?.isEmpty == true)

            // Lists come in pages.
            for index in 1...4 {
                try await harness.publish(.apply(try OperatorHarness.seedManifest(name: "paged-\(index)", modelSlug: "m-\(index)", syncSlug: "s-\(index)"), workspace: try WorkspaceName("public")))
            }
            for index in 1...4 { try await harness.waitForStatus("paged-\(index)") { $0.runtime == "succeeded" } }
            let first = try await harness.query(StatusQuery(workspace: "public", limit: 2))
            #expect(first.resources?.map(\.name) == ["paged-1", "paged-2"])
            #expect(first.total == 5 && first.nextOffset == 2)
            let last = try await harness.query(StatusQuery(workspace: "public", limit: 2, offset: 4))
            #expect(last.resources?.map(\.name) == ["pipeline-01"])
            #expect(last.nextOffset == nil)
            let tooMany = try await harness.query(StatusQuery(workspace: "public", limit: 5000))
            #expect(tooMany.error?.reason == "badQuery")
        }
    }
}
