import Foundation
import Hightouch
import HightouchSimulator
import Testing
import VendorHTTP

/// Every endpoint of the client against the simulator over real HTTP on loopback.
@Suite("Hightouch client: endpoints", .timeLimit(.minutes(1)))
struct HightouchEndpointTests {
    @Test("sources and destinations: list, filter, get; the seed resource's ids exist")
    func sourcesAndDestinations() async throws {
        try await withHightouch { _, client in
            let sources = try await client.listSources()
            #expect(sources.map(\.id).contains(23474))
            let source = try await client.source(id: 23474)
            #expect(source.slug == "icebase")
            #expect(source.workspaceID == 1)
            #expect(source.createdAt != nil)
            #expect(try await client.listSources(.init(slug: "warehouse")).map(\.id) == [23475])

            let destinations = try await client.listDestinations(.init(orderBy: .name))
            #expect(destinations.map(\.slug) == ["crm", "excel-workbook"])
            let destination = try await client.destination(id: "80565")
            #expect(destination.type == "microsoft_excel")
            #expect(destination.syncIDs.isEmpty)
            _ = try await expectVendorError(.notFound) { _ = try await client.destination(id: 1) }
        }
    }

    @Test("models: create, get, look up by slug, list with filters, update")
    func models() async throws {
        try await withHightouch { _, client in
            let created = try await client.createModel(seedModel())
            #expect(created.slug == "city-retail-01")
            #expect(created.sourceID == 23474)
            #expect(created.queryType == .rawSQL)
            #expect(created.raw?.sql == "SELECT * FROM icebase.retail.city LIMIT 10000")
            #expect(created.primaryKey == "__metadata")
            #expect(created.lastRunSize == nil)

            #expect(try await client.model(id: created.id) == created)
            #expect(try await client.model(slug: "city-retail-01")?.id == created.id)
            #expect(try await client.model(slug: "no-such-model") == nil)

            _ = try await client.createModel(.rawSQL(name: "Second", slug: "second", sourceID: 23475, primaryKey: "id", sql: "select 2"))
            #expect(try await client.listModels().count == 2)
            #expect(try await client.listModels(.init(name: "Second")).map(\.slug) == ["second"])
            #expect(try await client.listModels(.init(orderBy: .slug)).map(\.slug) == ["city-retail-01", "second"])

            let updated = try await client.updateModel(
                id: created.id,
                HightouchModelUpdate(name: "City retail", primaryKey: "id", raw: .init(sql: "SELECT 1"))
            )
            #expect(updated.name == "City retail")
            #expect(updated.primaryKey == "id")
            #expect(updated.raw?.sql == "SELECT 1")
            #expect(updated.slug == created.slug)
            _ = try await expectVendorError(.notFound) { _ = try await client.updateModel(id: 999, HightouchModelUpdate(name: "x")) }
        }
    }

    @Test("syncs: create, get, look up by slug, list by slug and model, update and disable")
    func syncs() async throws {
        try await withHightouch { _, client in
            let model = try await client.createModel(seedModel())
            let sync = try await client.createSync(seedSync(modelID: model.id))
            #expect(sync.slug == "icebase-excel-01")
            #expect(sync.modelID == model.id)
            #expect(sync.destinationID == 80565)
            #expect(sync.schedule == .cron("*/5 * * * *"))
            #expect(sync.status == .pending)
            #expect(sync.disabled == false)
            #expect(sync.configuration["workbookId"] == "014W54IBU6FZWIKUZNXZAYB35OCXH7DD3Z")

            #expect(try await client.sync(id: sync.id) == sync)
            #expect(try await client.sync(slug: "icebase-excel-01")?.id == sync.id)
            #expect(try await client.sync(slug: "missing") == nil)
            #expect(try await client.listSyncs(.init(modelID: model.id)).map(\.id) == [sync.id])
            #expect(try await client.listSyncs(.init(modelID: 424_242)).isEmpty)
            #expect(try await client.model(id: model.id).syncIDs == [sync.id])
            #expect(try await client.destination(id: 80565).syncIDs == [sync.id])

            let manual = try await client.updateSync(id: sync.id, HightouchSyncUpdate(configuration: ["mode": "upsert"], schedule: .manual))
            #expect(manual.schedule == nil)
            #expect(manual.configuration == ["mode": "upsert"])
            let disabled = try await client.updateSync(id: sync.id, HightouchSyncUpdate(disabled: true))
            #expect(disabled.disabled)
            #expect(disabled.status == .disabled)
            #expect(disabled.schedule == nil, "an update without schedule keeps it")
        }
    }

    @Test("trigger by id and by id or slug sends explicit flags and returns the run id")
    func triggers() async throws {
        try await withHightouch { simulator, client in
            let sync = try await createSeedPipeline(client)
            let first = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: true, resetCDC: false))
            let second = try await client.triggerRun(.id(sync.id), options: .init(fullResync: false, resetCDC: true))
            let third = try await client.triggerRun(.slug(sync.slug), options: .init(fullResync: false, resetCDC: false, clearAndFill: true))
            #expect(Set([first, second, third]).count == 3)

            let log = simulator.triggerLog()
            #expect(log.map { HightouchID($0.runID) } == [first, second, third])
            #expect(log.map(\.route) == ["POST /syncs/{syncId}/trigger", "POST /syncs/trigger (syncId)", "POST /syncs/trigger (syncSlug)"])
            // The client never leaves a flag to the server's default.
            #expect(log.allSatisfy { $0.fullResync != nil && $0.resetCDC != nil && $0.clearAndFill != nil })
            #expect(log.map(\.fullResync) == [true, false, false])
            #expect(log.map(\.resetCDC) == [false, true, false])
            #expect(log.map(\.clearAndFill) == [false, false, true])
            #expect(simulator.counters().triggersBySyncID[try #require(sync.id.intValue)] == 3)
            #expect(simulator.counters().triggersBySyncSlug[sync.slug] == 3)

            _ = try await expectVendorError(.notFound) {
                _ = try await client.triggerRun(syncID: 999_999, options: .init(fullResync: false, resetCDC: false))
            }
            _ = try await expectVendorError(.notFound) {
                _ = try await client.triggerRun(.slug("missing"), options: .init(fullResync: false, resetCDC: false))
            }
            _ = try await client.updateSync(id: sync.id, HightouchSyncUpdate(disabled: true))
            let disabled = try await expectVendorError(.validation) {
                _ = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            }
            #expect(disabled.message?.contains("disabled") == true)
        }
    }

    @Test("sync runs: list, get one by id, unknown run is nil, unknown sync is 404")
    func runs() async throws {
        // A run that cannot end during the test, however slow the machine.
        try await withHightouch(knobs: { $0.runDuration = .seconds(120) }) { _, client in
            let sync = try await createSeedPipeline(client)
            let runID = try await client.triggerRun(syncID: sync.id, options: .init(fullResync: false, resetCDC: false))
            let run = try #require(try await client.run(syncID: sync.id, runID: runID))
            #expect(run.id == runID)
            #expect(!run.status.isTerminal)
            #expect(try await client.listSyncRuns(syncID: sync.id).map(\.id) == [runID])
            #expect(try await client.listSyncRuns(syncID: sync.id, .init(orderBy: .startedAt)).map(\.id) == [runID])
            #expect(try await client.run(syncID: sync.id, runID: 1) == nil)
            _ = try await expectVendorError(.notFound) { _ = try await client.listSyncRuns(syncID: 31_337) }
        }
    }

    @Test("a different base path is honoured on both sides")
    func customBasePath() async throws {
        try await withHightouch(simulator: { $0.basePath = "/hightouch/v1" }) { _, client in
            #expect(client.configuration.basePath == "/hightouch/v1")
            let source = try await client.source(id: 23474)
            #expect(source.id == 23474)
        }
    }
}
