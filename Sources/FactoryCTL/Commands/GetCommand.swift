import ArgumentParser
import FactoryModel
import Pipelines

// MARK: - GetCommand

/// `factoryctl get -t resource -w WORKSPACE [-n NAME] [-d] [-o table|json|yaml] [--all-workspaces]`
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Show resources and their status: a table, the detail (-d), or the whole status as JSON or YAML (-o).",
        discussion: """
            The status comes from the operator (a request on each resource type's query subject, \
            <type>.pipeline.run.query, answered by any replica serving that type from its KV state; types no \
            operator serves here are left out). STATUS is pending, active, error or deleted; RUNTIME is \
            pending, inprogress, succeeded, failed or cancelled. With -d: the vendor objects and the current \
            and last run as the type's driver shows them (for Hightouch: rows planned, successful and failed), \
            generations, timestamps, commands and the last error.
            """)

    @Argument(help: ArgumentHelp("A resource name (same as -n).", valueName: "name"))
    var name: String?

    @Option(name: [.customShort("t"), .customLong("type")], help: ArgumentHelp("What to list: resource, or pipeline (the pipelines' table: last run, result, next scheduled slot).", valueName: "kind"))
    var kind: String = "resource"

    @Option(name: .customLong("run"), help: ArgumentHelp("With a pipeline's name: one of its runs, its stages and tasks (factoryctl runs NAME lists them).", valueName: "id"))
    var runID: String?

    @Option(name: [.customShort("n"), .customLong("name")], help: ArgumentHelp("A resource name.", valueName: "name"))
    var nameOption: String?

    @OptionGroup var workspace: WorkspaceOption

    @Flag(name: [.customShort("A"), .customLong("all-workspaces")], help: "List the resources of every workspace.")
    var allWorkspaces = false

    @Flag(name: [.customShort("d"), .customLong("details")], help: "Show everything the operator knows about each resource.")
    var details = false

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("table, json or yaml.", valueName: "format"))
    var output: OutputFormat = .table

    @Option(name: .customLong("resource-type"), help: ArgumentHelp("Only resources of this type (default: every type an operator serves here).", valueName: "type"))
    var resourceType: String?

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await CommandRunner.run {
            let pipelines = ["pipeline", "pipelines"].contains(kind)
            if !pipelines { try Names.checkKind(kind) }
            let name = try Names.resource(argument: self.name, option: nameOption)
            if runID != nil, name == nil {
                throw CLIError.invalidInput("--run needs the pipeline's name: factoryctl get PIPELINE --run ID -w WORKSPACE")
            }
            if name != nil, allWorkspaces {
                throw CLIError.invalidInput("a name belongs to one workspace: use -w WORKSPACE with a name, --all-workspaces without")
            }
            let workspace = allWorkspaces ? nil : try self.workspace.name()
            let settings = try connection.settings(environment: CommandRunner.environment)
            try await withFactoryClient(settings) { client in
                if let runID, let name, let workspace {
                    try await Self.showRun(runID, of: name, workspace: workspace, output: output, client: client)
                    return
                }
                if pipelines, name == nil, output == .table {
                    let views = try await client.resources(workspace: workspace, type: PipelineNames.type)
                    guard !views.isEmpty else {
                        Console.note("No pipelines found in \(workspace.map { "workspace \($0)" } ?? "any workspace").")
                        return
                    }
                    var runs: [PipelineRunReader.Run] = []
                    let reader = try await PipelineRunReader.open(client)
                    for space in Set(views.map(\.workspace)).sorted() {
                        runs += try await reader.runs(workspace: try Names.workspace(space), pipeline: nil)
                    }
                    Console.write(PipelineTable.render(views, runs: runs))
                    return
                }
                let resourceType = pipelines ? PipelineNames.type : self.resourceType
                if let name, let workspace {
                    let view = try await client.findResource(name, workspace: workspace, type: resourceType)
                    Console.write(try Self.render([view], single: true, details: details, output: output))
                    return
                }
                let views = try await client.resourcesOfEveryType(workspace: workspace, type: resourceType)
                if views.isEmpty, output == .table {
                    Console.note("No resources found in \(workspace.map { "workspace \($0)" } ?? "any workspace").")
                    return
                }
                Console.write(try Self.render(views, single: false, details: details, output: output))
            }
        }
    }

    /// One pipeline run: its stages and tasks (the table and -d alike), or the run as JSON or YAML.
    static func showRun(_ id: String, of name: ResourceName, workspace: WorkspaceName, output: OutputFormat, client: FactoryClient) async throws(CLIError) {
        guard let run = try await PipelineRunReader.open(client).run(workspace: workspace, pipeline: name, id: id) else {
            throw .failed("\(workspace)/\(name): no run \(id) (factoryctl runs \(name) -w \(workspace) lists them)")
        }
        switch output {
        case .table: Console.write(run.lines().joined(separator: "\n") + "\n")
        case .json, .yaml: Console.write(try StatusDocument.render(run.document.runJSON, as: output))
        }
    }

    /// What `get` prints for `views` (one view when a name was given).
    static func render(_ views: [ResourceStatusView], single: Bool, details: Bool, output: OutputFormat) throws(CLIError) -> String {
        switch output {
        case .table:
            guard details else { return StatusTable.render(views) }
            return views.map(StatusDetail.render).joined(separator: "\n")
        case .json, .yaml:
            if single, let view = views.first {
                return try StatusDocument.render(view, as: output)
            }
            return try StatusDocument.render(views, as: output)
        }
    }
}
