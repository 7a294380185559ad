import ArgumentParser
import FactoryModel
import Foundation
import Pipelines

// MARK: - CancelCommand

/// `factoryctl cancel NAME -w WORKSPACE [--run ID] [--terminate]`
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel a resource's run in progress, where its vendor can, or a pipeline run.",
        discussion: """
            Asks the operator first: with no run in progress, or a vendor that cannot cancel a run through its \
            API (Hightouch), it says so and exits 1 without publishing. Otherwise it publishes a cancel command \
            (Nats-Msg-Id cancel-WORKSPACE-NAME-UUID); the operator cancels the run at the vendor and records what \
            the vendor then says of it.

            For a pipeline: --run names the run (default: the oldest one running or queued); a run that has \
            ended is refused (exit 1) without publishing. A stop (the default) cancels the running tasks, starts \
            no new ones and runs the pipeline's finally tasks; --terminate does not run them.
            """)

    @OptionGroup var target: ResourceTargetOptions

    @Option(name: .customLong("run"), help: ArgumentHelp("The run to cancel (pipelines; default: the one in progress).", valueName: "id"))
    var runID: String?

    @Flag(help: "Terminate instead of stop: a pipeline's finally tasks are not run.")
    var terminate = false

    @Flag(help: "After publishing, follow the resource until its run has ended.")
    var watch = false

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run {
            let mode: CancelMode? = terminate ? .terminate : (runID != nil ? .stop : nil)
            let make = { (reference: ResourceReference, workspace: WorkspaceName) in CommandEnvelope.cancel(reference, workspace: workspace, mode: mode, run: runID) }
            _ = try target.envelope(.cancel, make)  // names checked before connecting
            let settings = try connection.settings(environment: CommandRunner.environment)
            try await withFactoryClient(settings) { client in
                let envelope = try await target.resolvedEnvelope(.cancel, client: client, make)
                let label = "\(envelope.workspace)/\(envelope.resource.name)"
                if envelope.resource.type == PipelineNames.type {
                    try await cancelPipelineRun(envelope, label: label, client: client)
                    return
                }
                let view = try await client.resource(envelope.resource.name, workspace: envelope.workspace, type: envelope.resource.type)
                guard let run = view.currentRun else {
                    throw CLIError.failed("\(label): no run in progress to cancel")
                }
                guard view.canCancel != false else {
                    throw CLIError.failed("\(label): \(view.resourceType) runs cannot be cancelled through the vendor's API; run \(run.id) goes on")
                }
                let messageID = "cancel-\(envelope.workspace)-\(envelope.resource.name)-\(UUID().uuidString.lowercased())"
                let result = try await CommandPublication.publish(envelope, messageID: messageID, client: client)
                Console.line(result.line + " (run \(run.id))")
                if watch {
                    try await FollowCommands.follow([(envelope, result.target)], client: client)
                }
            }
        }
    }

    /// A pipeline run: the one named, else the oldest in progress; refused when it has ended.
    private func cancelPipelineRun(_ envelope: CommandEnvelope, label: String, client: FactoryClient) async throws(CLIError) {
        let reader = try await PipelineRunReader.open(client)
        let run: PipelineRunReader.Run
        if let runID {
            guard let found = try await reader.run(workspace: envelope.workspace, pipeline: envelope.resource.name, id: runID) else {
                throw .failed("\(label): no run \(runID) (factoryctl runs \(envelope.resource.name) -w \(envelope.workspace) lists them)")
            }
            run = found
        } else {
            let active = try await reader.runs(workspace: envelope.workspace, pipeline: envelope.resource.name).filter { !$0.run.state.isFinished }
            guard let oldest = active.last else { throw .failed("\(label): no run in progress to cancel") }
            run = oldest
        }
        guard !run.run.state.isFinished else {
            throw .failed("\(label): run \(run.run.id) already ended (\(run.run.state.rawValue)); nothing to cancel")
        }
        var envelope = envelope
        envelope.options.run = run.run.id
        envelope.options.mode = terminate ? .terminate : .stop
        let messageID = "cancel-\(envelope.workspace)-\(envelope.resource.name)-\(UUID().uuidString.lowercased())"
        let result = try await CommandPublication.publish(envelope, messageID: messageID, client: client)
        Console.line(result.line + " (run \(run.run.id), \(terminate ? "terminate" : "stop"))")
        if watch {
            try await PipelineFollow.show(reader: reader, workspace: envelope.workspace, pipeline: envelope.resource.name, runID: run.run.id)
        }
    }
}
