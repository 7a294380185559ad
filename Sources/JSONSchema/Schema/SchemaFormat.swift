/// The `format` values this validator can assert (JSON Schema's format-assertion vocabulary),
/// each checked exactly against the grammar of its RFC. Opt in with
/// ``JSONSchema/Options/assertFormats``; otherwise `format` is an annotation.
///
/// A schema that asks for any other format while formats are asserted fails to compile (as the
/// format-assertion vocabulary requires of unknown formats): nothing is silently passed.
public enum SchemaFormat: String, Sendable, Hashable, CaseIterable {
    /// RFC 3339 section 5.6 `date-time`: `full-date "T" full-time` (`T` and `Z` in either case).
    case dateTime = "date-time"
    /// RFC 3339 `full-date`.
    case date
    /// RFC 3339 `full-time` (the offset is required).
    case time
    /// RFC 3986 `URI`: a scheme, then the rest of the grammar.
    case uri
    /// RFC 3986 `URI-reference`: a URI or a relative reference.
    case uriReference = "uri-reference"
    /// RFC 4122 (and RFC 9562): 8-4-4-4-12 hexadecimal digits, any version.
    case uuid
    /// RFC 2673 section 3.2 dotted-quad, as RFC 3986's `IPv4address`.
    case ipv4
    /// RFC 4291 section 2.2, as RFC 3986's `IPv6address` (no zone id).
    case ipv6

    /// Whether `string` is valid in this format.
    public func matches(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        switch self {
        case .dateTime: return RFC3339.isDateTime(bytes)
        case .date: return RFC3339.isFullDate(bytes[...])
        case .time: return RFC3339.isFullTime(bytes[...])
        case .uri: return RFC3986.isURI(bytes[...])
        case .uriReference: return RFC3986.isURIReference(bytes[...])
        case .uuid: return Self.isUUID(bytes)
        case .ipv4: return RFC3986.isIPv4(bytes[...])
        case .ipv6: return RFC3986.isIPv6(bytes[...])
        }
    }

    private static func isUUID(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else if !ASCII.isHexDigit(byte) {
                return false
            }
        }
        return true
    }
}

enum ASCII {
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    static func isHexDigit(_ byte: UInt8) -> Bool { isDigit(byte) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x66) }
}

// MARK: - RFC 3339

enum RFC3339 {
    /// `date-fullyear "-" date-month "-" date-mday "T" partial-time time-offset`.
    static func isDateTime(_ bytes: [UInt8]) -> Bool {
        guard bytes.count > 11, bytes[10] | 0x20 == UInt8(ascii: "t") else { return false }
        return isFullDate(bytes[0..<10]) && isFullTime(bytes[11...])
    }

    /// `date-fullyear "-" date-month "-" date-mday`, with the day checked against the month
    /// and leap years (RFC 3339 section 5.7).
    static func isFullDate(_ bytes: ArraySlice<UInt8>) -> Bool {
        let b = Array(bytes)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let year = number(b[0..<4]), let month = number(b[5..<7]), let day = number(b[8..<10])
        else { return false }
        guard (1...12).contains(month), day >= 1 else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return day <= days[month - 1]
    }

    /// `partial-time time-offset`: `HH:MM:SS[.frac](Z|±HH:MM)`. A leap second (`:60`) is valid
    /// only where it falls at 23:59:60 UTC once the offset is applied (RFC 3339 section 5.7).
    static func isFullTime(_ bytes: ArraySlice<UInt8>) -> Bool {
        let b = Array(bytes)
        guard b.count >= 9, b[2] == UInt8(ascii: ":"), b[5] == UInt8(ascii: ":"),
            let hour = number(b[0..<2]), let minute = number(b[3..<5]), let second = number(b[6..<8])
        else { return false }
        guard hour <= 23, minute <= 59, second <= 60 else { return false }
        var index = 8
        if b[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < b.count, ASCII.isDigit(b[index]) { index += 1 }
            guard index > start else { return false }
        }
        guard index < b.count else { return false }
        var offsetMinutes = 0
        if b[index] | 0x20 == UInt8(ascii: "z") {
            guard index + 1 == b.count else { return false }
        } else {
            guard b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-"), b.count - index == 6, b[index + 3] == UInt8(ascii: ":"),
                let offsetHour = number(b[(index + 1)..<(index + 3)]), let offsetMinute = number(b[(index + 4)..<(index + 6)]),
                offsetHour <= 23, offsetMinute <= 59
            else { return false }
            offsetMinutes = (offsetHour * 60 + offsetMinute) * (b[index] == UInt8(ascii: "+") ? 1 : -1)
        }
        if second == 60 {
            // Local time minus the offset is UTC; it must be 23:59 there.
            let utc = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440
            return utc == 23 * 60 + 59
        }
        return true
    }

    /// Fixed-width ASCII digits as a number; nil if any is not a digit.
    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in digits {
            guard ASCII.isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return value
    }
}

// MARK: - RFC 3986

/// The generic URI syntax of RFC 3986 (appendix A), as a recogniser over ASCII bytes: any byte
/// outside the grammar (a space, a non-ASCII character, a `%` not followed by two hex digits)
/// makes the string invalid.
enum RFC3986 {
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        ASCII.isAlpha(byte) || ASCII.isDigit(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: "~")
    }

    private static func isSubDelim(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default:
            return false
        }
    }

    /// Whether every byte is allowed by `allowed` or is part of a valid `pct-encoded` triple.
    private static func all(_ bytes: ArraySlice<UInt8>, _ allowed: (UInt8) -> Bool) -> Bool {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, ASCII.isHexDigit(bytes[index + 1]), ASCII.isHexDigit(bytes[index + 2]) else { return false }
                index += 3
                continue
            }
            guard allowed(byte) else { return false }
            index += 1
        }
        return true
    }

    /// `pchar` without `pct-encoded` (handled by ``all(_:_:)``).
    private static func isPChar(_ byte: UInt8) -> Bool {
        isUnreserved(byte) || isSubDelim(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "@")
    }

    /// `query` and `fragment`: `*( pchar / "/" / "?" )`.
    private static func isQueryOrFragment(_ bytes: ArraySlice<UInt8>) -> Bool {
        all(bytes) { isPChar($0) || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
    }

    /// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
    private static func isScheme(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, ASCII.isAlpha(first) else { return false }
        return bytes.dropFirst().allSatisfy {
            ASCII.isAlpha($0) || ASCII.isDigit($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
        }
    }

    /// `URI = scheme ":" hier-part [ "?" query ] [ "#" fragment ]`.
    static func isURI(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), isScheme(bytes[bytes.startIndex..<colon]) else { return false }
        return isAfterScheme(bytes[(colon + 1)...], relative: false)
    }

    /// `URI-reference = URI / relative-ref`.
    static func isURIReference(_ bytes: ArraySlice<UInt8>) -> Bool {
        isURI(bytes) || isAfterScheme(bytes, relative: true)
    }

    /// `hier-part [ "?" query ] [ "#" fragment ]`, or for a relative reference `relative-part …`.
    private static func isAfterScheme(_ bytes: ArraySlice<UInt8>, relative: Bool) -> Bool {
        var rest = bytes
        if let hash = rest.firstIndex(of: UInt8(ascii: "#")) {
            guard isQueryOrFragment(rest[(hash + 1)...]) else { return false }
            rest = rest[rest.startIndex..<hash]
        }
        if let question = rest.firstIndex(of: UInt8(ascii: "?")) {
            guard isQueryOrFragment(rest[(question + 1)...]) else { return false }
            rest = rest[rest.startIndex..<question]
        }
        // hier-part / relative-part
        if rest.starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")]) {
            let afterSlashes = rest.dropFirst(2)
            let pathStart = afterSlashes.firstIndex(of: UInt8(ascii: "/")) ?? afterSlashes.endIndex
            return isAuthority(afterSlashes[afterSlashes.startIndex..<pathStart]) && isPath(afterSlashes[pathStart...])
        }
        if rest.first == UInt8(ascii: "/") || rest.isEmpty {
            return isPath(rest)  // path-absolute (the "//" case is above) or path-empty
        }
        if relative {
            // path-noscheme: the first segment has no ":" (it would read as a scheme).
            let firstSegmentEnd = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
            guard !rest[rest.startIndex..<firstSegmentEnd].contains(UInt8(ascii: ":")) else { return false }
        }
        return isPath(rest)  // path-rootless / path-noscheme
    }

    /// Segments of `pchar`s separated by "/".
    private static func isPath(_ bytes: ArraySlice<UInt8>) -> Bool {
        all(bytes) { isPChar($0) || $0 == UInt8(ascii: "/") }
    }

    /// `authority = [ userinfo "@" ] host [ ":" port ]`.
    private static func isAuthority(_ bytes: ArraySlice<UInt8>) -> Bool {
        var rest = bytes
        if let at = rest.firstIndex(of: UInt8(ascii: "@")) {
            let userinfo = rest[rest.startIndex..<at]
            guard all(userinfo, { isUnreserved($0) || isSubDelim($0) || $0 == UInt8(ascii: ":") }) else { return false }
            rest = rest[(at + 1)...]
        }
        let host: ArraySlice<UInt8>
        var port: ArraySlice<UInt8>?
        if rest.first == UInt8(ascii: "[") {
            guard let close = rest.firstIndex(of: UInt8(ascii: "]")) else { return false }
            host = rest[rest.startIndex...close]
            let after = rest[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { return false }
                port = after.dropFirst()
            }
            guard isIPLiteral(host) else { return false }
        } else {
            if let colon = rest.firstIndex(of: UInt8(ascii: ":")) {
                host = rest[rest.startIndex..<colon]
                port = rest[(colon + 1)...]
            } else {
                host = rest
            }
            // reg-name (IPv4address is a subset of it).
            guard all(host, { isUnreserved($0) || isSubDelim($0) }) else { return false }
        }
        return port?.allSatisfy(ASCII.isDigit) ?? true
    }

    /// `IP-literal = "[" ( IPv6address / IPvFuture ) "]"`.
    private static func isIPLiteral(_ bytes: ArraySlice<UInt8>) -> Bool {
        let inner = bytes.dropFirst().dropLast()
        if let first = inner.first, first | 0x20 == UInt8(ascii: "v") {
            // IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" )
            let body = inner.dropFirst()
            guard let dot = body.firstIndex(of: UInt8(ascii: ".")), dot > body.startIndex,
                body[body.startIndex..<dot].allSatisfy(ASCII.isHexDigit)
            else { return false }
            let tail = body[(dot + 1)...]
            return !tail.isEmpty && tail.allSatisfy { isUnreserved($0) || isSubDelim($0) || $0 == UInt8(ascii: ":") }
        }
        return isIPv6(inner)
    }

    /// `IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet`; no leading zeros.
    static func isIPv4(_ bytes: ArraySlice<UInt8>) -> Bool {
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            guard (1...3).contains(part.count), part.allSatisfy(ASCII.isDigit) else { return false }
            if part.count > 1, part.first == UInt8(ascii: "0") { return false }
            return part.reduce(0) { $0 * 10 + Int($1 - 0x30) } <= 255
        }
    }

    /// `IPv6address`: eight groups of 1–4 hex digits, the last two of which may be an IPv4
    /// address, with at most one `::` standing for one or more groups of zeros.
    static func isIPv6(_ bytes: ArraySlice<UInt8>) -> Bool {
        let text = Array(bytes)
        guard !text.isEmpty else { return false }
        var halves: [[UInt8]] = []
        var start = 0
        var index = 0
        var compressed = false
        while index < text.count {
            if index + 1 < text.count, text[index] == UInt8(ascii: ":"), text[index + 1] == UInt8(ascii: ":") {
                guard !compressed else { return false }
                compressed = true
                halves.append(Array(text[start..<index]))
                index += 2
                start = index
                continue
            }
            index += 1
        }
        halves.append(Array(text[start...]))
        var groups = 0
        for (position, half) in halves.enumerated() {
            guard !half.isEmpty else { continue }
            let pieces = half.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            for (offset, piece) in pieces.enumerated() {
                let isLast = position == halves.count - 1 && offset == pieces.count - 1
                if isLast, piece.contains(UInt8(ascii: ".")) {
                    guard isIPv4(piece) else { return false }
                    groups += 2
                } else {
                    guard (1...4).contains(piece.count), piece.allSatisfy(ASCII.isHexDigit) else { return false }
                    groups += 1
                }
            }
        }
        return compressed ? groups <= 7 : groups == 8
    }
}
