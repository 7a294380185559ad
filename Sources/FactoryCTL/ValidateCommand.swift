import ArgumentParser
import FactoryModel
import Foundation

/// `factoryctl validate -f FILE [--manifest OPERATOR_MANIFEST] [-w WORKSPACE]`
///
/// Prints `valid` and exits 0, or prints one line per problem and exits 1. A file that cannot be
/// read (missing, a directory, not UTF-8, too large) or a bad operator manifest exits 2.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Validate resource manifests against their resource type's spec schema.",
        discussion: """
            Every resource document in FILE (YAML, several documents separated by ---, or JSON for .json files; \
            - reads standard input) is checked against the spec schema of its resource type: the built-in \
            types (hightouch, http, fivetran, dbtcloud, census), or the types declared in --manifest. With -w, \
            the workspace must be enabled.

            Prints "valid" (exit 0), or one line per problem such as \
            "/spec/model/isSchema: expected boolean, got string" (exit 1). Unreadable files exit 2.
            """)

    @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("The resource manifest file to validate (- for standard input).", valueName: "file"))
    var file: String

    @Option(name: .customLong("manifest"), help: ArgumentHelp("An operator manifest declaring resource types and enabled workspaces (default: the built-in types).", valueName: "operator-manifest"))
    var operatorManifest: String?

    @Option(name: [.customShort("w"), .customLong("workspace")], help: ArgumentHelp("Also check that this workspace is enabled.", valueName: "workspace"))
    var workspace: String?

    @Option(name: .customLong("max-errors"), help: "Most schema errors listed per document.")
    var maxErrors: Int = 100

    func run() async throws {
        let registry: ResourceTypeRegistry
        if let operatorManifest {
            do {
                registry = ResourceTypeRegistry(operatorManifest: try OperatorManifest.load(fromFile: operatorManifest))
            } catch {
                ValidateOutput.fail("operator manifest \(operatorManifest): \(error)")
                throw ExitCode(2)
            }
        } else {
            registry = .builtIn
        }

        let source: ManifestInput.Source
        switch ManifestInput.source(file) {
        case .success(let read): source = read
        case .failure(let problem):
            ValidateOutput.fail(problem.message)
            throw ExitCode(2)
        }

        let report = ResourceFileValidator.validate(
            text: source.text, format: source.format, registry: registry,
            workspace: workspace, maxErrors: max(1, maxErrors))
        guard report.isValid else {
            for problem in report.problems {
                print(problem)
            }
            throw ExitCode(1)
        }
        print("valid")
    }
}

/// Where `validate` writes failures that are not validation results.
enum ValidateOutput {
    static func fail(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
}
