import Hummingbird
import JSONSchema
import SimulatorKit

// MARK: - SimRoutes

/// The API under `/api/v2/accounts/{accountId}/` (each path with or without its trailing slash:
/// the router ignores empty segments), and the admin routes under `/_admin`.
struct SimRoutes {
    let engine: SimEngine

    func install(on router: Router<BasicRequestContext>) {
        SimAdminRoutes(engine: self.engine).install(on: router)

        let api = router.group("api/v2/accounts/:accountId")
        api.add(middleware: SimAPIMiddleware(engine: self.engine))
        let engine = self.engine

        api.get { _, _ in
            SimHTTP.json(200, engine.withState { state, _ in state.accountJSON() })
        }

        // MARK: Jobs
        api.get("jobs") { request, _ in
            let query = SimQuery(request)
            do throws(SimFailure) {
                let paging = try query.paging()
                let projectID = try query.integer("project_id")
                let environmentID = try query.integer("environment_id")
                return SimHTTP.json(200, engine.withState { state, _ in state.listJobs(projectID: projectID, environmentID: environmentID, paging: paging) })
            } catch { return SimHTTP.failure(error) }
        }
        api.get("jobs/:jobId") { _, context in
            let id = context.parameters.get("jobId") ?? ""
            return SimHTTP.answer(engine.perform { state, _ throws(SimFailure) in try state.jobJSON(idText: id) })
        }
        api.post("jobs/:jobId/run") { request, context in
            let id = context.parameters.get("jobId") ?? ""
            do throws(SimFailure) {
                let body = try await SimHTTP.body(of: request)
                return Self.triggerAnswer(engine.perform { state, now throws(SimFailure) in try state.trigger(jobIDText: id, body: body, now: now) })
            } catch { return SimHTTP.failure(error) }
        }
        api.post("jobs/:jobId/rerun") { _, context in
            let id = context.parameters.get("jobId") ?? ""
            return Self.triggerAnswer(engine.perform { state, now throws(SimFailure) in try state.rerun(jobIDText: id, now: now) })
        }

        // MARK: Runs
        api.get("runs") { request, _ in
            let query = SimQuery(request)
            do throws(SimFailure) {
                let paging = try query.paging()
                var filter = SimState.RunFilter()
                filter.jobID = try query.integer("job_definition_id")
                filter.environmentID = try query.integer("environment_id")
                filter.projectID = try query.integer("project_id")
                filter.statuses = try query.statuses()
                filter.include = query.include
                if let order = query.first("order_by"), !order.isEmpty {
                    guard SimState.runOrders.contains(String(order.drop(while: { $0 == "-" }))) else {
                        throw .invalid("order_by", "Invalid order_by \"\(order)\"; use one of \(SimState.runOrders.joined(separator: ", ")), with - for descending.")
                    }
                    filter.orderBy = order
                }
                let runFilter = filter
                return SimHTTP.json(200, engine.withState { state, now in state.listRuns(runFilter, paging: paging, now: now) })
            } catch { return SimHTTP.failure(error) }
        }
        api.get("runs/:runId") { request, context in
            let id = context.parameters.get("runId") ?? ""
            let include = SimQuery(request).include
            return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.getRun(idText: id, include: include, now: now) })
        }
        api.post("runs/:runId/cancel") { _, context in
            let id = context.parameters.get("runId") ?? ""
            return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.cancelRun(idText: id, now: now) })
        }
        api.get("runs/:runId/artifacts") { _, context in
            let id = context.parameters.get("runId") ?? ""
            return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.artifactList(runIDText: id, now: now) })
        }
        api.get("runs/:runId/artifacts/**") { _, context in
            let id = context.parameters.get("runId") ?? ""
            let path = context.parameters.getCatchAll().joined(separator: "/")
            return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.artifact(runIDText: id, path: path, now: now) })
        }

        // MARK: Wrong methods: Django REST framework's 405
        for path in ["jobs/:jobId/run", "jobs/:jobId/rerun", "runs/:runId/cancel"] {
            api.get(RouterPath(path)) { _, _ in SimHTTP.failure(.methodNotAllowed("GET")) }
        }
        for path in ["runs/:runId", "runs"] {
            api.post(RouterPath(path)) { _, _ in SimHTTP.failure(.methodNotAllowed("POST")) }
        }
    }

    /// The trigger's answer, or the gateway's 504 when the answer is to be lost (the run exists).
    private static func triggerAnswer(_ result: Result<(answer: JSONValue, dropAnswer: Bool), SimFailure>) -> Response {
        switch result {
        case .success(let triggered) where triggered.dropAnswer: SimHTTP.failure(.server(504))
        case .success(let triggered): SimHTTP.json(200, triggered.answer)
        case .failure(let failure): SimHTTP.failure(failure)
        }
    }
}
