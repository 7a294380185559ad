import ArgumentParser
import FactoryModel
import Foundation
import Pipelines

// MARK: - RunsCommand

/// `factoryctl runs PIPELINE -w WORKSPACE`: the pipeline's runs, newest first.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List a pipeline's runs, newest first.",
        discussion: """
            Reads the run documents in the pipeline bucket (factory-pipeline-state). STATE is queued, running, \
            cancelling, succeeded, warning, failed, cancelled or skipped; TASKS counts the tasks that ended. \
            factoryctl get PIPELINE --run ID -d shows one run's stages and tasks.
            """)

    @Argument(help: ArgumentHelp("The pipeline.", valueName: "pipeline"))
    var name: String

    @OptionGroup var workspace: WorkspaceOption

    @Option(name: .customLong("limit"), help: "Most runs listed.")
    var limit = 50

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("table, json or yaml.", valueName: "format"))
    var output: OutputFormat = .table

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run {
            let name = try Names.resource(self.name)
            let workspace = try self.workspace.name()
            let settings = try connection.settings(environment: CommandRunner.environment)
            try await withFactoryClient(settings) { client in
                let runs = Array(try await PipelineRunReader.open(client).runs(workspace: workspace, pipeline: name).prefix(max(1, limit)))
                switch output {
                case .table:
                    guard !runs.isEmpty else {
                        Console.note("No runs of \(workspace)/\(name).")
                        return
                    }
                    Console.write(Self.table(runs))
                case .json, .yaml:
                    Console.write(try StatusDocument.render(runs.map(\.document.runJSON), as: output))
                }
            }
        }
    }

    static func table(_ runs: [PipelineRunReader.Run], now: Date = Date()) -> String {
        let rows = runs.map { run -> [String] in
            let text = run.spec.map { PipelineRunText(spec: $0, run: run.run) }
            let duration = run.run.startedAt.map { PipelineRunText.duration((run.run.finishedAt ?? now).timeIntervalSince($0)) } ?? ""
            return [
                run.run.id, run.run.state.rawValue, trigger(run.run), run.run.startedAt.map(PipelineTime.format) ?? "", duration,
                text.map { "\($0.finishedTasks)/\($0.spec.allTasks.count)" } ?? "", run.run.reason ?? "",
            ]
        }
        return StatusTable.render(headers: ["RUN", "STATE", "TRIGGER", "STARTED", "DURATION", "TASKS", "REASON"], rows: rows)
    }

    static func trigger(_ run: PipelineRun) -> String {
        run.trigger.kind == .manual ? "manual" : "\(run.trigger.kind.rawValue):\(run.trigger.input ?? "?")"
    }
}
