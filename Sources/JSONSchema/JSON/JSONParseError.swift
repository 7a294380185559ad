/// Why JSON text was refused, and where.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong, as a stable code.
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        case inputTooLarge
        case unexpectedEndOfInput
        case unexpectedCharacter
        case invalidUTF8
        case invalidEscape
        case loneSurrogate
        case controlCharacterInString
        case invalidNumber
        case numberOutOfRange
        case nonFiniteNumber
        case duplicateKey
        case depthLimitExceeded
        case stringTooLong
        case trailingContent
    }

    /// What was wrong.
    public let reason: Reason
    /// Zero-based byte offset of the problem in the input.
    public let byteOffset: Int
    /// One-based line (lines end with `\n`).
    public let line: Int
    /// One-based column, counted in Unicode scalars.
    public let column: Int
    /// A plain sentence saying what was wrong.
    public let message: String

    public var description: String {
        "line \(line), column \(column) (byte \(byteOffset)): \(message)"
    }

    /// Builds an error, working out the line and column of `offset` in `input`.
    static func at(
        _ offset: Int,
        in input: UnsafeBufferPointer<UInt8>,
        _ reason: Reason,
        _ message: String
    ) -> JSONParseError {
        var line = 1
        var column = 1
        let end = min(offset, input.count)
        var position = 0
        while position < end {
            let byte = input[position]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                // Count lead bytes only, so a multi-byte scalar is one column.
                column += 1
            }
            position += 1
        }
        return JSONParseError(reason: reason, byteOffset: offset, line: line, column: column, message: message)
    }
}
