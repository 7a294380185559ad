import Foundation
import Hightouch
import HightouchSimulator
import NIOHTTP1
import Testing

/// Bodies sent as `application/x-www-form-urlencoded`, as the real API takes them and as Python's
/// `requests.post(url, data=…)` sends them: triggers by slug, by id and per sync, flags read from
/// form strings, and the 400s and 422s a form body can earn.
@Suite("Hightouch simulator: form-encoded bodies", .timeLimit(.minutes(1)))
struct HightouchFormBodyTests {
    static let form = "application/x-www-form-urlencoded"
    static let auth = ("Authorization", "Bearer \(testToken)")

    /// The run id a trigger answered.
    private static func runID(_ answer: (status: Int, body: String, headers: HTTPHeaders)) throws -> HightouchID {
        #expect(answer.status == 200, "trigger answered \(answer.status): \(answer.body)")
        let id = try #require(try jsonObject(answer.body)["id"] as? String, "no string run id in \(answer.body)")
        return HightouchID(id)
    }

    /// The run once it has ended, so its planned rows show what the flags asked for.
    private static func finishedRun(
        _ simulator: HightouchSimulator,
        _ client: HightouchClient,
        sync: HightouchSync,
        runID: HightouchID
    ) async throws -> HightouchSyncRun {
        simulator.advanceClock(by: .seconds(60))
        let run = try #require(try await client.run(syncID: sync.id, runID: runID))
        #expect(run.status.isTerminal)
        return run
    }

    @Test("POST /syncs/trigger with syncSlug=… starts one run; fullResync=True (Python's spelling of True) is honoured")
    func triggerBySlug() async throws {
        try await withHightouch { simulator, client in
            let sync = try await createSeedPipeline(client)
            let base = try #require(simulator.baseURL)
            let before = simulator.counters().totalTriggers
            let answer = try await rawRequest(
                .POST,
                base + "/api/v1/syncs/trigger",
                headers: [Self.auth],
                body: "syncSlug=\(sync.slug)&fullResync=True",
                contentType: Self.form
            )
            let runID = try Self.runID(answer)
            #expect(simulator.counters().totalTriggers == before + 1)
            #expect(simulator.counters().triggersBySyncSlug[sync.slug] == 1)

            let record = try #require(simulator.triggerLog().last)
            #expect(HightouchID(record.runID) == runID)
            #expect(record.route == "POST /syncs/trigger (syncSlug)")
            #expect(record.fullResync == true)
            #expect(record.resetCDC == nil, "a flag the form left out stays the server's default")

            let run = try await Self.finishedRun(simulator, client, sync: sync, runID: runID)
            #expect(run.plannedRows?.addedCount == run.querySize, "a full resync plans every row as added")
            #expect(run.plannedRows?.changedCount == 0)
        }
    }

    @Test("POST /syncs/trigger with syncId=<digits> starts one run; fullResync=false and resetCDC=FALSE are booleans")
    func triggerByID() async throws {
        try await withHightouch { simulator, client in
            let sync = try await createSeedPipeline(client)
            let base = try #require(simulator.baseURL)
            let before = simulator.counters().totalTriggers
            let answer = try await rawRequest(
                .POST,
                base + "/api/v1/syncs/trigger",
                headers: [Self.auth],
                body: "syncId=\(sync.id)&fullResync=false&resetCDC=FALSE",
                contentType: "application/x-www-form-urlencoded; charset=UTF-8"
            )
            let runID = try Self.runID(answer)
            #expect(simulator.counters().totalTriggers == before + 1)
            #expect(simulator.counters().triggersBySyncID[try #require(sync.id.intValue)] == 1)

            let record = try #require(simulator.triggerLog().last)
            #expect(HightouchID(record.runID) == runID)
            #expect(record.route == "POST /syncs/trigger (syncId)")
            #expect(record.fullResync == false)
            #expect(record.resetCDC == false)

            let run = try await Self.finishedRun(simulator, client, sync: sync, runID: runID)
            #expect((run.plannedRows?.changedCount ?? 0) > 0, "an incremental run plans changes, not only additions")
        }
    }

    @Test("POST /syncs/{id}/trigger with fullResync=true starts one run that resyncs every row")
    func triggerPerSync() async throws {
        try await withHightouch { simulator, client in
            let sync = try await createSeedPipeline(client)
            let base = try #require(simulator.baseURL)
            let before = simulator.counters().totalTriggers
            let answer = try await rawRequest(
                .POST,
                base + "/api/v1/syncs/\(sync.id)/trigger",
                headers: [Self.auth],
                body: "fullResync=true",
                contentType: Self.form
            )
            let runID = try Self.runID(answer)
            #expect(simulator.counters().totalTriggers == before + 1)

            let record = try #require(simulator.triggerLog().last)
            #expect(HightouchID(record.runID) == runID)
            #expect(record.route == "POST /syncs/{syncId}/trigger")
            #expect(record.fullResync == true)

            let run = try await Self.finishedRun(simulator, client, sync: sync, runID: runID)
            #expect(run.id == runID)
            #expect(run.plannedRows?.addedCount == run.querySize, "a full resync plans every row as added")
            #expect(run.plannedRows?.changedCount == 0)
        }
    }

    @Test("the request exactly as Python requests sends requests.post(url, data={'syncSlug': 'my-sync'})")
    func pythonRequests() async throws {
        try await withHightouch { simulator, client in
            let model = try await client.createModel(seedModel())
            let sync = try await client.createSync(seedSync(slug: "my-sync", modelID: model.id))
            let base = try #require(simulator.baseURL)
            // requests' own headers; it adds no charset to the form Content-Type.
            let answer = try await rawRequest(
                .POST,
                base + "/api/v1/syncs/trigger",
                headers: [
                    ("User-Agent", "python-requests/2.34.2"),
                    ("Accept-Encoding", "gzip, deflate"),
                    ("Accept", "*/*"),
                    Self.auth,
                ],
                body: "syncSlug=my-sync",
                contentType: "application/x-www-form-urlencoded"
            )
            let runID = try Self.runID(answer)
            #expect(simulator.counters().triggersBySyncSlug["my-sync"] == 1)
            #expect(try await client.run(syncID: sync.id, runID: runID)?.id == runID)
        }
    }

    @Test("a malformed form body is a 400 in the simulator's error shape, and starts no run")
    func malformedForm() async throws {
        try await withHightouch { simulator, client in
            let sync = try await createSeedPipeline(client)
            let base = try #require(simulator.baseURL)
            for body in ["syncSlug=\(sync.slug)%zz", "syncSlug=%", "=\(sync.slug)", "syncSlug=%ff%fe"] {
                let answer = try await rawRequest(.POST, base + "/api/v1/syncs/trigger", headers: [Self.auth], body: body, contentType: Self.form)
                #expect(answer.status == 400, "\(body) answered \(answer.status)")
                let error = try jsonObject(answer.body)
                #expect(error["message"] as? String == "Bad request")
                let details = try #require(error["details"] as? String)
                #expect(details.contains("not valid form data"), "\(details)")
            }
            let perSync = try await rawRequest(.POST, base + "/api/v1/syncs/\(sync.id)/trigger", headers: [Self.auth], body: "fullResync=tr%ue", contentType: Self.form)
            #expect(perSync.status == 400)
            #expect(simulator.counters().totalTriggers == 0)
            #expect(simulator.counters().requests("POST /syncs/trigger", status: 400) == 4)
        }
    }

    @Test("flags that are not booleans are a 422: 1, yes, repeated names from a form; TRUE or yes in JSON")
    func notBooleans() async throws {
        try await withHightouch { simulator, client in
            let sync = try await createSeedPipeline(client)
            let base = try #require(simulator.baseURL)
            let trigger = base + "/api/v1/syncs/trigger"
            for body in ["fullResync=1", "fullResync=yes", "fullResync=", "fullResync=true&fullResync=false"] {
                let answer = try await rawRequest(.POST, trigger, headers: [Self.auth], body: "syncSlug=\(sync.slug)&\(body)", contentType: Self.form)
                #expect(answer.status == 422, "\(body) answered \(answer.status)")
                let details = try #require(try jsonObject(answer.body)["details"] as? [String: Any])
                #expect(details["requestBody.fullResync"] != nil, "\(body): \(details)")
            }
            // JSON keeps its own rule: only the exact strings "true" and "false" are coerced (the
            // spec's defaults are the string 'false'); a form's any-case reading does not apply.
            for value in [#""TRUE""#, #""yes""#, "1"] {
                let answer = try await rawRequest(.POST, trigger, headers: [Self.auth], body: #"{"syncSlug": "\#(sync.slug)", "fullResync": \#(value)}"#)
                #expect(answer.status == 422, "JSON fullResync \(value) answered \(answer.status)")
                let details = try #require(try jsonObject(answer.body)["details"] as? [String: Any])
                #expect(details["requestBody.fullResync"] != nil)
            }
            #expect(simulator.counters().totalTriggers == 0)

            // And JSON is still read as before, with a versioned JSON Content-Type or none at all.
            let versioned = try await rawRequest(
                .POST,
                trigger,
                headers: [Self.auth],
                body: #"{"syncSlug": "\#(sync.slug)", "fullResync": "true"}"#,
                contentType: "application/json;version=2"
            )
            _ = try Self.runID(versioned)
            #expect(simulator.triggerLog().last?.fullResync == true)
            let untyped = try await rawRequest(
                .POST,
                base + "/api/v1/syncs/\(sync.id)/trigger",
                headers: [Self.auth],
                body: #"{"fullResync": false}"#,
                contentType: nil
            )
            _ = try Self.runID(untyped)
            #expect(simulator.counters().totalTriggers == 2)
        }
    }

    @Test("models and syncs: flat fields from a form update them; a form create is a 422 naming the object it cannot carry")
    func createAndUpdate() async throws {
        try await withHightouch { simulator, client in
            let sync = try await createSeedPipeline(client)
            let base = try #require(simulator.baseURL)
            let modelID = try #require(sync.modelID)

            let disabled = try await rawRequest(.PATCH, base + "/api/v1/syncs/\(sync.id)", headers: [Self.auth], body: "disabled=true", contentType: Self.form)
            #expect(disabled.status == 200, "\(disabled.body)")
            #expect(try await client.sync(id: sync.id).disabled)

            let renamed = try await rawRequest(
                .PATCH,
                base + "/api/v1/models/\(modelID)",
                headers: [Self.auth],
                body: "name=City+retail+%28form%29&isSchema=TRUE",
                contentType: Self.form
            )
            #expect(renamed.status == 200, "\(renamed.body)")
            let model = try await client.model(id: modelID)
            #expect(model.name == "City retail (form)")
            #expect(model.isSchema)

            let modelCreate = try await rawRequest(
                .POST,
                base + "/api/v1/models",
                headers: [Self.auth],
                body: "name=m&slug=m&queryType=raw_sql&sourceId=23474&isSchema=false&primaryKey=id&raw%5Bsql%5D=select+1",
                contentType: Self.form
            )
            #expect(modelCreate.status == 422)
            let modelDetails = try #require(try jsonObject(modelCreate.body)["details"] as? [String: Any])
            #expect(Set(modelDetails.keys) == ["requestBody.raw", "requestBody.raw[sql]"], "raw is missing; raw[sql] is no field of the schema")

            let syncCreate = try await rawRequest(
                .POST,
                base + "/api/v1/syncs",
                headers: [Self.auth],
                body: "slug=s&destinationId=80565&modelId=\(modelID)&disabled=false",
                contentType: Self.form
            )
            #expect(syncCreate.status == 422)
            let syncDetails = try #require(try jsonObject(syncCreate.body)["details"] as? [String: Any])
            #expect(Set(syncDetails.keys) == ["requestBody.configuration", "requestBody.schedule"])
        }
    }
}
