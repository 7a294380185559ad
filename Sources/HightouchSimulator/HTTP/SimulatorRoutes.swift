import Hummingbird
import SimulatorKit

// MARK: - SimulatorRoutes

/// The API routes under the base path, and the admin routes under `/_admin`.
struct SimulatorRoutes {
    let engine: SimulatorEngine

    static let connectionOrders = ["id", "name", "slug", "createdAt", "updatedAt"]
    static let runOrders = ["id", "createdAt", "startedAt", "finishedAt"]

    func install(on router: Router<BasicRequestContext>) {
        SimAdminRoutes(engine: self.engine).install(on: router)

        let basePath = "/" + self.engine.configuration.basePath.split(separator: "/").joined(separator: "/")
        let api = basePath == "/" ? router.group() : router.group(RouterPath(basePath))
        api.add(middleware: SimAPIMiddleware(engine: self.engine, basePath: basePath == "/" ? "" : basePath))
        let engine = self.engine

        // MARK: Sources and destinations
        for (collection, isDestination, idName) in [("sources", false, "sourceId"), ("destinations", true, "destinationId")] {
            api.get(RouterPath(collection)) { request, _ in
                let query = SimQuery(request)
                do throws(SimFailure) {
                    let paging = try query.paging(orders: Self.connectionOrders)
                    return SimHTTP.answer(engine.perform { state, _ throws(SimFailure) in
                        state.listConnections(destinations: isDestination, name: query.first("name"), slug: query.first("slug"), paging: paging)
                    })
                } catch { return SimHTTP.failure(error) }
            }
            api.get(RouterPath("\(collection)/:\(idName)")) { _, context in
                do throws(SimFailure) {
                    let id = try Self.numericID(context, idName)
                    return SimHTTP.answer(engine.perform { state, _ throws(SimFailure) in
                        try state.connection(destination: isDestination, id: id)
                    })
                } catch { return SimHTTP.failure(error) }
            }
        }

        // MARK: Models
        api.get("models") { request, _ in
            let query = SimQuery(request)
            do throws(SimFailure) {
                let paging = try query.paging(orders: Self.connectionOrders)
                var tags: [(String, String)] = []
                for tag in query.all("tags") {
                    guard let colon = tag.firstIndex(of: ":") else {
                        throw .validation(["tags": .object(["message": "format is key:value", "value": .string(tag)])])
                    }
                    tags.append((String(tag[..<colon]), String(tag[tag.index(after: colon)...])))
                }
                let tagFilter = tags
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                    state.listModels(name: query.first("name"), slug: query.first("slug"), tags: tagFilter, paging: paging, now: now)
                })
            } catch { return SimHTTP.failure(error) }
        }
        api.post("models") { request, _ in
            do throws(SimFailure) {
                if let skip = SimQuery(request).first("skipColumnQuery"), skip != "true", skip != "false" {
                    throw .validation(["skipColumnQuery": .object(["message": "invalid boolean value", "value": .string(skip)])])
                }
                let body = try await SimHTTP.body(of: request)
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.createModel(body: body, now: now) })
            } catch { return SimHTTP.failure(error) }
        }
        api.get("models/:modelId") { _, context in
            do throws(SimFailure) {
                let id = try Self.numericID(context, "modelId")
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.model(id: id, now: now) })
            } catch { return SimHTTP.failure(error) }
        }
        api.patch("models/:modelId") { request, context in
            do throws(SimFailure) {
                let id = try Self.numericID(context, "modelId")
                let body = try await SimHTTP.body(of: request)
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.updateModel(id: id, body: body, now: now) })
            } catch { return SimHTTP.failure(error) }
        }

        // MARK: Syncs
        api.get("syncs") { request, _ in
            let query = SimQuery(request)
            do throws(SimFailure) {
                let paging = try query.paging(orders: Self.connectionOrders)
                let modelID = try query.count("modelId")
                let after = try query.timestamp("after")
                let before = try query.timestamp("before")
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                    state.listSyncs(slug: query.first("slug"), modelID: modelID, after: after, before: before, paging: paging, now: now)
                })
            } catch { return SimHTTP.failure(error) }
        }
        api.post("syncs") { request, _ in
            do throws(SimFailure) {
                let body = try await SimHTTP.body(of: request)
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.createSync(body: body, now: now) })
            } catch { return SimHTTP.failure(error) }
        }
        api.post("syncs/trigger") { request, _ in
            do throws(SimFailure) {
                let body = try await SimHTTP.body(of: request)
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.triggerCustom(body: body, now: now) })
            } catch { return SimHTTP.failure(error) }
        }
        api.get("syncs/:syncId") { _, context in
            do throws(SimFailure) {
                let id = try Self.numericID(context, "syncId")
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.sync(id: id, now: now) })
            } catch { return SimHTTP.failure(error) }
        }
        api.patch("syncs/:syncId") { request, context in
            do throws(SimFailure) {
                let id = try Self.numericID(context, "syncId")
                let body = try await SimHTTP.body(of: request)
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in try state.updateSync(id: id, body: body, now: now) })
            } catch { return SimHTTP.failure(error) }
        }
        api.post("syncs/:syncId/trigger") { request, context in
            do throws(SimFailure) {
                let idText = context.parameters.get("syncId") ?? ""
                let body = try await SimHTTP.body(of: request)
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                    try state.trigger(syncIDText: idText, body: body, now: now)
                })
            } catch { return SimHTTP.failure(error) }
        }
        api.get("syncs/:syncId/runs") { request, context in
            let query = SimQuery(request)
            do throws(SimFailure) {
                let id = try Self.numericID(context, "syncId")
                let paging = try query.paging(orders: Self.runOrders)
                let filter = SimulatorState.RunFilter(
                    runID: try query.count("runId"),
                    after: try query.timestamp("after"),
                    before: try query.timestamp("before"),
                    withinMinutes: try query.count("within").map(Double.init)
                )
                return SimHTTP.answer(engine.perform { state, now throws(SimFailure) in
                    try state.listRuns(syncID: id, filter: filter, paging: paging, now: now)
                })
            } catch { return SimHTTP.failure(error) }
        }
    }

    /// A numeric path id (the API types these as numbers: anything else is a 422).
    static func numericID(_ context: BasicRequestContext, _ name: String) throws(SimFailure) -> Int {
        let text = context.parameters.get(name) ?? ""
        guard let value = Double(text), value.rounded() == value, abs(value) < 1e15 else {
            throw .validation([name: .object(["message": "invalid float number", "value": .string(text)])])
        }
        return Int(value)
    }
}
