/// Bounds the JSON parser enforces, so hostile input costs bounded memory and time.
public struct JSONParsingLimits: Sendable, Hashable {
    /// Largest input accepted, in bytes. Checked before any parsing.
    public var maxBytes: Int
    /// Deepest nesting of arrays and objects accepted (the top-level value is depth 1).
    /// Clamped to ``JSONParsingLimits/hardMaxDepth``.
    public var maxDepth: Int
    /// Longest string (or object key) accepted, in UTF-8 bytes after unescaping.
    public var maxStringBytes: Int

    /// The parser never nests deeper than this, whatever ``maxDepth`` says: deeper values would
    /// make recursive consumers (validation, deallocation) risk the stack.
    public static let hardMaxDepth = 1_000

    /// 16 MiB, depth 128, strings up to 1 MiB: generous for manifests and commands.
    public static let `default` = JSONParsingLimits(maxBytes: 16 << 20, maxDepth: 128, maxStringBytes: 1 << 20)

    public init(maxBytes: Int, maxDepth: Int, maxStringBytes: Int) {
        self.maxBytes = max(0, maxBytes)
        self.maxDepth = min(max(1, maxDepth), Self.hardMaxDepth)
        self.maxStringBytes = max(0, maxStringBytes)
    }
}
