import Foundation
import Testing

@testable import FactoryModel

@Suite("Internals")
struct InternalsTests {
    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hexDigest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hexDigest(Array(repeating: UInt8(ascii: "a"), count: 1_000_000)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

/// Runs the built `factoryctl` (`swift build --product factoryctl`); skipped when it is not built.
enum FactoryCTLBinary {
    static let url = Fixtures.packageRoot.appendingPathComponent(".build/debug/factoryctl")
    static var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: url.path) }
}

@Suite("factoryctl validate (binary)", .enabled(if: FactoryCTLBinary.isBuilt))
struct CommandLineTests {
    static let binary = FactoryCTLBinary.url

    struct Outcome {
        var status: Int32
        var output: String
        var errorOutput: String
    }

    static func run(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["validate"] + arguments
        process.currentDirectoryURL = Fixtures.packageRoot
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: outputData, as: UTF8.self), errorOutput: String(decoding: errorData, as: UTF8.self))
    }

    @Test func validFileExitsZero() throws {
        let outcome = try Self.run(["-f", "examples/resource.yaml", "--manifest", "examples/operator.yaml", "-w", "public"])
        #expect(outcome.status == 0)
        #expect(outcome.output == "valid\n")
        let published = try Self.run(["-f", "examples/resource.yaml", "--manifest", Fixtures.url("operator.published.yaml").path])
        #expect(published.status == 0)
    }

    @Test func invalidFileExitsOneWithOneLinePerError() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("factoryctl-invalid-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        let text = try Fixtures.text("resource.yaml")
            .replacingOccurrences(of: "isSchema: false", with: "isSchema: \"false\"")
            .replacingOccurrences(of: "\"disabled\": false", with: "\"disabled\": 0")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let outcome = try Self.run(["-f", file.path, "-w", "prod"])
        #expect(outcome.status == 1)
        #expect(outcome.output == """
            workspace "prod" is not enabled; enabled workspaces: public, sandbox
            /spec/model/isSchema: expected boolean, got string
            /spec/sync/disabled: expected boolean, got integer

            """)
    }

    @Test func unreadableFileExitsTwo() throws {
        let outcome = try Self.run(["-f", "does-not-exist.yaml"])
        #expect(outcome.status == 2)
        #expect(outcome.errorOutput.contains("does-not-exist.yaml: no such file"))
        let directory = try Self.run(["-f", "examples"])
        #expect(directory.status == 2)
    }
}
