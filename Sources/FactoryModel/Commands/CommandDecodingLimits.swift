/// Limits applied while decoding a command.
public struct CommandDecodingLimits: Sendable, Hashable {
    /// Largest command accepted, checked before parsing. Default 1 MiB.
    public var maxBytes: Int
    /// Deepest JSON nesting accepted. Default 64.
    public var maxDepth: Int

    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 64) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
    }

    public static let `default` = CommandDecodingLimits()
}
