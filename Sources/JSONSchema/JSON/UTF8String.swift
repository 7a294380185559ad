/// Byte-wise string comparison and hashing.
///
/// Swift's `String ==` treats canonically equivalent strings as equal (`"é"` precomposed equals
/// `"e\u{301}"`). JSON and JSON Schema compare strings code point by code point, so object keys,
/// `const`, `enum` and `uniqueItems` use these helpers instead.
enum UTF8String {
    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        let fast: Bool?? = lhs.utf8.withContiguousStorageIfAvailable { left in
            rhs.utf8.withContiguousStorageIfAvailable { right in
                left.count == right.count && left.elementsEqual(right)
            }
        }
        if let fast, let result = fast { return result }
        return lhs.utf8.elementsEqual(rhs.utf8)
    }

    static func hash(_ string: String, into hasher: inout Hasher) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { bytes in
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
        if done == nil {
            for byte in string.utf8 { hasher.combine(byte) }
        }
        hasher.combine(string.utf8.count)
    }

    /// Code point order, which for UTF-8 is byte order. Used for sorted keys.
    static func less(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}

/// A `String` that compares and hashes by its UTF-8 bytes (see ``UTF8String``).
struct JSONKey: Hashable, Sendable {
    let string: String

    init(_ string: String) {
        self.string = string
    }

    static func == (lhs: JSONKey, rhs: JSONKey) -> Bool {
        UTF8String.equal(lhs.string, rhs.string)
    }

    func hash(into hasher: inout Hasher) {
        UTF8String.hash(string, into: &hasher)
    }
}
