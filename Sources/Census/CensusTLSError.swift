// MARK: - CensusTLSError

/// A CA file that cannot be used to verify Census (or the simulator).
public struct CensusTLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file as configured.
    public var path: String
    /// What is wrong with it.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        "The CA file \(path) cannot be used to verify Census: \(reason). Give a readable PEM file holding one or more CA certificates."
    }
}
