/// A core NATS message, copied out of C memory at once: it owns its bytes.
public struct NATSMessage: Sendable, Hashable {
    public var subject: String
    /// Where an answer goes (a request's inbox), if anywhere.
    public var reply: String?
    public var headers: NATSHeaders
    public var payload: [UInt8]

    public init(subject: String, reply: String? = nil, headers: NATSHeaders = NATSHeaders(), payload: [UInt8] = []) {
        self.subject = subject
        self.reply = reply
        self.headers = headers
        self.payload = payload
    }

    /// The payload as UTF-8 text (invalid sequences replaced).
    public var string: String { String(decoding: payload, as: UTF8.self) }
}

/// NATS message headers: an ordered list of names, each with one or more values. Names are
/// compared exactly, as the NATS protocol does.
public struct NATSHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    private var fields: [(name: String, values: [String])] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (name, value) in elements { add(name, value) }
    }

    /// The first value of `name`.
    public subscript(name: String) -> String? {
        get { fields.first(where: { $0.name == name })?.values.first }
        set {
            if let newValue { set(name, newValue) } else { remove(name) }
        }
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.first(where: { $0.name == name })?.values ?? []
    }

    /// Replaces every value of `name` with `value`.
    public mutating func set(_ name: String, _ value: String) {
        if let index = fields.firstIndex(where: { $0.name == name }) {
            fields[index].values = [value]
        } else {
            fields.append((name, [value]))
        }
    }

    /// Adds `value` to the values of `name`.
    public mutating func add(_ name: String, _ value: String) {
        if let index = fields.firstIndex(where: { $0.name == name }) {
            fields[index].values.append(value)
        } else {
            fields.append((name, [value]))
        }
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name == name }
    }

    public var isEmpty: Bool { fields.isEmpty }
    public var names: [String] { fields.map(\.name) }

    public func makeIterator() -> some IteratorProtocol<(name: String, value: String)> {
        fields.lazy.flatMap { field in field.values.lazy.map { (name: field.name, value: $0) } }.makeIterator()
    }

    public static func == (lhs: NATSHeaders, rhs: NATSHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.values == $1.values }
    }

    public func hash(into hasher: inout Hasher) {
        for field in fields {
            hasher.combine(field.name)
            hasher.combine(field.values)
        }
    }
}
