import ArgumentParser
import FactoryModel
import Pipelines

// MARK: - WatchCommand

/// `factoryctl watch [NAME] -w WORKSPACE`
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow resources live, with a progress bar per running sync.",
        discussion: """
            Reads the operator's state bucket through a KV watch: every change is shown as the operator \
            writes it (nothing polls). On a terminal the lines are redrawn in place; in a pipe or a file each \
            change is a new timestamped line.

            With NAME: follows that resource until nothing is going on (no command in progress, no running \
            sync), then prints the outcome and exits: 0 when the run succeeded (or there is nothing to run), \
            1 when it failed or was cancelled or the resource is in error. If the resource does not exist yet \
            it waits for it. If nothing is going on when the watch starts, it prints the last outcome at once; \
            to follow a run you are about to start, use run --watch (or apply --watch).

            Without NAME: shows every change in the workspace until Ctrl-C.

            A pipeline shows its run as a DAG (stages and tasks with state, attempt, duration and vendor run \
            id): the run in progress (the newest one), else its last run, else the first run to start.
            """)

    @Argument(help: ArgumentHelp("The resource to follow until its run ends.", valueName: "name"))
    var name: String?

    @Option(name: [.customShort("n"), .customLong("name")], help: ArgumentHelp("The resource name (instead of the argument).", valueName: "name"))
    var nameOption: String?

    @OptionGroup var workspace: WorkspaceOption

    @Flag(name: [.customShort("A"), .customLong("all-workspaces")], help: "Watch every workspace (without a name).")
    var allWorkspaces = false

    @Option(name: .customLong("resource-type"), help: ArgumentHelp("The resource type whose state to watch (default: with a name, the type an operator knows it by; without, hightouch).", valueName: "type"))
    var resourceType: String?

    @OptionGroup var connection: ConnectionOptions

    /// A pipeline: its newest run in progress, else its newest run, else the first to come.
    static func watchPipeline(_ name: ResourceName, workspace: WorkspaceName, client: FactoryClient) async throws(CLIError) {
        let reader = try await PipelineRunReader.open(client)
        let runs = try await reader.runs(workspace: workspace, pipeline: name)
        var chosen = runs.first { !$0.run.state.isFinished } ?? runs.first
        if chosen == nil {
            Console.note("waiting for a run of \(workspace)/\(name)…")
            chosen = try await reader.follow(workspace: workspace, pipeline: name, patience: .seconds(365 * 24 * 3600)) { _ in true }
        }
        guard let chosen else { return }
        try await PipelineFollow.show(reader: reader, workspace: workspace, pipeline: name, runID: chosen.run.id)
    }

    func run() async throws {
        try await CommandRunner.run {
            let name = try Names.resource(argument: self.name, option: nameOption)
            if name != nil, allWorkspaces {
                throw CLIError.invalidInput("a name belongs to one workspace: use -w WORKSPACE with a name, --all-workspaces without")
            }
            let workspace = allWorkspaces ? nil : try self.workspace.name()
            let scope: WatchSession.Scope
            if let name, let workspace {
                scope = .resource(workspace: workspace, name: name)
            } else {
                scope = .workspace(workspace)
            }
            let settings = try connection.settings(environment: CommandRunner.environment)
            try await withFactoryClient(settings) { client in
                var type = resourceType
                if type == nil, let name, let workspace, settings.stateBucketOverride == nil {
                    // Ask which type knows it; a resource not applied yet is watched in the default type's state.
                    type = (try? await client.findResource(name, workspace: workspace, type: nil))?.resourceType
                }
                if type == PipelineNames.type, let name, let workspace {
                    try await Self.watchPipeline(name, workspace: workspace, client: client)
                    return
                }
                let session = WatchSession(client: client, scope: scope, target: nil, renderer: WatchRenderer(), type: type)
                let outcome = try await session.run()
                session.renderer.finish(outcome.text)
                if !outcome.isSuccess {
                    throw CLIError.failed(outcome.text)
                }
            }
        }
    }
}
