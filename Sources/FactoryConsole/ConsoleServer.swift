import FactoryModel
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NATSKit
import NIOCore
import Pipelines
import SimulatorKit
import Synchronization

// MARK: - ConsoleServer

/// `factoryctl console`: a Hummingbird server of a small web app (static HTML, CSS and
/// JavaScript from the package's resources), the JSON its pages read, and one Server-Sent Event
/// stream per page fed by the shared KV watches of ``ConsoleState``. Reads state only through
/// NATS; with `allowActions`, publishes run and cancel commands for a request that carries the
/// token and comes from the console's own origin.
public final class ConsoleServer: Sendable {
    public let configuration: ConsoleConfiguration
    public let state: ConsoleState
    let backend: any ConsoleBackend
    let assets: ConsoleAssets
    private let served = ServedApplication()
    private let boundPort = Mutex<Int?>(nil)
    private let logger: Logger

    public init(configuration: ConsoleConfiguration, state: ConsoleState, backend: any ConsoleBackend, logger: Logger) throws {
        self.configuration = configuration
        self.state = state
        self.backend = backend
        self.assets = try ConsoleAssets.load()
        self.logger = logger
    }

    /// Fails, saying what to do, when the web files are not beside the executable.
    public static func checkWebFiles() throws {
        _ = try ConsoleAssets.load()
    }

    /// The address it serves on, once listening.
    public var address: String? {
        boundPort.withLock { $0 }.map { "http://\(Self.urlHost(configuration.host)):\($0)" }
    }

    static func urlHost(_ host: String) -> String { host.contains(":") ? "[\(host)]" : host }

    /// Serves in the background; returns the address once it listens.
    @discardableResult
    public func start() async throws -> String {
        let port = try await served.start(running: { [self] onListening in
            try await served.run(
                router: router(), host: configuration.host, port: configuration.port, handlingShutdownSignals: false, logger: logger,
                onListening: { [self] port in
                    boundPort.withLock { $0 = port }
                    await onListening(port)
                })
        })
        boundPort.withLock { $0 = port }
        return "http://\(Self.urlHost(configuration.host)):\(port)"
    }

    /// Serves in the foreground until SIGINT or SIGTERM.
    public func run(onListening: @escaping @Sendable (String) async -> Void) async throws {
        try await served.run(
            router: router(), host: configuration.host, port: configuration.port, handlingShutdownSignals: true, logger: logger,
            onListening: { [self] port in
                boundPort.withLock { $0 = port }
                await onListening("http://\(Self.urlHost(configuration.host)):\(port)")
            })
    }

    public func stop() async {
        state.stop()
        await served.stop()
    }

    // MARK: - Routes

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ActionGuard(server: self))
        // The pages: one shell, drawn by app.js from the path.
        for path in ["/", "/resources", "/resources/:workspace/:type/:name", "/pipelines", "/pipelines/:workspace/:name/runs/:run", "/lineage/:workspace/:type/:name"] {
            router.get(RouterPath(path)) { [assets] _, _ in assets.response("app.html") }
        }
        router.get("/static/:file") { [assets] _, context in
            let file = context.parameters.get("file") ?? ""
            guard assets.has(file) else { return assets.notFound() }
            return assets.response(file)
        }
        router.get("/api/config") { [configuration] _, _ in
            Self.json(["allowActions": configuration.allowActions])
        }
        router.get("/api/resources") { [state] _, _ in
            Self.json(ResourcesPage(resources: state.views(), unreadable: state.unreadable(), connected: state.isConnected))
        }
        router.get("/api/resources/:workspace/:type/:name") { [self] _, context in
            let id = try Self.resourceID(context)
            return await resourcePage(id)
        }
        router.get("/api/pipelines") { [state] _, _ in
            Self.json(PipelinesPage(views: state.views(), runs: state.runs(), unreadable: state.unreadable().filter { $0.key.hasPrefix("run.") }))
        }
        router.get("/api/pipelines/:workspace/:name/runs/:run") { [state] _, context in
            let workspace = try Self.name(context, "workspace")
            let name = try Self.name(context, "name")
            let run = try Self.name(context, "run")
            guard let document = state.run(workspace: workspace, pipeline: name, id: run) else {
                let key = PipelineNames.runKey(workspace: workspace, pipeline: name, run: run)
                if let unreadable = state.unreadable().first(where: { $0.key == key }) {
                    return Self.json(["unreadable": unreadable], status: .ok)
                }
                return Self.failure(ConsoleError(.notFound, "\(workspace)/\(name) has no run \(run)"))
            }
            return Self.json(RunPage(document))
        }
        router.get("/api/lineage/:workspace/:type/:name") { [backend] _, context in
            let id = try Self.resourceID(context)
            do {
                let lineage = try await backend.lineageEvents(workspace: id.workspace, name: id.name, type: id.type)
                return Self.json(LineagePage(events: lineage.events, children: lineage.children))
            } catch {
                // No lineage stream (lineage off, or no operator yet): said on the page.
                var page = LineagePage(events: [])
                page.note = "\(error)"
                return Self.json(page)
            }
        }
        router.get("/api/events") { [state] _, _ in
            Self.eventStream(state)
        }
        router.post("/api/actions/run") { [self] request, context in
            try await action(request, context: context, cancel: false)
        }
        router.post("/api/actions/cancel") { [self] request, context in
            try await action(request, context: context, cancel: true)
        }
        router.get("/api/**") { _, _ in
            Self.failure(ConsoleError(.notFound, "no such API route"))
        }
        router.get("/**") { [assets] _, _ in assets.notFound() }
        return router
    }

    private func resourcePage(_ id: ConsoleState.ResourceID) async -> Response {
        var resource: ResourceStatusView
        var source = "query"
        var note: String?
        do {
            resource = try await backend.detail(workspace: id.workspace, name: id.name, type: id.type)
        } catch {
            guard let watched = state.view(id) else {
                return Self.failure(ConsoleError(.notFound, "\(id.workspace)/\(id.name) (\(id.type)): \(error)"))
            }
            resource = watched
            source = "watch"
            note = "the operator did not answer (\(error)); shown from the state bucket, without the driver's rows"
        }
        let runs = id.type == PipelineNames.type ? state.runs(workspace: id.workspace, pipeline: id.name).prefix(50).map(RunSummary.init) : nil
        let unreadable = state.unreadable().filter {
            $0.key == "entity.\(id.workspace).\(id.name)" || $0.key == "status.\(id.workspace).\(id.name)"
        }
        return Self.json(ResourcePage(resource: resource, source: source, note: note, history: state.history(id).reversed(), pipelineRuns: runs, unreadable: unreadable))
    }

    // MARK: - Actions

    struct ActionRequest: Decodable {
        var workspace: String
        var type: String
        var name: String
        var run: String?
    }

    private func action(_ request: Request, context: BasicRequestContext, cancel: Bool) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 16 * 1024)
        guard let body = try? JSONDecoder().decode(ActionRequest.self, from: Data(buffer.readableBytesView)) else {
            return Self.failure(ConsoleError(.badRequest, "the body must be JSON: {\"workspace\": …, \"type\": …, \"name\": …}"))
        }
        for (label, value) in [("workspace", body.workspace), ("type", body.type), ("name", body.name)] + (body.run.map { [("run", $0)] } ?? []) {
            if let violation = NameRule.violation(in: value) { return Self.failure(ConsoleError(.badRequest, "\(label) \(value): \(violation)")) }
        }
        do {
            let line = cancel
                ? try await backend.cancel(workspace: body.workspace, name: body.name, type: body.type, run: body.run)
                : try await backend.run(workspace: body.workspace, name: body.name, type: body.type)
            logger.info("console: \(line)")
            return Self.json(["message": line], status: .accepted)
        } catch {
            return Self.failure(ConsoleError(.conflict, "\(error)"))
        }
    }

    /// The origins a state-changing request may come from: the console's own address. On a
    /// loopback address, exactly that; on any other (`--host 0.0.0.0` behind a name), the address
    /// the browser asked for (`Host`), so the page of another site is still refused.
    func allowedOrigins(host requested: String?) -> Set<String> {
        guard let port = boundPort.withLock({ $0 }) else { return [] }
        if ["127.0.0.1", "localhost", "::1"].contains(configuration.host) {
            return Set(["127.0.0.1", "localhost", "[::1]"].map { "http://\($0):\(port)" })
        }
        var origins: Set<String> = ["http://\(Self.urlHost(configuration.host)):\(port)"]
        if let requested, !requested.isEmpty { origins.insert("http://\(requested)") }
        return origins
    }

    // MARK: - Responses

    static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{\"error\":\"cannot encode the answer\"}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store", ConsoleAssets.nosniff.name: ConsoleAssets.nosniff.value],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func failure(_ error: ConsoleError) -> Response {
        json(["error": error.message], status: HTTPResponse.Status(code: error.kind.status))
    }

    static func name(_ context: BasicRequestContext, _ parameter: String) throws -> String {
        let value = context.parameters.get(parameter) ?? ""
        if let violation = NameRule.violation(in: value) {
            throw HTTPError(.badRequest, message: "\(parameter) \(value): \(violation)")
        }
        return value
    }

    static func resourceID(_ context: BasicRequestContext) throws -> ConsoleState.ResourceID {
        ConsoleState.ResourceID(type: try name(context, "type"), workspace: try name(context, "workspace"), name: try name(context, "name"))
    }

    /// `text/event-stream`: a `change` event per KV change, `hello` first (with the NATS
    /// state), and a comment every 15 s so proxies keep the stream open. EventSource reconnects
    /// by itself when the console goes away.
    static func eventStream(_ state: ConsoleState) -> Response {
        let events = state.subscribe()
        let body = ResponseBody { writer in
            let encoder = JSONEncoder()
            func frame(_ name: String, _ event: ConsoleEvent) -> ByteBuffer {
                let data = (try? encoder.encode(event)) ?? Data("{}".utf8)
                return ByteBuffer(string: "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n")
            }
            try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
            try await writer.write(frame("hello", ConsoleEvent(kind: "nats", bucket: "", key: "", connected: state.isConnected)))
            let (ticks, tick) = AsyncStream.makeStream(of: ConsoleEvent?.self, bufferingPolicy: .bufferingNewest(1))
            let merged = AsyncStream<ConsoleEvent?> { continuation in
                let forward = Task {
                    for await event in events { continuation.yield(event) }
                    continuation.finish()
                }
                let beat = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(15))
                        tick.yield(nil)
                    }
                }
                let ticking = Task {
                    for await value in ticks { continuation.yield(value) }
                }
                continuation.onTermination = { _ in
                    forward.cancel()
                    beat.cancel()
                    ticking.cancel()
                }
            }
            for await event in merged {
                if let event {
                    try await writer.write(frame(event.kind == "nats" ? "nats" : "change", event))
                } else {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                }
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: body)
    }
}

// MARK: - ActionGuard

/// Every request that could change state (any method but GET and HEAD): refused with 403 unless
/// the console runs with `--allow-actions`, with 403 when its `Origin` is not the console's own,
/// and with 401 without the token (compared in constant time).
struct ActionGuard: RouterMiddleware {
    typealias Context = BasicRequestContext
    let server: ConsoleServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method == .get || request.method == .head {
            return try await next(request, context)
        }
        guard server.configuration.allowActions, let token = server.configuration.token else {
            return ConsoleServer.failure(ConsoleError(.forbidden, "this console is read-only: start it with --allow-actions --console-token T to run and cancel from the page"))
        }
        guard let origin = request.headers[.origin], server.allowedOrigins(host: request.head.authority).contains(origin) else {
            return ConsoleServer.failure(ConsoleError(.forbidden, "refused: the request's Origin (\(request.headers[.origin] ?? "none")) is not this console's address"))
        }
        guard let given = request.headers[ConsoleAssets.tokenHeader], Self.constantTimeEqual(Array(given.utf8), Array(token.utf8)) else {
            return ConsoleServer.failure(ConsoleError(.unauthorized, "refused: enter the console's token (the --console-token it was started with) to run or cancel"))
        }
        return try await next(request, context)
    }

    /// Equal bytes, in a time that depends on the lengths only.
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: lhs.count ^ rhs.count) | (lhs.count == rhs.count ? 0 : 1)
        for index in 0..<max(lhs.count, rhs.count) {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            difference |= left ^ right
        }
        return difference == 0
    }
}

// MARK: - ConsoleAssets

/// The web app's files, read once from the package's resources.
struct ConsoleAssets: Sendable {
    static let tokenHeader = HTTPField.Name("X-Factory-Token")!
    static let nosniff = HTTPField(name: HTTPField.Name("X-Content-Type-Options")!, value: "nosniff")
    static let policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    static let files = ["app.html", "app.css", "app.js", "404.html"]

    let contents: [String: [UInt8]]

    /// SwiftPM's bundle of this module's resources, beside the executable. Looked up by hand:
    /// `Bundle.module` stops the process when the bundle is missing (a binary copied without it).
    static let bundleName = "FactoryOperator_FactoryConsole"

    static func staticDirectory() -> URL? {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        let places = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(), executable]
        let layouts = ["\(bundleName).resources/Static", "\(bundleName).bundle/Contents/Resources/Static", "\(bundleName).bundle/Static"]
        for place in places {
            for layout in layouts {
                let candidate = place.appendingPathComponent(layout)
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("app.html").path) { return candidate }
            }
        }
        return nil
    }

    static func load() throws -> ConsoleAssets {
        var contents: [String: [UInt8]] = [:]
        guard let directory = staticDirectory() else {
            throw ConsoleError(
                .unavailable,
                "the console's web files are missing: \(bundleName).resources must be beside factoryctl (copy it with the binary, or rebuild with swift build)")
        }
        for file in files {
            do {
                contents[file] = Array(try Data(contentsOf: directory.appendingPathComponent(file)))
            } catch {
                throw ConsoleError(.unavailable, "cannot read the console's \(file) from \(directory.path): \(error); rebuild factoryctl")
            }
        }
        return ConsoleAssets(contents: contents)
    }

    func has(_ file: String) -> Bool { contents[file] != nil }

    func response(_ file: String, status: HTTPResponse.Status = .ok) -> Response {
        let type: String
        switch file.split(separator: ".").last {
        case "css": type = "text/css; charset=utf-8"
        case "js": type = "text/javascript; charset=utf-8"
        default: type = "text/html; charset=utf-8"
        }
        var headers: HTTPFields = [.contentType: type, .cacheControl: "no-cache"]
        headers[HTTPField.Name("Content-Security-Policy")!] = Self.policy
        headers[Self.nosniff.name] = Self.nosniff.value
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: contents[file] ?? [])))
    }

    func notFound() -> Response { response("404.html", status: .notFound) }
}
