import FactoryModel
import Foundation
import JSONSchema
import NATSKit
import Pipelines

// MARK: - PipelineRunReader

/// factoryctl's reading of pipeline runs: the run documents in the pipeline bucket
/// (`run.<workspace>.<pipeline>.<runId>`), as the operator writes them, through
/// `Pipelines`' types (not the engine).
struct PipelineRunReader {
    let client: FactoryClient
    let bucket: KeyValueBucket

    static func open(_ client: FactoryClient) async throws(CLIError) -> PipelineRunReader {
        PipelineRunReader(client: client, bucket: try await client.stateBucket(type: PipelineNames.type))
    }

    /// A run and the spec it follows.
    struct Run: Sendable {
        var document: PipelineRunDocument
        var spec: PipelineSpec?

        var run: PipelineRun { document.run }

        init(_ document: PipelineRunDocument) {
            self.document = document
            if case .success(let spec) = PipelineSpec.decode(document.spec, context: .structural(pipelineName: document.run.pipeline)) {
                self.spec = spec
            }
        }

        /// The DAG, or the run line alone when the spec cannot be read.
        func lines(now: Date = Date()) -> [String] {
            guard let spec else { return ["run \(run.id)  \(run.state.rawValue)  (its spec cannot be read by this factoryctl)"] }
            return PipelineRunText(spec: spec, run: run).render(now: now)
        }
    }

    /// One run, or nil when there is none by that id.
    func run(workspace: WorkspaceName, pipeline: ResourceName, id: String) async throws(CLIError) -> Run? {
        guard NameRule.violation(in: id) == nil else {
            throw .invalidInput("--run \(id): run ids look like 20261121-100000-3fa2c1 (factoryctl runs NAME lists them)")
        }
        let key = PipelineNames.runKey(workspace: workspace.rawValue, pipeline: pipeline.rawValue, run: id)
        let entry: KeyValueEntry?
        do throws(NATSError) {
            entry = try await bucket.get(key)
        } catch {
            throw .nats(error, during: "reading \(key)", settings: client.settings)
        }
        guard let entry, entry.operation == .put else { return nil }
        do throws(PipelineDocumentError) {
            return Run(try PipelineRunDocument.decode(entry.value, key: key))
        } catch {
            throw .failed("\(error)")
        }
    }

    /// Every run of `pipeline` (every pipeline's, when nil) in `workspace`, newest first.
    func runs(workspace: WorkspaceName, pipeline: ResourceName?) async throws(CLIError) -> [Run] {
        let pattern = "run.\(workspace).\(pipeline?.rawValue ?? "*").*"
        var found: [Run] = []
        do throws(NATSError) {
            let watcher = try await bucket.watch(pattern, options: KeyValueWatchOptions(ignoreDeletes: true))
            defer { watcher.stop() }
            loop: for try await event in watcher {
                switch event {
                case .entry(let entry):
                    guard entry.operation == .put, let document = try? PipelineRunDocument.decode(entry.value, key: entry.key) else { continue }
                    found.append(Run(document))
                case .initialValuesDone:
                    break loop
                }
            }
        } catch {
            throw .nats(error, during: "reading the runs in \(bucket.name)", settings: client.settings)
        }
        // Run ids sort by their start (YYYYMMDD-HHMMSS-…).
        return found.sorted { ($0.run.createdAt, $0.run.id) > ($1.run.createdAt, $1.run.id) }
    }

    /// Follows the run whose trigger is the command `commandID` until it appears (the operator
    /// creates it when it takes the command), then calls `update` with every change until it
    /// ends or `update` returns true; returns the last version seen.
    func follow(
        workspace: WorkspaceName, pipeline: ResourceName, commandID: String? = nil, runID: String? = nil, patience: Duration = .seconds(60),
        _ update: (Run) -> Bool
    ) async throws(CLIError) -> Run {
        let pattern = runID.map { PipelineNames.runKey(workspace: workspace.rawValue, pipeline: pipeline.rawValue, run: $0) }
            ?? PipelineNames.runPattern(workspace: workspace.rawValue, pipeline: pipeline.rawValue)
        let watcher: KeyValueWatcher
        do throws(NATSError) {
            watcher = try await bucket.watch(pattern)
        } catch {
            throw .nats(error, during: "watching \(bucket.name)", settings: client.settings)
        }
        let (events, continuation) = AsyncStream.makeStream(of: Result<KeyValueWatchEvent?, NATSError>.self)
        let reader = Task {
            do throws(NATSError) {
                for try await event in watcher { continuation.yield(.success(event)) }
                continuation.yield(.success(nil))
            } catch {
                continuation.yield(.failure(error))
            }
        }
        let timer = Task {
            // Cancelled once the run is found: then it must not end the watch.
            do { try await Task.sleep(for: patience) } catch { return }
            continuation.yield(.success(nil))
        }
        defer {
            watcher.stop()
            reader.cancel()
            timer.cancel()
            continuation.finish()
        }
        var found: Run?
        for await event in events {
            switch event {
            case .failure(let error):
                throw .nats(error, during: "watching \(bucket.name)", settings: client.settings)
            case .success(nil):
                if let found { return found }
                throw .timeout("the run of command \(commandID ?? runID ?? "?") (is an operator hosting pipeline running?)", after: patience)
            case .success(.initialValuesDone?):
                continue
            case .success(.entry(let entry)?):
                guard entry.operation == .put, let document = try? PipelineRunDocument.decode(entry.value, key: entry.key) else { continue }
                if let commandID, document.run.trigger.commandID != commandID { continue }
                timer.cancel()
                let run = Run(document)
                found = run
                if update(run) || run.run.state.isFinished { return run }
            }
        }
        if let found { return found }
        throw .failed("the watch of \(bucket.name) ended unexpectedly")
    }
}
