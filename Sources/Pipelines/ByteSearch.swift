/// Plain scans for a byte pattern in a document's bytes, for the places that look at a stored
/// document without parsing it (a run document's state and writer, a status's error member).
/// The standard library's generic `ranges(of:)` was most of such a look's time (a tenth of a
/// passive replica's CPU in a chain).
public enum ByteSearch {
    /// Where `pattern` first starts within `bytes[from..<to]`.
    public static func firstIndex(of pattern: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard !pattern.isEmpty, to - from >= pattern.count else { return nil }
        var index = from
        while index <= to - pattern.count {
            if matches(pattern, in: bytes, at: index) { return index }
            index += 1
        }
        return nil
    }

    /// Where `pattern` last starts within `bytes[from..<to]`.
    public static func lastIndex(of pattern: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard !pattern.isEmpty, to - from >= pattern.count else { return nil }
        var index = to - pattern.count
        while index >= from {
            if matches(pattern, in: bytes, at: index) { return index }
            index -= 1
        }
        return nil
    }

    /// Whether `pattern` occurs anywhere in `bytes`.
    public static func contains(_ pattern: [UInt8], in bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { firstIndex(of: pattern, in: $0, from: 0, to: $0.count) != nil }
    }

    private static func matches(_ pattern: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        bytes[index] == pattern[0] && (1..<pattern.count).allSatisfy { bytes[index + $0] == pattern[$0] }
    }
}
