import Foundation
import Testing

/// The README and docs/cli.md stay true: the configuration table lists every variable the
/// operator documents, and every factoryctl command they show uses real subcommands and options.
@Suite("README.md and docs/cli.md agree with the executables")
struct DocumentationTests {
    static func read(_ path: String) throws -> String {
        try String(contentsOf: CLIProcess.packageRoot.appendingPathComponent(path), encoding: .utf8)
    }

    @Test("the configuration table lists every variable of hightouch-operator operator sync --help")
    func configurationTable() async throws {
        let help = try await CLIProcess.run(["operator", "sync", "--help"], binary: CLIProcess.binary("hightouch-operator"))
        #expect(help.status == 0)
        let variables = Set(help.output.matches(of: /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/).map { String($0.output) })
        #expect(variables.count >= 35, "\(variables.sorted())")
        let readme = try Self.read("README.md")
        for variable in variables.sorted() {
            #expect(readme.contains("| \(variable) |"), "README.md's configuration table lacks \(variable)")
        }
    }

    @Test("every factoryctl command shown in README.md and docs/cli.md names a real subcommand and real options")
    func commandsInDocs() async throws {
        var checked = 0
        var helpCache: [String: String] = [:]
        for document in ["README.md", "docs/cli.md"] {
            for line in try Self.commandLines(in: Self.read(document)) {
                var words = line.split(separator: " ").map(String.init).dropFirst()
                guard let first = words.first else { continue }
                var path = [first]
                words = words.dropFirst()
                if first == "sim", let second = words.first {
                    path.append(second)
                    words = words.dropFirst()
                }
                let key = path.joined(separator: " ")
                if helpCache[key] == nil {
                    let help = try await CLIProcess.run(path + ["--help"])
                    #expect(help.status == 0, "\(document): factoryctl \(key) is not a subcommand")
                    helpCache[key] = help.output
                }
                let help = helpCache[key] ?? ""
                for word in words where word.hasPrefix("-") && word != "-" {
                    let option = String(word.split(separator: "=")[0])
                    #expect(help.contains(" \(option) ") || help.contains(" \(option),") || help.contains(" \(option)\n"), "\(document): `\(line)`: factoryctl \(key) has no option \(option)")
                }
                checked += 1
            }
        }
        #expect(checked >= 12, "found \(checked) commands")
    }

    /// Lines of ```sh blocks that run factoryctl (comments stripped).
    static func commandLines(in text: String) -> [String] {
        var lines: [String] = []
        var inShell = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inShell = line == "```sh"
                continue
            }
            guard inShell else { continue }
            let command = (line.split(separator: "#", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces)
            if command.hasPrefix("factoryctl ") { lines.append(command) }
        }
        return lines
    }
}
