import ArgumentParser
import FactoryModel

// MARK: - ResourceTargetOptions

/// Which resource `delete` and `run` act on: `NAME` (or `-n NAME`) in `-w WORKSPACE`.
struct ResourceTargetOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The resource name.", valueName: "name"))
    var name: String?

    @Option(name: [.customShort("n"), .customLong("name")], help: ArgumentHelp("The resource name (instead of the argument).", valueName: "name"))
    var nameOption: String?

    @Option(name: [.customShort("t"), .customLong("type")], help: ArgumentHelp("What to act on; only resource.", valueName: "kind"))
    var kind: String = "resource"

    @OptionGroup var workspace: WorkspaceOption

    @Option(name: .customLong("resource-type"), help: ArgumentHelp("The resource's type, as in its manifest's resource.type; the command goes to that type's subject (default: the type an operator knows the resource by, else hightouch).", valueName: "type"))
    var resourceType: String?

    @OptionGroup var registry: RegistryOption

    /// The reference and workspace, checked with the operator's rules (name rule, enabled
    /// workspace, known and, for `run`, runnable type).
    func envelope(_ operation: CommandOperation, type: String? = nil, _ make: (ResourceReference, WorkspaceName) -> CommandEnvelope) throws(CLIError) -> CommandEnvelope {
        try Names.checkKind(kind)
        guard let name = try Names.resource(argument: name, option: nameOption) else {
            throw .invalidInput("name the resource: factoryctl \(operation.rawValue) NAME -w WORKSPACE")
        }
        let envelope = make(ResourceReference(name: name, type: type ?? resourceType ?? ConnectionSettings.defaultType), try workspace.name())
        let validator = CommandValidator(registry: try registry.registry())
        do throws(CommandRejection) {
            _ = try validator.validated(envelope)
        } catch {
            throw .invalidInput(error.message)
        }
        return envelope
    }
}

extension ResourceTargetOptions {
    /// The command for the resource's type: the one given, else the one an operator knows the
    /// resource by (asked on every type's query subject), else the default type.
    func resolvedEnvelope(
        _ operation: CommandOperation, client: FactoryClient, _ make: (ResourceReference, WorkspaceName) -> CommandEnvelope
    ) async throws(CLIError) -> CommandEnvelope {
        let provisional = try envelope(operation, make)
        guard resourceType == nil, client.settings.commandSubjectOverride == nil else { return provisional }
        let found = try? await client.findResource(provisional.resource.name, workspace: provisional.workspace, type: nil)
        guard let type = found?.resourceType, type != provisional.resource.type else { return provisional }
        return try envelope(operation, type: type, make)
    }
}
