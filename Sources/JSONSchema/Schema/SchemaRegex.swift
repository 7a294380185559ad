import Foundation

/// A compiled `pattern` / `patternProperties` regular expression.
///
/// ## Dialect
/// JSON Schema asks for ECMA-262 regular expressions (with the `u` flag). This validator compiles
/// them once, at schema compile time, with ICU (`NSRegularExpression`) after rewriting the
/// constructs whose meaning differs between ECMA-262 and ICU:
///
/// - `\d`, `\D`, `\w`, `\W` match ASCII only, as in ECMA-262 (ICU would match any Unicode digit
///   or letter): they become `[0-9]`, `[^0-9]`, `[A-Za-z0-9_]`, `[^A-Za-z0-9_]`.
/// - `$` outside a character class matches only at the very end of the string (ICU would also match
///   before a final line break): it becomes `\z`.
/// - `\u{…}` code point escapes become ICU's `\x{…}`.
/// - `[` inside a character class is a literal (ICU would start a nested set); `[]` never matches
///   and `[^]` matches any character, as in ECMA-262.
///
/// Patterns are not anchored (`"a+"` matches `"xaay"`), matching is case-sensitive, and Unicode
/// property escapes (`\p{Letter}`, `\p{L}`) work. Syntax that only ICU accepts (possessive
/// quantifiers, `\Q…\E`, …) is accepted too; syntax neither accepts is a compile error.
struct SchemaRegex: Sendable {
    /// The pattern as written in the schema.
    let pattern: String
    private let expression: NSRegularExpression

    /// Compiles `pattern`; returns the ICU error text when it does not compile.
    init(_ pattern: String) throws(SchemaRegexError) {
        self.pattern = pattern
        let translated = Self.translate(pattern)
        do {
            expression = try NSRegularExpression(pattern: translated, options: [])
        } catch {
            throw SchemaRegexError(pattern: pattern)
        }
    }

    /// True when the pattern matches anywhere in `string`.
    func matches(_ string: String) -> Bool {
        let range = NSRange(location: 0, length: string.utf16.count)
        return expression.firstMatch(in: string, options: [], range: range) != nil
    }

    /// Rewrites ECMA-262 constructs whose ICU meaning differs (see the type's documentation).
    static func translate(_ pattern: String) -> String {
        var output = ""
        var scalars = Array(pattern.unicodeScalars)
        scalars.append("\u{0}")  // sentinel so lookahead never goes out of range
        var index = 0
        var inClass = false
        let end = scalars.count - 1
        while index < end {
            let scalar = scalars[index]
            if scalar == "\\", index + 1 < end {
                let next = scalars[index + 1]
                switch next {
                case "d": output += inClass ? "0-9" : "[0-9]"
                case "D": output += "[^0-9]"
                case "w": output += inClass ? "A-Za-z0-9_" : "[A-Za-z0-9_]"
                case "W": output += "[^A-Za-z0-9_]"
                case "u" where scalars[index + 2] == "{":
                    output += "\\x"
                default:
                    output.unicodeScalars.append(scalar)
                    output.unicodeScalars.append(next)
                }
                index += 2
                continue
            }
            if inClass {
                switch scalar {
                case "]":
                    inClass = false
                    output += "]"
                case "[":
                    output += "\\["
                case "&" where scalars[index + 1] == "&":
                    output += "\\&"
                default:
                    output.unicodeScalars.append(scalar)
                }
                index += 1
                continue
            }
            switch scalar {
            case "[":
                if scalars[index + 1] == "]" {
                    output += "(?!)"
                    index += 2
                    continue
                }
                if scalars[index + 1] == "^", scalars[index + 2] == "]" {
                    output += "[\\s\\S]"
                    index += 3
                    continue
                }
                inClass = true
                output += "["
                if scalars[index + 1] == "^" {
                    output += "^"
                    index += 1
                }
            case "$":
                output += "\\z"
            default:
                output.unicodeScalars.append(scalar)
            }
            index += 1
        }
        scalars.removeAll()
        return output
    }
}

/// A pattern that does not compile.
struct SchemaRegexError: Error {
    let pattern: String
}
