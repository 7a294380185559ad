import FactoryModel
import NATSKit

// MARK: - WatchSession

/// `factoryctl watch`: follows resources through a KV watch on the operator's state bucket
/// (every change of an entity or status document arrives as it is written; nothing polls).
///
/// - One resource: shows it until nothing is going on (no active command, no running sync) and
///   returns the outcome. When a command is given (`apply|run|delete --watch`), waits for that
///   command to take effect and for the run it started to end.
/// - A workspace: shows every change until cancelled (Ctrl-C).
struct WatchSession {
    enum Scope {
        case resource(workspace: WorkspaceName, name: ResourceName)
        case workspace(WorkspaceName?)

        var pattern: String {
            switch self {
            case .resource(let workspace, let name): return "*.\(workspace).\(name)"
            case .workspace(let workspace?): return "*.\(workspace).*"
            case .workspace(nil): return "*.*.*"
            }
        }
    }

    let client: FactoryClient
    let scope: Scope
    var target: CommandTarget?
    let renderer: WatchRenderer
    /// The resource type whose state bucket to watch (nil: the default or given bucket).
    var type: String? = nil

    /// The final outcome for a resource scope; never returns for a workspace scope unless the
    /// watch itself fails.
    func run() async throws(CLIError) -> WatchOutcome {
        let bucket = try await client.stateBucket(type: type)
        let watcher: KeyValueWatcher
        do {
            watcher = try await bucket.watch(scope.pattern)
        } catch {
            throw .nats(error, during: "watching \(bucket.name)", settings: client.settings)
        }
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let reader = Task {
            do throws(NATSError) {
                for try await event in watcher {
                    switch event {
                    case .entry(let entry): continuation.yield(.entry(entry))
                    case .initialValuesDone: continuation.yield(.initialValuesDone)
                    }
                }
                continuation.yield(.ended(nil))
            } catch {
                continuation.yield(.ended(error))
            }
        }
        // Ticks drive the one check a KV watch cannot answer: whether a command that left no
        // trace in the state was consumed (see `commandWasConsumed`).
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                continuation.yield(.tick)
            }
        }
        defer {
            watcher.stop()
            reader.cancel()
            ticker.cancel()
            continuation.finish()
        }
        var state = State()
        for await input in inputs {
            if let outcome = try await handle(input, state: &state) {
                return outcome
            }
        }
        throw .failed("the watch of \(client.settings.stateBucket(for: type)) ended unexpectedly")
    }

    // MARK: - Events

    private enum Input: Sendable {
        case entry(KeyValueEntry)
        case initialValuesDone
        case tick
        case ended(NATSError?)
    }

    private struct State {
        var resources: [String: WatchedResource] = [:]
        var initialValuesDone = false
        var announcedWaiting = false
        /// Ticks since the command's message was found gone from the stream.
        var ticksSinceConsumed: Int?
        /// Ticks while the command waits in the stream with no replica taking it.
        var ticksWaiting = 0
    }

    private func handle(_ input: Input, state: inout State) async throws(CLIError) -> WatchOutcome? {
        switch input {
        case .entry(let entry):
            guard let (kind, workspace, name) = StateEntryDecoder.parse(key: entry.key) else { return nil }
            let id = "\(workspace)/\(name)"
            var resource = state.resources[id] ?? WatchedResource(workspace: workspace, name: name)
            if entry.operation == .put, let document = try StateEntryDecoder.decode(key: entry.key, value: entry.value) {
                resource.record(document)
            } else {
                resource.forget(kind: kind)
            }
            state.resources[id] = resource
            guard state.initialValuesDone else { return nil }
        case .initialValuesDone:
            state.initialValuesDone = true
        case .tick:
            guard state.initialValuesDone, let target, case .resource = scope else { return nil }
            if let ticks = state.ticksSinceConsumed {
                state.ticksSinceConsumed = ticks + 1
            } else if await commandWasConsumed(target) {
                state.ticksSinceConsumed = 0
            } else if case .notSeen = currentProgress(state, target) {
                state.ticksWaiting += 1
                if state.ticksWaiting == 10 {
                    renderer.note("still waiting: no replica has taken the \(target.operation) (sequence \(target.sequence) of \(target.stream)) for 10s; is an operator running?")
                }
            }
        case .ended(let error):
            if let error { throw .nats(error, during: "watching \(client.settings.stateBucket(for: type))", settings: client.settings) }
            throw .failed("the watch of \(client.settings.stateBucket(for: type)) ended unexpectedly")
        }
        return evaluate(&state)
    }

    /// Redraws and decides whether the watch is over.
    private func evaluate(_ state: inout State) -> WatchOutcome? {
        let resources = state.resources.values.sorted { $0.label < $1.label }
        guard case .resource(let workspace, let name) = scope else {
            renderer.show(resources)
            return nil
        }
        let resource = state.resources["\(workspace)/\(name)"] ?? WatchedResource(workspace: workspace.rawValue, name: name.rawValue)
        if resource.exists {
            renderer.show([resource])
        } else if !state.announcedWaiting {
            state.announcedWaiting = true
            renderer.note("waiting for \(resource.label) to appear in \(client.settings.stateBucket(for: type))…")
        }

        if let target {
            switch resource.progress(of: target) {
            case .notSeen:
                // Consumed without a trace: an unchanged apply, a duplicate, a delete of nothing.
                // One more tick lets the watch deliver any write the operator made before acking.
                if let ticks = state.ticksSinceConsumed, ticks >= 1 {
                    return .unchanged(label: resource.label, operation: target.operation)
                }
                return nil
            case .working, .done:
                return nil
            case .finished:
                return resource.outcome(of: target)
            }
        }
        guard resource.exists, !resource.isBusy else { return nil }
        return resource.outcome
    }

    private func currentProgress(_ state: State, _ target: CommandTarget) -> WatchedResource.CommandProgress {
        guard case .resource(let workspace, let name) = scope, let resource = state.resources["\(workspace)/\(name)"] else { return .notSeen }
        return resource.progress(of: target)
    }

    /// Whether the command's message has left the work-queue stream, which happens only when a
    /// replica acknowledged it, after recording whatever it did.
    private func commandWasConsumed(_ target: CommandTarget) async -> Bool {
        do throws(NATSError) {
            let jetStream = try await client.connection.jetStream(options: JetStreamOptions(timeout: client.settings.timeout))
            _ = try await jetStream.message(stream: target.stream, sequence: target.sequence)
            return false
        } catch {
            return error.code == .notFound
        }
    }
}
