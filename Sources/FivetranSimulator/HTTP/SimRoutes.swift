import Hummingbird
import SimulatorKit

// MARK: - SimRoutes

/// The API routes under `/v1`, for both path families (`connectors` and `connections`), and the
/// admin routes under `/_admin`.
struct SimRoutes {
    let engine: SimEngine

    func install(on router: Router<BasicRequestContext>) {
        SimAdminRoutes(engine: self.engine).install(on: router)

        let api = router.group(RouterPath(SimAPIMiddleware.basePath))
        api.add(middleware: SimAPIMiddleware(engine: self.engine))
        let engine = self.engine

        for family in [SimFamily.connectors, .connections] {
            let item = "\(family.path)/:\(family.parameter)"
            let parameter = family.parameter

            api.get(RouterPath(item)) { _, context in
                let id = SimHTTP.parameter(context, parameter)
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.details(id, family, now: now) })
            }
            api.patch(RouterPath(item)) { request, context in
                let id = SimHTTP.parameter(context, parameter)
                do throws(SimFailure) {
                    let body = try await SimHTTP.body(of: request)
                    return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.update(id, body: body, family, now: now) })
                } catch { return SimHTTP.failure(error) }
            }
            for (action, legacy) in [("sync", false), ("force", true)] {
                api.post(RouterPath("\(item)/\(action)")) { request, context in
                    let id = SimHTTP.parameter(context, parameter)
                    do throws(SimFailure) {
                        let body = try await SimHTTP.body(of: request)
                        return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                            try state.sync(id, body: body, legacyForce: legacy, family, now: now)
                        })
                    } catch { return SimHTTP.failure(error) }
                }
            }
            api.post(RouterPath("\(item)/resync")) { request, context in
                let id = SimHTTP.parameter(context, parameter)
                do throws(SimFailure) {
                    let fields = try SimFields(try await SimHTTP.body(of: request), allowed: ["scope"])
                    let scope = try fields.value("scope").map { value throws(SimFailure) in try SimState.scope(value, field: "scope") }
                    return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.resync(id, scope: scope, family, now: now) })
                } catch { return SimHTTP.failure(error) }
            }
            api.post(RouterPath("\(item)/schemas/tables/resync")) { request, context in
                let id = SimHTTP.parameter(context, parameter)
                do throws(SimFailure) {
                    guard let body = try await SimHTTP.body(of: request) else {
                        throw .invalidInput("The body must name the tables to re-sync: {\"schema\": [\"table\", ...]}.")
                    }
                    let scope = try SimState.scope(body, field: "the body")
                    return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.resync(id, scope: scope, family, now: now) })
                } catch { return SimHTTP.failure(error) }
            }
            api.post(RouterPath("\(item)/schemas/:schema/tables/:table/resync")) { request, context in
                let id = SimHTTP.parameter(context, parameter)
                let schema = SimHTTP.parameter(context, "schema")
                let table = SimHTTP.parameter(context, "table")
                do throws(SimFailure) {
                    // Takes no fields; an empty object or no body is fine.
                    _ = try SimFields(try await SimHTTP.body(of: request), allowed: [])
                    return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                        try state.resync(id, scope: [schema: [table]], family, now: now)
                    })
                } catch { return SimHTTP.failure(error) }
            }
            api.post(RouterPath("\(item)/test")) { request, context in
                let id = SimHTTP.parameter(context, parameter)
                do throws(SimFailure) {
                    let body = try await SimHTTP.body(of: request)
                    return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.test(id, body: body, family, now: now) })
                } catch { return SimHTTP.failure(error) }
            }
        }
    }
}
