import JSONSchema

/// What the operator knows about resource types: for each type name, its compiled spec schema and
/// NATS subjects; plus the workspaces commands may target.
///
/// Build it from an operator manifest, or use ``seedDefault`` (the seed's `hightouch` type and the
/// workspaces `public` and `sandbox`).
public struct ResourceTypeRegistry: Sendable {
    /// Types by name, in declaration order.
    public let types: [ResourceTypeDefinition]
    /// Workspaces commands may target.
    public let enabledWorkspaces: [WorkspaceName]

    public init(types: [ResourceTypeDefinition], enabledWorkspaces: [WorkspaceName]) {
        self.types = types
        self.enabledWorkspaces = enabledWorkspaces
    }

    /// The types and workspaces an operator manifest declares.
    public init(operatorManifest: OperatorManifest) {
        self.init(types: operatorManifest.operator.resources, enabledWorkspaces: operatorManifest.operator.enabledWorkspaces)
    }

    /// The seed operator's registry: type `hightouch` with the built-in schema and subjects, and
    /// the workspaces `public` and `sandbox`.
    public static let seedDefault: ResourceTypeRegistry = {
        do {
            return ResourceTypeRegistry(
                types: [try ResourceTypeDefinition.hightouchDefault()],
                enabledWorkspaces: [try WorkspaceName("public"), try WorkspaceName("sandbox")])
        } catch {
            // The built-in schema is a constant that a test compiles; failing here is a build defect.
            preconditionFailure("the built-in hightouch spec schema does not compile: \(error)")
        }
    }()

    /// Every resource type this build knows (`factoryctl`'s default: it validates any of them
    /// before publishing), with the workspaces `public` and `sandbox`. An operator hosts some of
    /// them; `factoryctl` talks to each type's deployment.
    public static let builtIn: ResourceTypeRegistry = {
        do {
            return ResourceTypeRegistry(
                types: try BuiltInResourceTypes.definitions(),
                enabledWorkspaces: [try WorkspaceName("public"), try WorkspaceName("sandbox")])
        } catch {
            preconditionFailure("a built-in spec schema does not compile: \(error)")
        }
    }()

    /// The type named `name`, if known.
    public func definition(forType name: String) -> ResourceTypeDefinition? {
        types.first { $0.name == name }
    }

    /// True when commands may target `workspace`.
    public func isEnabled(_ workspace: WorkspaceName) -> Bool {
        enabledWorkspaces.contains(workspace)
    }

    // MARK: - Validation

    /// Every problem with `manifest` for this registry: an unknown resource type, a workspace that
    /// is not enabled (when `workspace` is given), and every spec schema violation (up to
    /// `maxErrors`), with pointers relative to the resource section (`/spec/model/isSchema`).
    public func validate(_ manifest: ResourceManifest, workspace: WorkspaceName? = nil, maxErrors: Int? = nil) -> [ResourceValidationError] {
        var problems: [ResourceValidationError] = []
        if let workspace, !isEnabled(workspace) {
            problems.append(ResourceValidationError(
                reason: .workspaceNotEnabled, location: nil, keyword: nil,
                message: "workspace \"\(workspace)\" is not enabled; enabled workspaces: \(enabledWorkspaces.map(\.rawValue).joined(separator: ", "))"))
        }
        guard let definition = definition(forType: manifest.resource.type) else {
            problems.append(ResourceValidationError(
                reason: .unknownResourceType, location: "/type", keyword: nil,
                message: "unknown resource type \"\(manifest.resource.type)\"; known types: \(types.map(\.name).joined(separator: ", "))"))
            return problems
        }
        for violation in definition.specSchema.validate(manifest.resource.spec, maxErrors: maxErrors) {
            let located = violation.prefixed(by: "/spec")
            problems.append(ResourceValidationError(
                reason: .schemaViolation, location: located.instanceLocation, keyword: located.keyword, message: located.message))
        }
        return problems
    }
}
