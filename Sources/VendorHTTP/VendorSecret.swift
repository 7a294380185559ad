// MARK: - VendorSecret

/// A credential (API key, bearer token) that cannot leak by accident.
///
/// Its `description`, `debugDescription` and reflection (`dump`, `Mirror`) never show the value,
/// so a secret inside a configuration, an error or a log interpolation prints as `<redacted>`.
/// The value is reachable only through ``withUnredactedValue(_:)``, which is meant for the single
/// place that writes the `Authorization` header.
public struct VendorSecret: Sendable, Hashable {
    private let value: String

    /// Wraps a credential.
    public init(_ value: String) {
        self.value = value
    }

    /// Whether the credential is empty (for example an unset environment variable).
    public var isEmpty: Bool { self.value.isEmpty }

    /// Runs `body` with the clear-text credential. Do not store, log or return it.
    public func withUnredactedValue<Result>(_ body: (String) throws -> Result) rethrows -> Result {
        try body(self.value)
    }
}

// MARK: - Redaction

extension VendorSecret: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "<redacted>" }
    public var debugDescription: String { "VendorSecret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
