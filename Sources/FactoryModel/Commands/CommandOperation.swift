/// What a command asks the operator to do.
public enum CommandOperation: String, Sendable, Hashable, Codable, CaseIterable {
    /// Create or update the resource at the vendor, then run it.
    case apply
    /// Remove what the operator created at the vendor.
    case delete
    /// Trigger the resource again.
    case run
    /// Cancel the resource's run in progress, where its vendor can.
    case cancel
}
