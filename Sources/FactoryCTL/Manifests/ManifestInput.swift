import FactoryModel
import Foundation
import JSONSchema
import Pipelines

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - ManifestInput

/// The resource manifests `apply` publishes: read from files (YAML, several documents each, or
/// JSON for `.json`) or standard input (`-`), and validated as `factoryctl validate` does before
/// anything is sent.
enum ManifestInput {
    /// One resource document, ready to publish.
    struct Document: Sendable {
        /// Where it came from: `examples/resource.yaml` or `stdin`, with `#2` for a later document.
        var origin: String
        var manifest: ResourceManifest
    }

    /// What reading and validating gave: the documents, or one line per problem.
    struct Report: Sendable {
        var documents: [Document] = []
        var problems: [String] = []
    }

    /// A source's text, how to parse it, and how problems name it.
    struct Source {
        var text: String
        var format: ManifestFormat
        var origin: String
    }

    /// Why a source could not be read, as one line.
    struct SourceProblem: Error {
        var message: String
    }

    /// Reads one source: a file, or `-` for standard input (YAML, or JSON when it starts with `{`).
    static func source(_ path: String, readStandardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }) -> Result<Source, SourceProblem> {
        guard path == "-" else {
            do {
                return .success(Source(text: try ManifestLoader.readText(fromFile: path), format: ManifestFormat.forFile(path: path), origin: path))
            } catch {
                return .failure(SourceProblem(message: error.description))
            }
        }
        let data = readStandardInput()
        guard data.count <= ManifestLoader.maxFileBytes else {
            return .failure(SourceProblem(message: "stdin: larger than the limit of \(ManifestLoader.maxFileBytes) bytes"))
        }
        guard let decoded = String(validating: data, as: UTF8.self) else {
            return .failure(SourceProblem(message: "stdin: not UTF-8 text"))
        }
        // JSON piped in (e.g. from another tool) gets the strict parser's precise errors.
        return .success(Source(text: decoded, format: decoded.drop { $0.isWhitespace }.first == "{" ? .json : .yaml, origin: "stdin"))
    }

    /// Reads every source; `-` is standard input (read once).
    static func load(
        paths: [String], registry: ResourceTypeRegistry, workspace: WorkspaceName, readStandardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }
    ) -> Report {
        var report = Report()
        var standardInputRead = false
        for path in paths {
            if path == "-" {
                guard !standardInputRead else {
                    report.problems.append("-f - given twice: standard input can be read once")
                    continue
                }
                standardInputRead = true
            }
            let text: String
            let format: ManifestFormat
            let origin: String
            switch source(path, readStandardInput: readStandardInput) {
            case .success(let read): (text, format, origin) = (read.text, read.format, read.origin)
            case .failure(let problem):
                report.problems.append(problem.message)
                continue
            }
            let validation = ResourceFileValidator.validate(text: text, format: format, registry: registry, workspace: workspace.rawValue)
            guard validation.isValid else {
                report.problems += validation.problems.map { "\(origin): \($0)" }
                continue
            }
            do {
                let results = try ResourceManifest.loadAll(from: text, format: format)
                for (index, result) in results.enumerated() {
                    switch result {
                    case .success(let manifest):
                        let documentOrigin = results.count > 1 ? "\(origin)#\(index + 1)" : origin
                        // A pipeline is checked in full, as the operator's driver will.
                        let problems = PipelineSpec.problems(in: manifest, registry: registry)
                        guard problems.isEmpty else {
                            report.problems += problems.map { "\(documentOrigin): \($0)" }
                            continue
                        }
                        report.documents.append(Document(origin: documentOrigin, manifest: manifest))
                    case .failure(let error):
                        report.problems.append("\(origin): \(error)")
                    }
                }
            } catch {
                report.problems.append("\(origin): \(error)")
            }
        }
        if report.problems.isEmpty, report.documents.isEmpty {
            report.problems.append("no resource documents in \(paths.joined(separator: ", "))")
        }
        return report
    }

    // MARK: - Owner

    /// The manifest with `owner` set in its meta section when it has none. The operator shows
    /// it in the table's OWNER column; a manifest's own `owner` always wins.
    static func withOwner(_ owner: String?, _ manifest: ResourceManifest) -> ResourceManifest {
        guard let owner, !owner.isEmpty, manifest.meta.additionalFields["owner"] == nil else { return manifest }
        var manifest = manifest
        manifest.meta.additionalFields["owner"] = .string(owner)
        return manifest
    }

    /// `$USER`, else `$LOGNAME`, else the account name of the effective user: who runs factoryctl.
    static func defaultOwner(environment: [String: String]) -> String? {
        if let name = [environment["USER"], environment["LOGNAME"]].compactMap({ $0 }).first(where: { !$0.isEmpty }) {
            return name
        }
        guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return nil }
        return String(cString: name)
    }
}
