/// A JSON number.
///
/// ## Representation
/// - Integers that fit in `Int64` are stored exactly as `Int64`.
/// - Every other number is stored as the nearest finite `Double`.
/// - When a number read from text cannot be held exactly by either (an integer beyond `Int64`, or a
///   decimal with more significant digits than a `Double` keeps), the text as written is kept as well
///   and the serializer writes it back unchanged, so a value passed through this library never loses
///   digits on the wire. Comparisons of such numbers (`minimum`, `const`, `enum`, `uniqueItems`, `==`)
///   use the `Double` value.
///
/// ## Semantics
/// - Equality is mathematical: `1`, `1.0` and `1e0` are equal and hash alike, as JSON Schema requires.
/// - ``isInteger`` is true for any number with a zero fractional part (`1.0` is an integer).
/// - Non-finite values (NaN, ±infinity) cannot be represented: JSON has no syntax for them.
public struct JSONNumber: Sendable {
    enum Storage: Sendable {
        case integer(Int64)
        case double(Double)
    }

    let storage: Storage

    /// The number as written, kept only when `storage` cannot hold it exactly.
    let preservedLiteral: String?

    // MARK: - Creating numbers

    /// An exact integer.
    public init(_ value: Int64) {
        storage = .integer(value)
        preservedLiteral = nil
    }

    /// An exact integer.
    public init(_ value: Int) {
        self.init(Int64(value))
    }

    /// A floating-point number; `nil` for NaN and infinities, which JSON cannot express.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        storage = .double(value)
        preservedLiteral = nil
    }

    init(storage: Storage, preservedLiteral: String?) {
        self.storage = storage
        self.preservedLiteral = preservedLiteral
    }

    /// Parses a JSON number literal such as `-12`, `0.5` or `1e-8`; `nil` when the text is not a
    /// JSON number or is outside the range of a `Double`.
    public init?(jsonLiteral text: some StringProtocol) {
        var parser = JSONParser(limits: .default)
        let bytes = Array(text.utf8)
        let parsed: JSONNumber? = bytes.withUnsafeBufferPointer { buffer in
            try? parser.parseStandaloneNumber(buffer)
        }
        guard let parsed else { return nil }
        self = parsed
    }

    // MARK: - Reading numbers

    /// The value as `Double` (the nearest one for integers beyond 2^53).
    public var doubleValue: Double {
        switch storage {
        case .integer(let value): return Double(value)
        case .double(let value): return value
        }
    }

    /// The value as `Int64` when it is an integer within range, else `nil`.
    public var int64Value: Int64? {
        switch storage {
        case .integer(let value): return value
        case .double(let value): return Int64(exactly: value)
        }
    }

    /// The value as `Int` when it is an integer within range, else `nil`.
    public var intValue: Int? {
        int64Value.flatMap { Int(exactly: $0) }
    }

    /// True when the fractional part is zero (`1.0` is an integer, as in JSON Schema).
    public var isInteger: Bool {
        switch storage {
        case .integer: return true
        case .double(let value): return value.rounded(.towardZero) == value
        }
    }

    /// The JSON text of this number: the preserved literal if there is one, else the shortest
    /// decimal form that reads back as the same value.
    public var jsonLiteral: String {
        if let preservedLiteral { return preservedLiteral }
        switch storage {
        case .integer(let value): return String(value)
        case .double(let value): return JSONNumber.shortestJSONText(value)
        }
    }

    /// Swift prints doubles in a form JSON accepts (`1e-08`, `100.0`, `1e+308`); this spells it out
    /// in one place so the serializer and error messages agree.
    static func shortestJSONText(_ value: Double) -> String {
        value.description
    }
}

// MARK: - Equatable, Hashable, Comparable

extension JSONNumber: Hashable {
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case let (.integer(left), .integer(right)):
            return left == right
        case let (.double(left), .double(right)):
            return left == right
        case let (.integer(integer), .double(double)), let (.double(double), .integer(integer)):
            guard let exact = Int64(exactly: double) else { return false }
            return exact == integer
        }
    }

    public func hash(into hasher: inout Hasher) {
        // Integral values hash as Int64 whichever storage holds them, so `1 == 1.0` hashes alike.
        switch storage {
        case .integer(let value):
            hasher.combine(value)
        case .double(let value):
            if let exact = Int64(exactly: value) {
                hasher.combine(exact)
            } else {
                hasher.combine(value)
            }
        }
    }
}

extension JSONNumber: Comparable {
    public static func < (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case let (.integer(left), .integer(right)):
            return left < right
        case let (.double(left), .double(right)):
            return left < right
        case let (.integer(integer), .double(double)):
            return compare(integer, double) == .orderedAscending
        case let (.double(double), .integer(integer)):
            return compare(integer, double) == .orderedDescending
        }
    }

    enum Ordering { case orderedAscending, orderedSame, orderedDescending }

    /// Exact comparison of an `Int64` with a finite `Double` (no rounding of the integer).
    static func compare(_ integer: Int64, _ double: Double) -> Ordering {
        // 2^63 is exactly representable; every Int64 is below it.
        if double >= 9_223_372_036_854_775_808.0 { return .orderedAscending }
        if double < -9_223_372_036_854_775_808.0 { return .orderedDescending }
        let floor = double.rounded(.down)
        // `floor` is integral and within [-2^63, 2^63), so the conversion is exact.
        let floorInteger = Int64(floor)
        if integer < floorInteger { return .orderedAscending }
        if integer > floorInteger { return .orderedDescending }
        return double > floor ? .orderedAscending : .orderedSame
    }
}

// MARK: - Literals and printing

extension JSONNumber: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) {
        self.init(value)
    }
}

extension JSONNumber: CustomStringConvertible {
    public var description: String { jsonLiteral }
}
