import SimulatorKit

// MARK: - SimForm

/// Reads an `application/x-www-form-urlencoded` body into a JSON object of strings, for the
/// validation that JSON bodies go through: `+` is a space, `%XX` a byte, the bytes UTF-8.
/// Names are taken as they are: `raw[sql]=…` is a field named `raw[sql]`, not a nested object,
/// so a form cannot carry the objects that model and sync bodies need, and their validation says
/// which one is missing.
enum SimForm {
    /// The fields of `bytes`, in order. A name sent more than once becomes an array of its values
    /// (what Express's form parser makes of it), so `fullResync=true&fullResync=false` is a 422
    /// "invalid boolean value" naming the field rather than one of the two picked silently.
    /// Throws 400 for a `%` not followed by two hex digits, text that is not UTF-8, or a field
    /// without a name. The `charset` parameter is not read: clients send UTF-8.
    static func fields(of bytes: some Collection<UInt8>) throws(SimFailure) -> SimObject {
        var object = SimObject()
        let pairs = bytes.split(separator: UInt8(ascii: "&"))  // empty pairs (`a=1&&b=2`) are skipped, as parsers do
        for (index, pair) in pairs.enumerated() {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0], field: index + 1)
            guard !name.isEmpty else { throw .malformedForm("field \(index + 1) has no name") }
            let value = SimJSON.string(parts.count > 1 ? try Self.decode(parts[1], field: index + 1) : "")
            switch object[name] {
            case nil: object[name] = value
            case .array(let values)?: object[name] = .array(values + [value])
            case let first?: object[name] = .array([first, value])
            }
        }
        return object
    }

    /// Undoes `+` and percent-encoding of one name or value.
    private static func decode(_ encoded: some Collection<UInt8>, field: Int) throws(SimFailure) -> String {
        let bytes = Array(encoded)
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "+"):
                decoded.append(UInt8(ascii: " "))
                index += 1
            case UInt8(ascii: "%"):
                guard index + 2 < bytes.count, let high = Self.hexValue(bytes[index + 1]), let low = Self.hexValue(bytes[index + 2]) else {
                    throw .malformedForm("field \(field) has a '%' that is not followed by two hex digits")
                }
                decoded.append(high << 4 | low)
                index += 3
            case let byte:
                decoded.append(byte)
                index += 1
            }
        }
        guard let text = String(validating: decoded, as: UTF8.self) else {
            throw .malformedForm("field \(field) is not UTF-8 once percent-decoded")
        }
        return text
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
