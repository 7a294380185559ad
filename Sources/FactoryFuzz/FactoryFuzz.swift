import Foundation
import FuzzTargets

#if FUZZING
// Built by scripts/fuzz with `--sanitize=fuzzer -Xswiftc -DFUZZING`: libFuzzer provides `main`
// and calls these. The target is chosen by the FUZZ_TARGET environment variable.

nonisolated(unsafe) private var selected: FuzzTargets.Target?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.all[name] else {
        FileHandle.standardError.write(Data("factory-fuzz: set FUZZ_TARGET to one of \(FuzzTargets.names.joined(separator: ", "))\n".utf8))
        exit(2)
    }
    selected = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected?(bytes)
    return 0
}

#else
/// Without libFuzzer: `factory-fuzz TARGET FILE...` runs a target once on each file (to replay a
/// crash with a debugger at hand); `factory-fuzz --list` names the targets.
@main
struct FactoryFuzz {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard let name = arguments.first, name != "--list", name != "--help" else {
            print("usage: factory-fuzz TARGET FILE...   (replays inputs; scripts/fuzz fuzzes)\ntargets: \(FuzzTargets.names.joined(separator: ", "))")
            return
        }
        guard let target = FuzzTargets.all[name] else {
            FileHandle.standardError.write(Data("unknown target \(name); targets: \(FuzzTargets.names.joined(separator: ", "))\n".utf8))
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
                exit(2)
            }
            target(Array(data))
            print("\(name) \(path): ok")
        }
    }
}
#endif
