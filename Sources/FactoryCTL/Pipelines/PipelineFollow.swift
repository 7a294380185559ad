import FactoryModel
import Foundation
import Pipelines

// MARK: - PipelineFollow

/// What `run` and `watch` do for a pipeline: wait for the run the command started, print its
/// id, and (watching) show its DAG until it ends; exit 1 when it did not succeed.
enum PipelineFollow {
    static func run(_ envelope: CommandEnvelope, commandID: String, watch: Bool, client: FactoryClient) async throws(CLIError) {
        let reader = try await PipelineRunReader.open(client)
        let label = "\(envelope.workspace)/\(envelope.resource.name)"
        let started = try await reader.follow(workspace: envelope.workspace, pipeline: envelope.resource.name, commandID: commandID) { _ in true }
        Console.line("\(label): run \(started.run.id) \(started.run.state.rawValue)" + (started.run.state == .skipped || started.run.state == .queued ? " (\(started.run.reason ?? ""))" : ""))
        guard watch else { return }
        try await show(reader: reader, workspace: envelope.workspace, pipeline: envelope.resource.name, runID: started.run.id)
    }

    /// Shows run `runID` until it ends.
    static func show(reader: PipelineRunReader, workspace: WorkspaceName, pipeline: ResourceName, runID: String) async throws(CLIError) {
        let renderer = PipelineRunRenderer()
        let ended = try await reader.follow(workspace: workspace, pipeline: pipeline, runID: runID, patience: .seconds(365 * 24 * 3600)) { run in
            renderer.show(run.lines())
            return false
        }
        renderer.show(ended.lines())
        renderer.finish(ended.run.outcomeLine)
        if !ended.run.isSuccess { throw .failed(ended.run.outcomeLine) }
    }
}
