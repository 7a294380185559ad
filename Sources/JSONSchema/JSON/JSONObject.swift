/// A JSON object that keeps its members in insertion order, so output is stable and reads like the
/// input.
///
/// Keys are unique and compared by their code points (not by Swift's canonical equivalence).
/// Equality ignores order, as JSON does: `{"a":1,"b":2} == {"b":2,"a":1}`. Lookups are linear for
/// small objects and use a hash index once an object has more than ``indexThreshold`` members.
public struct JSONObject: Sendable {
    /// One member of an object.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }

        public static func == (lhs: Member, rhs: Member) -> Bool {
            UTF8String.equal(lhs.key, rhs.key) && lhs.value == rhs.value
        }

        public func hash(into hasher: inout Hasher) {
            UTF8String.hash(key, into: &hasher)
            hasher.combine(value)
        }
    }

    /// Objects with more members than this get a hash index for lookups.
    static let indexThreshold = 12

    private(set) var members: [Member]
    private var index: [JSONKey: Int]?

    // MARK: - Creating objects

    /// An empty object.
    public init() {
        members = []
        index = nil
    }

    /// An object with `members` in the given order; a later duplicate key replaces the earlier
    /// value in place.
    public init(_ members: some Sequence<(String, JSONValue)>) {
        self.init()
        for (key, value) in members {
            self[key] = value
        }
    }

    // MARK: - Reading

    /// The number of members.
    public var count: Int { members.count }

    /// True when the object has no members.
    public var isEmpty: Bool { members.isEmpty }

    /// The keys in order.
    public var keys: [String] { members.map(\.key) }

    /// The values in order.
    public var values: [JSONValue] { members.map(\.value) }

    /// The position of `key`, or `nil`.
    public func position(of key: String) -> Int? {
        if let index { return index[JSONKey(key)] }
        for position in members.indices where UTF8String.equal(members[position].key, key) {
            return position
        }
        return nil
    }

    /// True when the object has a member named `key`.
    public func contains(key: String) -> Bool {
        position(of: key) != nil
    }

    /// The value of `key`; setting `nil` removes the member, setting a value replaces it in place
    /// or appends it.
    public subscript(key: String) -> JSONValue? {
        get {
            position(of: key).map { members[$0].value }
        }
        set {
            if let newValue {
                if let position = position(of: key) {
                    members[position].value = newValue
                } else {
                    append(key: key, value: newValue)
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    // MARK: - Changing

    /// Appends a member if `key` is not present yet; returns false (and changes nothing) when it is.
    /// The JSON parser uses this to refuse duplicate keys.
    @discardableResult
    public mutating func insertNew(key: String, value: JSONValue) -> Bool {
        if position(of: key) != nil { return false }
        append(key: key, value: value)
        return true
    }

    /// Removes `key` and returns its value, if present.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = position(of: key) else { return nil }
        let removed = members.remove(at: position).value
        rebuildIndex()
        return removed
    }

    /// The same object with its members sorted by key in code point order.
    public func sortedByKey() -> JSONObject {
        var sorted = self
        sorted.members.sort { UTF8String.less($0.key, $1.key) }
        sorted.rebuildIndex()
        return sorted
    }

    private mutating func append(key: String, value: JSONValue) {
        members.append(Member(key: key, value: value))
        if index != nil {
            index?[JSONKey(key)] = members.count - 1
        } else if members.count > Self.indexThreshold {
            rebuildIndex()
        }
    }

    private mutating func rebuildIndex() {
        guard members.count > Self.indexThreshold else {
            index = nil
            return
        }
        var built = [JSONKey: Int](minimumCapacity: members.count)
        for (position, member) in members.enumerated() {
            built[JSONKey(member.key)] = position
        }
        index = built
    }
}

// MARK: - Collection

extension JSONObject: RandomAccessCollection {
    public var startIndex: Int { members.startIndex }
    public var endIndex: Int { members.endIndex }
    public subscript(position: Int) -> Member { members[position] }
}

// MARK: - Equality (order-insensitive)

extension JSONObject: Hashable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for member in lhs.members {
            guard let other = rhs[member.key], other == member.value else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Order-insensitive: combine member hashes commutatively.
        var combined = 0
        for member in members {
            combined = combined &+ member.hashValue
        }
        hasher.combine(members.count)
        hasher.combine(combined)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}
