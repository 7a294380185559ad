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
                let envelope = CommandEnvelope.apply(ManifestInput.withOwner(owner, document.manifest), workspace: workspace)
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
                    Console.line("\(envelope.workspace)/\(envelope.resource.name): valid, Nats-Msg-Id \(envelope.deduplicationID); not published (--dry-run)")
                }
                return
            }
            let settings = try connection.settings(environment: CommandRunner.environment)
            try await withFactoryClient(settings) { client in
                var targets: [(CommandEnvelope, CommandTarget)] = []
                for envelope in envelopes {
                    let redrive = await CommandPublication.redriveID(for: envelope, client: client)
                    let result = try await CommandPublication.publish(envelope, messageID: redrive?.id ?? envelope.deduplicationID, client: client)
                    if let redrive, !result.ack.duplicate {
                        Console.line(result.line + " (again, to re-drive it after its error: \(redrive.reason))")
                    } else {
                        Console.line(result.line)
                    }
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
