/// The keys of the state bucket. Workspace and resource names follow the DNS-label rule, so
/// keys are always valid KV keys and subject tokens.
public enum StateKeys {
    public static let entityPrefix = "entity."
    public static let statusPrefix = "status."

    /// `entity.<workspace>.<name>`: the desired state.
    public static func entity(workspace: String, name: String) -> String { "entity.\(workspace).\(name)" }
    /// `status.<workspace>.<name>`: the observed state.
    public static func status(workspace: String, name: String) -> String { "status.\(workspace).\(name)" }

    public enum Kind: Sendable, Hashable {
        case entity, status
    }

    /// What a key names, or nil for a key the operator does not write.
    public static func parse(_ key: String) -> (kind: Kind, workspace: String, name: String)? {
        let parts = key.split(separator: ".", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        switch parts[0] {
        case "entity": return (.entity, String(parts[1]), String(parts[2]))
        case "status": return (.status, String(parts[1]), String(parts[2]))
        default: return nil
        }
    }
}
