/// Validation of subjects, queue groups, stream, consumer and bucket names and KV keys.
///
/// Everything is checked in Swift before it reaches cnats, so a bad name is a clear error value
/// rather than a server round trip or a protocol violation (a space in a subject would split the
/// PUB line). The rules are the server's (ADR-6 and the KV ADR-8), stated in each error.
public enum NATSNames {
    /// The longest subject accepted; the server's default control line is 4 KiB.
    public static let maximumSubjectLength = 4096

    /// A subject to publish to: dot-separated non-empty tokens, no whitespace, no wildcards.
    public static func validatePublishSubject(_ subject: String, operation: String) throws(NATSError) {
        try validateSubject(subject, wildcards: false, kind: "subject", operation: operation)
    }

    /// A subject to subscribe to: like a publish subject, but `*` may stand for one token and
    /// `>` for the rest, as whole tokens.
    public static func validateSubscribeSubject(_ subject: String, operation: String) throws(NATSError) {
        try validateSubject(subject, wildcards: true, kind: "subject", operation: operation)
    }

    /// A queue group name: non-empty, no whitespace.
    public static func validateQueueGroup(_ name: String, operation: String) throws(NATSError) {
        let rule = "a queue group is 1 to 255 characters without whitespace"
        guard !name.isEmpty, name.utf8.count <= 255 else {
            throw .invalidName("queue group", name, rule: rule, operation: operation)
        }
        for byte in name.utf8 where isWhitespaceOrControl(byte) {
            throw .invalidName("queue group", name, rule: rule, operation: operation)
        }
    }

    /// A stream name: 1 to 255 printable characters without whitespace, `.`, `*`, `>`, `/` or `\`.
    public static func validateStreamName(_ name: String, operation: String) throws(NATSError) {
        try validatePlainName(name, kind: "stream name", operation: operation)
    }

    /// A consumer (durable) name: the same rule as a stream name.
    public static func validateConsumerName(_ name: String, operation: String) throws(NATSError) {
        try validatePlainName(name, kind: "consumer name", operation: operation)
    }

    /// A KV bucket name: 1 to 255 of `A-Z a-z 0-9 _ -`.
    public static func validateBucketName(_ name: String, operation: String) throws(NATSError) {
        let rule = "a bucket name is 1 to 255 of the characters A-Z a-z 0-9 _ -"
        guard !name.isEmpty, name.utf8.count <= 255 else {
            throw .invalidName("bucket name", name, rule: rule, operation: operation)
        }
        for byte in name.utf8 where !(isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")) {
            throw .invalidName("bucket name", name, rule: rule, operation: operation)
        }
    }

    /// A KV key: 1 to 1024 of `A-Z a-z 0-9 - / _ = .`, not starting or ending with `.`, no empty
    /// token. With `wildcards`, `*` and a final `>` may stand as whole tokens (for watching).
    public static func validateKey(_ key: String, wildcards: Bool = false, operation: String) throws(NATSError) {
        let rule =
            wildcards
            ? "a key pattern is 1 to 1024 of A-Z a-z 0-9 - / _ = . with `*` or a final `>` as whole tokens, not starting or ending with a dot"
            : "a key is 1 to 1024 of the characters A-Z a-z 0-9 - / _ = . and does not start or end with a dot"
        let bytes = Array(key.utf8)
        guard !bytes.isEmpty, bytes.count <= 1024 else {
            throw .invalidName("key", key, rule: rule, operation: operation)
        }
        var tokenStart = 0
        for index in 0...bytes.count {
            if index == bytes.count || bytes[index] == UInt8(ascii: ".") {
                let token = bytes[tokenStart..<index]
                guard !token.isEmpty else {
                    throw .invalidName("key", key, rule: rule, operation: operation)
                }
                let isWildcardToken = token.count == 1 && (token.first == UInt8(ascii: "*") || token.first == UInt8(ascii: ">"))
                if isWildcardToken {
                    guard wildcards, token.first == UInt8(ascii: "*") || index == bytes.count else {
                        throw .invalidName("key", key, rule: rule, operation: operation)
                    }
                } else {
                    for byte in token where !isKeyCharacter(byte) {
                        throw .invalidName("key", key, rule: rule, operation: operation)
                    }
                }
                tokenStart = index + 1
            }
        }
    }

    // MARK: - Private

    private static func validateSubject(_ subject: String, wildcards: Bool, kind: String, operation: String) throws(NATSError) {
        let rule =
            wildcards
            ? "a subject is dot-separated non-empty tokens without whitespace; `*` and a final `>` may stand as whole tokens"
            : "a subject is dot-separated non-empty tokens without whitespace or wildcards (`*`, `>`)"
        let bytes = Array(subject.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumSubjectLength else {
            throw .invalidName(kind, subject, rule: rule, operation: operation)
        }
        var tokenStart = 0
        for index in 0...bytes.count {
            if index == bytes.count || bytes[index] == UInt8(ascii: ".") {
                let token = bytes[tokenStart..<index]
                guard !token.isEmpty else {
                    throw .invalidName(kind, subject, rule: rule, operation: operation)
                }
                for byte in token {
                    if isWhitespaceOrControl(byte) {
                        throw .invalidName(kind, subject, rule: rule, operation: operation)
                    }
                    if byte == UInt8(ascii: "*") || byte == UInt8(ascii: ">") {
                        // A wildcard is only a wildcard as a whole token; `>` only as the last one.
                        let wholeToken = token.count == 1
                        let placedWell = byte == UInt8(ascii: "*") || index == bytes.count
                        guard wildcards, wholeToken, placedWell else {
                            throw .invalidName(kind, subject, rule: rule, operation: operation)
                        }
                    }
                }
                tokenStart = index + 1
            }
        }
    }

    private static func validatePlainName(_ name: String, kind: String, operation: String) throws(NATSError) {
        let rule = "a \(kind) is 1 to 255 printable characters without whitespace, `.`, `*`, `>`, `/` or `\\`"
        guard !name.isEmpty, name.utf8.count <= 255 else {
            throw .invalidName(kind, name, rule: rule, operation: operation)
        }
        for byte in name.utf8 {
            switch byte {
            case UInt8(ascii: "."), UInt8(ascii: "*"), UInt8(ascii: ">"), UInt8(ascii: "/"), UInt8(ascii: "\\"):
                throw .invalidName(kind, name, rule: rule, operation: operation)
            default:
                if isWhitespaceOrControl(byte) {
                    throw .invalidName(kind, name, rule: rule, operation: operation)
                }
            }
        }
    }

    private static func isWhitespaceOrControl(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte == 0x7F
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isKeyCharacter(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "=")
    }
}
