#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the process environment without Foundation.
enum ProcessEnvironment {
    static func string(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    static func integer(_ name: String) -> Int? {
        string(name).flatMap { Int($0) }
    }
}
