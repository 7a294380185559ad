import Hummingbird
import SimulatorKit

// MARK: - SimRoutes

/// The API routes under the base path, and the admin routes under `/_admin`.
struct SimRoutes {
    let engine: SimEngine

    func install(on router: Router<BasicRequestContext>) {
        SimAdminRoutes(engine: self.engine).install(on: router)

        let basePath = "/" + self.engine.configuration.basePath.split(separator: "/").joined(separator: "/")
        let prefix = basePath == "/" ? "" : basePath
        let api = prefix.isEmpty ? router.group() : router.group(RouterPath(prefix))
        api.add(middleware: SimAPIMiddleware(engine: self.engine, basePath: prefix))
        let engine = self.engine
        let scheme = engine.configuration.tls == nil ? "http" : "https"

        /// The `next` URL of a collection: this request's host, the next page.
        @Sendable func nextURL(_ request: Request, _ path: String, _ paging: SimState.Paging) -> @Sendable (Int) -> String {
            let authority = request.head.authority ?? "\(engine.configuration.host):\(engine.configuration.port)"
            return { page in
                "\(scheme)://\(authority)\(prefix)\(path)?page=\(page)&per_page=\(paging.perPage)&order=\(paging.descending ? "desc" : "asc")"
            }
        }

        // MARK: Syncs
        api.get("syncs") { request, _ in
            do throws(SimFailure) {
                let paging = try SimQuery(request).paging()
                let next = nextURL(request, "/syncs", paging)
                return SimHTTP.json(200, engine.withState { state, _ in state.listSyncs(paging: paging, nextURL: next) })
            } catch { return SimHTTP.failure(error) }
        }
        api.get("syncs/:sync_id") { _, context in
            let id = Self.id(context, "sync_id")
            return SimHTTP.answer(engine.perform { state, _ throws(SimFailure) in
                guard let id else { throw .notFound("Sync", context.parameters.get("sync_id") ?? "") }
                return try state.sync(id: id)
            })
        }
        api.post("syncs/:sync_id/trigger") { request, context in
            do throws(SimFailure) {
                // force_full_sync arrives as a query parameter (as Census documents it), in a JSON
                // or form body (as dagster-census sends it), or not at all. The body wins when
                // both carry it, as Rails merges body parameters over query parameters.
                let query = try SimHTTP.boolean(SimQuery(request).first("force_full_sync").map { .string($0) }, name: "force_full_sync")
                let body = try SimHTTP.boolean(try await SimHTTP.fields(of: request)?["force_full_sync"], name: "force_full_sync")
                let forceFullSync = body ?? query
                let via = body != nil ? "body" : query != nil ? "query" : "none"
                let idText = context.parameters.get("sync_id") ?? ""
                let id = Self.id(context, "sync_id")
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                    guard let id else { throw .notFound("Sync", idText) }
                    let answer = try state.trigger(syncID: id, forceFullSync: forceFullSync, via: via, now: now)
                    if state.lostTriggerAnswers > 0 {
                        // The run exists; its answer is lost on the way back.
                        state.lostTriggerAnswers -= 1
                        throw .server(502)
                    }
                    return answer
                })
            } catch { return SimHTTP.failure(error) }
        }
        api.get("syncs/:sync_id/sync_runs") { request, context in
            do throws(SimFailure) {
                let paging = try SimQuery(request).paging()
                let idText = context.parameters.get("sync_id") ?? ""
                let id = Self.id(context, "sync_id")
                let next = nextURL(request, "/syncs/\(idText)/sync_runs", paging)
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                    guard let id else { throw .notFound("Sync", idText) }
                    return try state.listRuns(syncID: id, paging: paging, now: now, nextURL: next)
                })
            } catch { return SimHTTP.failure(error) }
        }

        // MARK: Sync runs
        api.get("sync_runs/:sync_run_id") { _, context in
            let idText = context.parameters.get("sync_run_id") ?? ""
            let id = Self.id(context, "sync_run_id")
            return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                guard let id else { throw .notFound("SyncRun", idText) }
                return try state.syncRun(id: id, now: now)
            })
        }

        // MARK: Sources and destinations
        for (collection, isDestination, idName) in [("sources", false, "source_id"), ("destinations", true, "destination_id")] {
            api.get(RouterPath(collection)) { request, _ in
                do throws(SimFailure) {
                    let paging = try SimQuery(request).paging()
                    let next = nextURL(request, "/\(collection)", paging)
                    return SimHTTP.json(200, engine.withState { state, _ in
                        state.listConnections(destination: isDestination, paging: paging, nextURL: next)
                    })
                } catch { return SimHTTP.failure(error) }
            }
            api.get(RouterPath("\(collection)/:\(idName)")) { _, context in
                let idText = context.parameters.get(idName) ?? ""
                let id = Self.id(context, idName)
                return SimHTTP.answer(engine.perform { state, _ throws(SimFailure) in
                    guard let id else { throw .notFound(isDestination ? "Destination" : "Source", idText) }
                    return try state.connection(destination: isDestination, id: id)
                })
            }
        }
    }

    /// A numeric path id; anything else names no object (a 404, as Rails' `find` answers).
    static func id(_ context: BasicRequestContext, _ name: String) -> Int? {
        guard let text = context.parameters.get(name), let value = Int(text), value > 0 else { return nil }
        return value
    }
}
