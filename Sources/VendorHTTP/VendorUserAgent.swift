// MARK: - VendorUserAgent

/// The `User-Agent` of FactoryOperator's vendor clients.
public enum VendorUserAgent {
    /// The FactoryOperator version sent to vendors.
    public static let version = "0.1.0"
    /// `FactoryOperator/<version>`.
    public static let factoryOperator = "FactoryOperator/\(version)"
}
