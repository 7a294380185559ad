import ArgumentParser
import FactoryModel

// MARK: - WorkspaceOption

/// `-w/--workspace`, as `dataos-ctl` has it.
struct WorkspaceOption: ParsableArguments {
    @Option(name: [.customShort("w"), .customLong("workspace")], help: ArgumentHelp("The workspace.", valueName: "workspace"))
    var workspace: String = "public"

    func name() throws(CLIError) -> WorkspaceName {
        try Names.workspace(workspace)
    }
}

// MARK: - RegistryOption

/// `--manifest`: the operator manifest whose resource types and enabled workspaces local
/// validation uses (the same registry as `factoryctl validate`).
struct RegistryOption: ParsableArguments {
    @Option(
        name: .customLong("manifest"),
        help: ArgumentHelp(
            "An operator manifest declaring resource types and enabled workspaces, to validate against (default: every built-in type: hightouch, http; workspaces public and sandbox).",
            valueName: "operator-manifest"))
    var operatorManifest: String?

    func registry() throws(CLIError) -> ResourceTypeRegistry {
        guard let operatorManifest else { return .builtIn }
        do {
            return ResourceTypeRegistry(operatorManifest: try OperatorManifest.load(fromFile: operatorManifest))
        } catch {
            throw .invalidInput("operator manifest \(operatorManifest): \(error)")
        }
    }
}

// MARK: - Names

/// Resource and workspace names, checked with the operator's rule before anything is sent.
enum Names {
    static func workspace(_ text: String) throws(CLIError) -> WorkspaceName {
        do {
            return try WorkspaceName(text)
        } catch {
            throw .invalidInput("\(error)")
        }
    }

    static func resource(_ text: String) throws(CLIError) -> ResourceName {
        do {
            return try ResourceName(text)
        } catch {
            throw .invalidInput("\(error)")
        }
    }

    /// The name given as an argument or with `-n` (the same name if both).
    static func resource(argument: String?, option: String?) throws(CLIError) -> ResourceName? {
        switch (argument, option) {
        case (nil, nil): return nil
        case (let name?, nil), (nil, let name?): return try resource(name)
        case (let argument?, let option?):
            guard argument == option else {
                throw .invalidInput("two different names given (\(argument) and -n \(option)); give one")
            }
            return try resource(argument)
        }
    }

    /// `-t`: `dataos-ctl` names the kind of thing; factoryctl knows one, `resource`.
    static func checkKind(_ kind: String) throws(CLIError) {
        guard ["resource", "resources"].contains(kind) else {
            throw .invalidInput("-t \(kind): factoryctl manages resources; use -t resource")
        }
    }
}
