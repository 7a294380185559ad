import ArgumentParser
import FactoryModel
import Foundation
import JSONSchema
import Pipelines

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
            types (hightouch, http, fivetran, dbtcloud, census, pipeline), or the types declared in --manifest. With -w, \
            the workspace must be enabled. A pipeline is also checked as its driver checks it: stage and task \
            names and references, cycles, durations, each task's spec against its type's schema, templates, cron.

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
        let problems = report.problems + Self.pipelineProblems(source, registry: registry)
        guard problems.isEmpty else {
            for problem in problems {
                print(problem)
            }
            throw ExitCode(1)
        }
        print("valid")
    }
}

extension ValidateCommand {
    /// The pipeline driver's own check of each pipeline document (names, references, cycles,
    /// durations, each task's spec against its type's schema, templates, cron), with paths; a
    /// pipeline whose spec breaks the type's schema is reported by the schema check alone.
    static func pipelineProblems(_ source: ManifestInput.Source, registry: ResourceTypeRegistry) -> [String] {
        guard let results = try? ResourceManifest.loadAll(from: source.text, format: source.format) else { return [] }
        var problems: [String] = []
        for (index, result) in results.enumerated() {
            guard case .success(let manifest) = result, manifest.resource.type == PipelineNames.type,
                let definition = registry.definition(forType: manifest.resource.type), definition.specSchema.validate(manifest.resource.spec, maxErrors: 1).isEmpty
            else { continue }
            let prefix = results.count > 1 ? "document \(index + 1) (\(manifest.name)): " : ""
            problems += PipelineSpec.problems(in: manifest, registry: registry).map { prefix + $0 }
        }
        return problems
    }
}

/// Where `validate` writes failures that are not validation results.
enum ValidateOutput {
    static func fail(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
}
