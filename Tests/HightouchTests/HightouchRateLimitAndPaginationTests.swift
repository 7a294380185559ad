import Foundation
import Hightouch
import HightouchSimulator
import Testing
import VendorHTTP

@Suite("Hightouch client: rate limiting and pagination", .timeLimit(.minutes(1)))
struct HightouchRateLimitAndPaginationTests {
    @Test("the client-side limiter keeps a busy client from drawing a single 429")
    func clientLimiterPreventsRateLimiting() async throws {
        let limit = 20
        let window = Duration.seconds(1)
        try await withHightouch(
            knobs: { $0.rateLimit = .init(requests: limit, window: window) },
            client: {
                $0.rateLimit = RateLimiter.Configuration(permits: limit, window: window)
                $0.retryPolicy = .none  // a 429 would surface as an error instead of being hidden by a retry
            }
        ) { simulator, client in
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<60 { group.addTask { _ = try await client.source(id: 23474) } }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - start
            let counters = simulator.counters()
            #expect(counters.rateLimited == 0)
            #expect(counters.responses(status: 429) == 0)
            #expect(counters.requests("GET /sources/{sourceId}", status: 200) == 60)
            #expect(elapsed >= .seconds(2), "60 calls at 20 per second need two full windows of waiting")
        }
    }

    @Test("syncs, models and runs lists are followed across pages to the end")
    func pagination() async throws {
        try await withHightouch(knobs: { $0.runDuration = .zero }, client: { $0.pageSize = 10 }) { simulator, client in
            let model = try await client.createModel(seedModel())
            for index in 0..<25 {
                _ = try await client.createSync(seedSync(slug: String(format: "sync-%02d", index), modelID: model.id))
            }
            for index in 0..<11 {
                _ = try await client.createModel(seedModel(slug: "model-\(index)"))
            }
            simulator.resetCounters()

            let syncs = try await client.listSyncs()
            #expect(syncs.count == 25)
            #expect(Set(syncs.map(\.id)).count == 25)
            #expect(simulator.counters().requests("GET /syncs", status: 200) == 3)

            let models = try await client.listModels()
            #expect(models.count == 12)
            #expect(simulator.counters().requests("GET /models", status: 200) == 2, "no hasMore: a short page ends the list")

            let page = try await client.listSyncsPage(limit: 10, offset: 20)
            #expect(page.data.count == 5)
            #expect(page.hasMore == false)
            #expect(try await client.listSyncsPage(limit: 10, offset: 10).hasMore == true)

            let sync = try #require(syncs.first)
            var triggered: [HightouchID] = []
            for _ in 0..<23 {
                triggered.append(try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false)))
            }
            simulator.resetCounters()
            let runs = try await client.listSyncRuns(syncID: sync.id)
            #expect(runs.map(\.id) == triggered)
            #expect(simulator.counters().requests("GET /syncs/{syncId}/runs", status: 200) == 3)
        }
    }
}
