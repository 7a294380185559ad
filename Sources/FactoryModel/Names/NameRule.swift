/// The rule for resource and workspace names.
///
/// Names become NATS subject tokens and JetStream KV key tokens (e.g. `public.pipeline-01`), so they
/// must not contain `.`, `*`, `>`, whitespace or anything a KV key refuses. The rule is DNS-label
/// like: **1–63 characters, lowercase ASCII letters, digits and `-`, starting with a letter or
/// digit and not ending with `-`**. `pipeline-01` and `public` pass; `Pipeline`, `my.pipe`,
/// `-x`, `x-` and `""` do not.
public enum NameRule {
    /// The longest name allowed.
    public static let maxLength = 63

    /// A one-line statement of the rule, for error messages.
    public static let summary =
        "1-63 characters: lowercase letters a-z, digits 0-9 and '-', starting with a letter or digit and not ending with '-'"

    /// Why `value` breaks the rule, or `nil` when it follows it.
    public static func violation(in value: String) -> String? {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty else { return "it is empty" }
        guard bytes.count <= maxLength else { return "it is \(value.unicodeScalars.count) characters long; the limit is \(maxLength)" }
        for (offset, byte) in bytes.enumerated() where !isAllowed(byte) {
            let character = value.utf8.index(value.utf8.startIndex, offsetBy: offset)
            let shown = value[character...].first.map { String($0) } ?? "?"
            if byte >= UInt8(ascii: "A"), byte <= UInt8(ascii: "Z") {
                return "it contains the uppercase letter '\(shown)'; use lowercase"
            }
            return "it contains \(describe(shown)), which is not allowed"
        }
        if bytes.first == UInt8(ascii: "-") { return "it starts with '-'" }
        if bytes.last == UInt8(ascii: "-") { return "it ends with '-'" }
        return nil
    }

    /// Checks `value` and throws an error naming it, the kind of name, and the rule.
    public static func validate(_ value: String, as kind: InvalidNameError.Kind) throws(InvalidNameError) {
        if let violation = violation(in: value) {
            throw InvalidNameError(kind: kind, value: value, violation: violation)
        }
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "-")
    }

    private static func describe(_ character: String) -> String {
        switch character {
        case " ": return "a space"
        case ".": return "'.' (a NATS subject separator)"
        case "*", ">": return "'\(character)' (a NATS wildcard)"
        case "_": return "'_'"
        default:
            if let scalar = character.unicodeScalars.first, scalar.value < 0x20 || scalar.value == 0x7F {
                return "a control character (U+\(String(scalar.value, radix: 16, uppercase: true)))"
            }
            return "'\(character)'"
        }
    }
}
