/// A decimal number as significant digits and a power of ten: value = digits × 10^exponent,
/// with no leading or trailing zeros in `digits` (zero has no digits).
///
/// Used to decide whether a `Double` holds a literal exactly, and for exact `multipleOf`.
struct DecimalDigits: Hashable {
    var isNegative: Bool
    /// ASCII digits, most significant first.
    var digits: [UInt8]
    var exponent: Int

    /// Parses JSON-number-like text (`-12.50e3`); `nil` if it is not one.
    init?(text: some Collection<UInt8>) {
        var iterator = text.makeIterator()
        var next = iterator.next()
        isNegative = false
        if next == UInt8(ascii: "-") {
            isNegative = true
            next = iterator.next()
        } else if next == UInt8(ascii: "+") {
            next = iterator.next()
        }
        var mantissa: [UInt8] = []
        var fractionDigits = 0
        var sawPoint = false
        var sawDigit = false
        while let byte = next {
            if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                sawDigit = true
                // Leading zeros carry no value.
                if !(mantissa.isEmpty && byte == UInt8(ascii: "0")) { mantissa.append(byte) }
                if sawPoint { fractionDigits += 1 }
            } else if byte == UInt8(ascii: "."), !sawPoint {
                sawPoint = true
            } else {
                break
            }
            next = iterator.next()
        }
        guard sawDigit else { return nil }
        var exponentValue = 0
        if next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
            next = iterator.next()
            var exponentNegative = false
            if next == UInt8(ascii: "-") {
                exponentNegative = true
                next = iterator.next()
            } else if next == UInt8(ascii: "+") {
                next = iterator.next()
            }
            var sawExponentDigit = false
            while let byte = next, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                sawExponentDigit = true
                // Clamp: beyond this the number is zero or infinite for any practical purpose.
                if exponentValue < 100_000_000 { exponentValue = exponentValue * 10 + Int(byte - UInt8(ascii: "0")) }
                next = iterator.next()
            }
            guard sawExponentDigit else { return nil }
            if exponentNegative { exponentValue = -exponentValue }
        }
        guard next == nil else { return nil }
        var exponent = exponentValue - fractionDigits
        while let last = mantissa.last, last == UInt8(ascii: "0") {
            mantissa.removeLast()
            exponent += 1
        }
        if mantissa.isEmpty {
            exponent = 0
            isNegative = false
        }
        digits = mantissa
        self.exponent = exponent
    }

    /// The exact decimal form of `number` as JSON would print it.
    init?(_ number: JSONNumber) {
        self.init(text: Array(number.jsonLiteral.utf8))
    }

    var isZero: Bool { digits.isEmpty }

    /// The digits as an unsigned integer, when they fit.
    var significand: UInt64? {
        guard digits.count <= 19 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = sum
        }
        return value
    }

    /// Whether `dividend` is an integer multiple of `divisor`, computed exactly on the decimal forms.
    /// `nil` when a significand does not fit in 64 bits (the caller falls back to floating point).
    static func isMultiple(_ dividend: DecimalDigits, of divisor: DecimalDigits) -> Bool? {
        if dividend.isZero { return true }
        guard !divisor.isZero, let x = dividend.significand, let d = divisor.significand else { return nil }
        if divisor.exponent <= dividend.exponent {
            // dividend = x·10^(ex−ed) in units of 10^ed; divisor = d. Reduce modulo d without overflow.
            let remainder = mulMod(x % d, powMod(10, dividend.exponent - divisor.exponent, d), d)
            return remainder == 0
        }
        // divisor = d·10^(ed−ex) in units of 10^ex; dividend = x.
        var scaled = d
        for _ in 0..<(divisor.exponent - dividend.exponent) {
            let (next, overflow) = scaled.multipliedReportingOverflow(by: 10)
            // A divisor larger than any 64-bit dividend cannot divide it (dividend is non-zero).
            if overflow { return false }
            scaled = next
        }
        return x % scaled == 0
    }

    private static func mulMod(_ a: UInt64, _ b: UInt64, _ m: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return m.dividingFullWidth((product.high % m, product.low)).remainder
    }

    private static func powMod(_ base: UInt64, _ exponent: Int, _ m: UInt64) -> UInt64 {
        if m == 1 { return 0 }
        var result: UInt64 = 1
        var factor = base % m
        var remaining = exponent
        while remaining > 0 {
            if remaining & 1 == 1 { result = mulMod(result, factor, m) }
            factor = mulMod(factor, factor, m)
            remaining >>= 1
        }
        return result
    }
}
