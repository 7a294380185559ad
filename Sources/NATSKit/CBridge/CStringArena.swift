#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns C strings (and arrays of them) for the duration of one C call that takes a config struct
/// full of `const char *` fields, so that those fields never point at freed Swift storage.
/// Everything allocated is freed when the arena is.
final class CStringArena {
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private var arrays: [UnsafeMutablePointer<UnsafePointer<CChar>?>] = []
    private var int64Arrays: [UnsafeMutablePointer<Int64>] = []

    init() {}

    deinit {
        for pointer in strings { free(pointer) }
        for pointer in arrays { pointer.deallocate() }
        for pointer in int64Arrays { pointer.deallocate() }
    }

    /// A C copy of `string`, or nil for nil.
    func string(_ string: String?) -> UnsafePointer<CChar>? {
        guard let string else { return nil }
        guard let copy = strdup(string) else { return nil }
        strings.append(copy)
        return UnsafePointer(copy)
    }

    /// A C array of C strings, as cnats' `const char **` fields expect.
    func stringArray(_ values: [String]) -> UnsafeMutablePointer<UnsafePointer<CChar>?>? {
        guard !values.isEmpty else { return nil }
        let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: values.count)
        for (index, value) in values.enumerated() {
            array[index] = string(value)
        }
        arrays.append(array)
        return array
    }

    /// A C array of int64 values (e.g. a consumer's back-off durations in nanoseconds).
    func int64Array(_ values: [Int64]) -> UnsafeMutablePointer<Int64>? {
        guard !values.isEmpty else { return nil }
        let array = UnsafeMutablePointer<Int64>.allocate(capacity: values.count)
        array.initialize(from: values, count: values.count)
        int64Arrays.append(array)
        return array
    }
}
