import JSONSchema

/// A command that passed every check: it decoded, its workspace is enabled, its resource type is
/// known and (for `apply`) its spec satisfies the type's schema.
public struct ValidatedCommand: Sendable {
    public let envelope: CommandEnvelope
    /// The resource type the command is about.
    public let resourceType: ResourceTypeDefinition

    public init(envelope: CommandEnvelope, resourceType: ResourceTypeDefinition) {
        self.envelope = envelope
        self.resourceType = resourceType
    }
}

/// The operator's one-call check of an incoming command:
/// decode the envelope → check the workspace is enabled → find the resource type → validate the
/// spec (for `apply`) → a ``ValidatedCommand``, or a ``CommandRejection`` whose `reason` says why
/// (with every schema violation, capped, for `schemaViolation`).
public struct CommandValidator: Sendable {
    public var registry: ResourceTypeRegistry
    public var limits: CommandDecodingLimits
    /// Most schema violations reported per command.
    public var maxViolations: Int
    /// The type of a `delete` or `run` that names none: the one served on the subject the
    /// command came on.
    public var defaultType: String?

    public init(registry: ResourceTypeRegistry = .seedDefault, limits: CommandDecodingLimits = .default, maxViolations: Int = 50, defaultType: String? = nil) {
        self.registry = registry
        self.limits = limits
        self.maxViolations = maxViolations
        self.defaultType = defaultType ?? registry.types.first?.name
    }

    /// Checks raw command bytes.
    public func validate(_ bytes: some Collection<UInt8>) -> Result<ValidatedCommand, CommandRejection> {
        do throws(CommandRejection) {
            return .success(try validated(CommandEnvelope(decoding: bytes, limits: limits)))
        } catch {
            return .failure(error)
        }
    }

    /// Checks an already decoded envelope (e.g. one built in code).
    public func validated(_ envelope: CommandEnvelope) throws(CommandRejection) -> ValidatedCommand {
        guard registry.isEnabled(envelope.workspace) else {
            throw CommandRejection(
                reason: .workspaceNotEnabled,
                message: "workspace \"\(envelope.workspace)\" is not enabled; enabled workspaces: \(registry.enabledWorkspaces.map(\.rawValue).joined(separator: ", "))",
                field: "/workspace")
        }
        let reference = envelope.resource
        let field: JSONPointer = envelope.operation == .apply ? "/resource/resource/type" : "/resource/type"
        guard let type = reference.type ?? defaultType else {
            throw CommandRejection(reason: .missingField, message: "the command names no resource type", field: field)
        }
        guard let definition = registry.definition(forType: type) else {
            throw CommandRejection(
                reason: .unknownResourceType,
                message: "resource type \"\(type)\" is not hosted by this operator; it hosts \(registry.types.map(\.name).joined(separator: ", "))",
                field: field)
        }
        switch envelope.payload {
        case .apply(let manifest):
            let violations = definition.specSchema.validate(manifest.resource.spec, maxErrors: maxViolations)
            guard violations.isEmpty else {
                throw CommandRejection(
                    reason: .schemaViolation,
                    message: "the spec does not match the \(definition.name) schema (\(violations.count)\(violations.count >= maxViolations ? "+" : "") problem\(violations.count == 1 ? "" : "s"))",
                    field: "/resource/resource/spec",
                    violations: violations.map { $0.prefixed(by: "/spec") })
            }
        case .run, .cancel:
            guard definition.isRunnable else {
                throw CommandRejection(reason: .notRunnable, message: "resources of type \(definition.name) cannot be run", field: "/op")
            }
        case .delete:
            break
        }
        return ValidatedCommand(envelope: envelope, resourceType: definition)
    }
}
