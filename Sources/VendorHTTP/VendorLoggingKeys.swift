// MARK: - VendorLoggingKeys

/// Metadata keys of vendor HTTP log lines. Values never include credentials or headers.
public enum VendorLoggingKeys {
    public static let vendor = "vendor.name"
    public static let route = "vendor.route"
    public static let method = "http.method"
    public static let path = "http.path"
    public static let status = "http.status"
    public static let attempt = "vendor.attempt"
    public static let elapsedMilliseconds = "vendor.elapsed_ms"
    public static let retryDelayMilliseconds = "vendor.retry_delay_ms"
    public static let errorCode = "vendor.error"
}
