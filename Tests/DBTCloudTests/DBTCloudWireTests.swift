import DBTCloud
import DBTCloudSimulator
import Foundation
import NIOHTTP1
import Testing

/// What dbt Cloud's public clients send, raw: the simulator must accept all of it, and answer the
/// errors dbt Cloud answers.
@Suite("dbt Cloud simulator: the wire as public clients use it", .timeLimit(.minutes(1)))
struct DBTCloudWireTests {
    @Test("auth: Token and Bearer accepted; none is 401 'Authentication credentials were not provided.'; a wrong token 401 'Invalid token.'; another account 403")
    func auth() async throws {
        try await withDBTCloud { simulator, _ in
            let url = try apiURL(simulator) + "/jobs/\(dailyJob)/"
            #expect(try await rawRequest(.GET, url, headers: [("Authorization", "Token \(testToken)")]).status == 200)
            #expect(try await rawRequest(.GET, url, headers: [("Authorization", "Bearer \(testToken)")]).status == 200)
            #expect(try await rawRequest(.GET, url, headers: [("Authorization", "token \(testToken)")]).status == 200)

            let none = try await rawRequest(.GET, url, headers: [])
            #expect(none.status == 401)
            let noneBody = try jsonObject(none.body)
            let status = try #require(noneBody["status"] as? [String: Any])
            #expect(status["code"] as? Int == 401 && status["is_success"] as? Bool == false)
            #expect(status["user_message"] as? String == "Authentication credentials were not provided.")
            #expect(noneBody.keys.contains("data") && noneBody["data"] is NSNull)

            let wrong = try await rawRequest(.GET, url, headers: [("Authorization", "Token nope")])
            #expect(wrong.status == 401)
            #expect(try userMessage(wrong.body) == "Invalid token.")
            let basic = try await rawRequest(.GET, url, headers: [("Authorization", "Basic \(testToken)")])
            #expect(basic.status == 401)

            let other = try await rawRequest(.GET, try apiURL(simulator, account: 999) + "/jobs/\(dailyJob)/")
            #expect(other.status == 403)
            #expect(try userMessage(other.body) == "Access denied: Token is not scoped to account.")
        }
    }

    @Test("paths with and without the trailing slash; a GET with a JSON null body; a POST with no body, {} or null")
    func pathsAndBodies() async throws {
        try await withDBTCloud { simulator, _ in
            let api = try apiURL(simulator)
            for path in ["/jobs/\(dailyJob)/", "/jobs/\(dailyJob)", "/runs/", "/runs", "/", ""] {
                let answer = try await rawRequest(.GET, api + path)
                #expect(answer.status == 200, "GET \(path): \(answer.status) \(answer.body)")
                #expect((try jsonObject(answer.body)["status"] as? [String: Any])?["is_success"] as? Bool == true)
            }
            #expect(try await rawRequest(.GET, api + "/jobs/\(dailyJob)/", body: "null").status == 200)

            // Dagster sends no body, dlt {}, Airflow's provider a JSON string of its payload.
            for body: String? in [nil, "{}", "null", #"{"cause": "Triggered by Airflow", "steps_override": null, "schema_override": null}"#] {
                let answer = try await rawRequest(.POST, api + "/jobs/\(dailyJob)/run" + (body == nil ? "" : "/"), body: body)
                #expect(answer.status == 200, "body \(body ?? "none"): \(answer.body)")
                let data = try #require(try jsonObject(answer.body)["data"] as? [String: Any])
                #expect(data["status"] as? Int == 1 && data["status_humanized"] as? String == "Queued")
                #expect(data["job_definition_id"] as? Int == dailyJob)
            }
            #expect(simulator.triggerLog().map(\.cause) == ["Triggered via API", "Triggered via API", "Triggered via API", "Triggered by Airflow"])
        }
    }

    @Test("a run carries every field clients read; run_steps only when include_related asks, as a comma list or a list-like string")
    func runFieldsAndIncludeRelated() async throws {
        try await withDBTCloud { simulator, client in
            let run = try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "fields"))
            let api = try apiURL(simulator)
            let plain = try #require(try jsonObject(try await rawRequest(.GET, api + "/runs/\(run.id)/").body)["data"] as? [String: Any])
            for key in [
                "id", "status", "status_humanized", "in_progress", "is_complete", "is_success", "is_error", "is_cancelled", "status_message", "href",
                "account_id", "project_id", "environment_id", "job_definition_id", "trigger_id", "created_at", "started_at", "finished_at", "job_id",
            ] {
                #expect(plain.keys.contains(key), "run lacks \(key)")
            }
            #expect((plain["run_steps"] as? [Any])?.isEmpty == true && plain["trigger"] is NSNull)

            for query in [
                "include_related=run_steps", "include_related=trigger,run_steps", "include_related=%5B%22run_steps%22%5D",
                "include_related=%5B%27trigger%27,%20%27run_steps%27%5D", "include_related=trigger&include_related=run_steps",
            ] {
                let data = try #require(try jsonObject(try await rawRequest(.GET, api + "/runs/\(run.id)/?\(query)").body)["data"] as? [String: Any])
                let steps = try #require(data["run_steps"] as? [[String: Any]], "\(query)")
                #expect(steps.count == 5, "\(query)")
                let step = try #require(steps.first)
                for key in ["id", "index", "name", "status", "status_humanized", "logs"] { #expect(step.keys.contains(key), "step lacks \(key)") }
            }
            let withJob = try #require(
                try jsonObject(try await rawRequest(.GET, api + "/runs/\(run.id)/?include_related=job,trigger").body)["data"] as? [String: Any]
            )
            let job = try #require(withJob["job"] as? [String: Any])
            #expect((job["triggers"] as? [String: Any])?.keys.contains("schedule") == true)
            #expect((withJob["trigger"] as? [String: Any])?["cause"] as? String == "fields")
        }
    }

    @Test("run list filters as clients spell them: status__in with or without spaces, job_definition_id, order_by, limit/offset; extra.pagination")
    func listFilters() async throws {
        try await withDBTCloud { simulator, client in
            var ids: [Int] = []
            for _ in 0..<3 { ids.append(try await client.triggerRun(account: testAccount, jobID: dailyJob, DBTCloudTriggerRequest(cause: "c")).id) }
            _ = try await client.cancelRun(account: testAccount, id: ids[0])
            let api = try apiURL(simulator)
            for statuses in ["%5B1,2,3%5D", "%5B1%2C%202%2C%203%5D", "%5B1%2C2%2C3%5D", "1,2,3"] {
                let body = try jsonObject(try await rawRequest(.GET, api + "/runs/?job_definition_id=\(dailyJob)&status__in=\(statuses)&order_by=-id").body)
                let data = try #require(body["data"] as? [[String: Any]])
                #expect(data.compactMap { $0["id"] as? Int } == [ids[2], ids[1]], "status__in=\(statuses)")
            }
            let page = try jsonObject(try await rawRequest(.GET, api + "/runs/?job_definition_id=\(dailyJob)&order_by=-created_at&limit=1&offset=1").body)
            #expect((page["data"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == [ids[1]])
            let extra = try #require(page["extra"] as? [String: Any])
            #expect((extra["pagination"] as? [String: Any])?["total_count"] as? Int == 3)
            #expect((extra["pagination"] as? [String: Any])?["count"] as? Int == 1)
            #expect((extra["filters"] as? [String: Any])?["limit"] as? Int == 1)

            let tooMany = try await rawRequest(.GET, api + "/runs/?limit=101")
            #expect(tooMany.status == 400)
            let badStatus = try await rawRequest(.GET, api + "/runs/?status__in=%5Bqueued%5D")
            #expect(badStatus.status == 400)
            let badOrder = try await rawRequest(.GET, api + "/runs/?order_by=-name")
            #expect(badOrder.status == 400)
        }
    }

    @Test("400 field errors in the envelope's data: a cause over 255 characters, a step that is not a dbt command, a wrong type; 405 for a GET on run/")
    func validation() async throws {
        try await withDBTCloud { simulator, _ in
            let api = try apiURL(simulator)
            let long = String(repeating: "a", count: 256)
            let tooLong = try await rawRequest(.POST, api + "/jobs/\(dailyJob)/run/", body: #"{"cause": "\#(long)"}"#)
            #expect(tooLong.status == 400)
            let body = try jsonObject(tooLong.body)
            #expect((body["data"] as? [String: Any])?["cause"] as? [String] == ["Ensure this field has no more than 255 characters."])
            #expect(try userMessage(tooLong.body) == "The request was invalid. Please double check the provided data and try again.")

            let steps = try await rawRequest(.POST, api + "/jobs/\(dailyJob)/run/", body: #"{"cause": "c", "steps_override": ["rm -rf /"]}"#)
            #expect(steps.status == 400 && steps.body.contains("steps_override"))
            let threads = try await rawRequest(.POST, api + "/jobs/\(dailyJob)/run/", body: #"{"cause": "c", "threads_override": "many"}"#)
            #expect(threads.status == 400 && threads.body.contains("A valid integer is required."))
            let numericString = try await rawRequest(.POST, api + "/jobs/\(dailyJob)/run/", body: #"{"cause": "c", "threads_override": "4"}"#)
            #expect(numericString.status == 200)
            let notJSON = try await rawRequest(.POST, api + "/jobs/\(dailyJob)/run/", body: "cause=c")
            #expect(notJSON.status == 400)
            let list = try await rawRequest(.POST, api + "/jobs/\(dailyJob)/run/", body: "[]")
            #expect(list.status == 400 && list.body.contains("non_field_errors"))

            let get = try await rawRequest(.GET, api + "/jobs/\(dailyJob)/run/")
            #expect(get.status == 405)
            #expect(try jsonObject(get.body)["detail"] as? String == "Method \"GET\" not allowed.")
            let unknownJob = try await rawRequest(.POST, api + "/jobs/1/run/", body: "{}")
            #expect(unknownJob.status == 404)
            #expect(simulator.counters().totalRuns == 1)
        }
    }

    @Test("429 over the rate limit with Retry-After and the envelope; an injected 500 in the envelope, a 504 as a gateway's text")
    func throttlingAndFaults() async throws {
        try await withDBTCloud(knobs: { $0.rateLimit = DBTCloudSimulator.RateLimit(requests: 2, window: .seconds(30)) }) { simulator, _ in
            simulator.freezeClock()  // the window counts simulated time: full until the test moves it
            let url = try apiURL(simulator) + "/jobs/\(dailyJob)/"
            #expect(try await rawRequest(.GET, url).status == 200)
            #expect(try await rawRequest(.GET, url).status == 200)
            let throttled = try await rawRequest(.GET, url)
            #expect(throttled.status == 429)
            let retryAfter = try #require(throttled.headers.first(name: "Retry-After").flatMap(Int.init))
            #expect((1...30).contains(retryAfter))
            #expect(try userMessage(throttled.body)?.hasPrefix("Request was throttled.") == true)
            #expect(simulator.counters().rateLimited == 1)

            simulator.updateKnobs {
                $0.rateLimit = nil
                $0.serverErrorRate = 1
            }
            let failed = try await rawRequest(.GET, url)
            #expect(failed.status == 500)
            #expect((try jsonObject(failed.body)["status"] as? [String: Any])?["code"] as? Int == 500)
            simulator.updateKnobs { $0.serverErrorStatus = 504 }
            let gateway = try await rawRequest(.GET, url)
            #expect(gateway.status == 504 && gateway.body == "upstream request timeout")
            #expect(simulator.counters().injectedFaults == 2)
        }
    }
}
