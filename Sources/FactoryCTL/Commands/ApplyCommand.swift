import ArgumentParser
import FactoryModel
import NATSKit

// MARK: - ApplyCommand

/// `factoryctl apply -f FILE... -w WORKSPACE`
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Validate resource manifests, then publish an apply command for each.",
        discussion: """
            Every document of every file (YAML with several documents separated by ---, JSON for .json \
            files, - for standard input) is first validated as factoryctl validate does: against its \
            resource type's spec schema, with the workspace enabled. Nothing is published unless all are valid.

            Each command carries a Nats-Msg-Id derived from its content, so applying the same manifest \
            again within the stream's 2-minute duplicate window is dropped ("unchanged (duplicate within \
            the window)"); the operator also recognises a repeat of the command it applied last. A resource \
            whose last command failed (STATUS error) is re-driven by applying the same manifest again: the \
            command then carries an id derived from the content and that failure, so it is not a duplicate of \
            the failed one (and a second apply of the same manifest, for the same failure, still is).

            ADOPT: an object found at the vendor under the names the spec gives (a Hightouch model or \
            sync with the spec's slug) that the resource did not create or record is taken over only if it \
            already matches the spec. One that differs (made or edited by someone else) is refused: nothing \
            is changed at the vendor, STATUS becomes error with the reason foreignObject, and the operator \
            waits. --adopt publishes the apply with "adopt": true, which takes such objects over, updates them \
            to the spec and records the adoption (factoryctl get NAME -d, "Last drift repair", kind adopted). \
            Its message id differs from the plain apply's, so it is not dropped as a duplicate of it.

            OWNER: the operator shows the manifest's top-level owner field in the table's OWNER column. \
            When a manifest has none, apply sets it to --owner (default: $USER). The owner is part of the \
            content, and changing only the owner does not trigger a run.

            The operator works asynchronously: use --watch (or factoryctl watch) to follow the run.
            """)

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("A manifest file, or - for standard input (repeatable).", valueName: "file"))
    var files: [String] = []

    @OptionGroup var workspace: WorkspaceOption
    @OptionGroup var registry: RegistryOption

    @Option(help: ArgumentHelp("Owner recorded for manifests without an owner field (default: $USER).", valueName: "name"))
    var owner: String?

    @Flag(help: "Take over vendor objects found under the spec's names (a Hightouch sync with its slug) that the resource did not create, updating them to the spec; without it they are refused (STATUS error, foreignObject).")
    var adopt = false

    @Flag(help: "Validate and print what would be published, without connecting.")
    var dryRun = false

    @Flag(help: "After publishing, follow each resource until its run ends (exit 1 if one fails).")
    var watch = false

    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard !files.isEmpty else {
            throw ValidationError("give at least one manifest with -f FILE (or -f - for standard input)")
        }
    }

    func run() async throws {
        try await CommandRunner.run {
            let workspace = try self.workspace.name()
            let registry = try self.registry.registry()
            let report = ManifestInput.load(paths: files, registry: registry, workspace: workspace)
            guard report.problems.isEmpty else {
                for problem in report.problems { Console.error(problem) }
                throw CLIError.invalidInput("nothing was published: \(report.problems.count) problem\(report.problems.count == 1 ? "" : "s") above")
            }
            let owner = self.owner ?? ManifestInput.defaultOwner(environment: CommandRunner.environment)
            let validator = CommandValidator(registry: registry)
            var envelopes: [CommandEnvelope] = []
            for document in report.documents {
                let envelope = CommandEnvelope.apply(ManifestInput.withOwner(owner, document.manifest), workspace: workspace, adopt: adopt)
                do {
                    _ = try validator.validated(envelope)
                } catch {
                    throw CLIError.invalidInput("\(document.origin): \(error)")
                }
                let size = envelope.encoded().count
                guard size <= CommandDecodingLimits.default.maxBytes else {
                    throw CLIError.invalidInput("\(document.origin): the command is \(size) bytes, more than the operator's default limit of \(CommandDecodingLimits.default.maxBytes)")
                }
                envelopes.append(envelope)
            }
            if dryRun {
                for envelope in envelopes {
                    let adopting = adopt ? " (adopt: takes over vendor objects found under the spec's names)" : ""
                    Console.line("\(envelope.workspace)/\(envelope.resource.name): valid, Nats-Msg-Id \(envelope.deduplicationID)\(adopting); not published (--dry-run)")
                }
                return
            }
            let settings = try connection.settings(environment: CommandRunner.environment)
            try await withFactoryClient(settings) { client in
                var targets: [(CommandEnvelope, CommandTarget)] = []
                for envelope in envelopes {
                    let redrive = await CommandPublication.redriveID(for: envelope, client: client)
                    let result = try await CommandPublication.publish(envelope, messageID: redrive?.id ?? envelope.deduplicationID, client: client)
                    var line = result.line
                    if let redrive, !result.ack.duplicate {
                        line += " (again, to re-drive it after its error: \(redrive.reason))"
                    }
                    if adopt, !result.ack.duplicate {
                        line += "; adopt: vendor objects found under the spec's names are taken over and updated to the spec"
                    }
                    Console.line(line)
                    if let warning = await CommandPublication.staleDuplicateWarning(result, envelope: envelope, client: client) {
                        Console.note("warning: " + warning)
                    }
                    targets.append((envelope, result.target))
                }
                if watch {
                    try await FollowCommands.follow(targets, client: client)
                }
            }
        }
    }
}
