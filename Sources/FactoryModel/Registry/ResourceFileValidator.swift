import JSONSchema

/// What `factoryctl validate` reports for one file.
public struct ResourceFileReport: Sendable, Hashable {
    /// One line per problem, e.g. `/spec/model/isSchema: expected boolean, got string`. In a file
    /// with several documents each line starts with `document N (name): `.
    public var problems: [String]
    /// How many resource documents were checked.
    public var documentCount: Int

    /// True when there are no problems.
    public var isValid: Bool { problems.isEmpty }
}

/// Validates every resource document in a manifest file against its type's spec schema, and the
/// target workspace against `enabledWorkspaces`. `factoryctl validate` is a thin wrapper around it.
public enum ResourceFileValidator {
    /// Checks `text`. Syntax and shape errors, unknown types, disabled workspaces and schema
    /// violations all become lines of the report; nothing throws.
    public static func validate(
        text: String, format: ManifestFormat, registry: ResourceTypeRegistry, workspace: String? = nil, maxErrors: Int = 100
    ) -> ResourceFileReport {
        var problems: [String] = []
        var workspaceName: WorkspaceName?
        if let workspace {
            do {
                workspaceName = try WorkspaceName(workspace)
            } catch {
                problems.append("workspace: \(error)")
            }
        }
        let documents: [YAMLDocument]
        do {
            documents = try ManifestLoader.documents(from: text, format: format)
        } catch {
            return ResourceFileReport(problems: problems + [error.description], documentCount: 0)
        }
        guard !documents.isEmpty else {
            return ResourceFileReport(problems: problems + ["the file contains no documents"], documentCount: 0)
        }
        if let workspaceName, !registry.isEnabled(workspaceName) {
            problems.append("workspace \"\(workspaceName)\" is not enabled; enabled workspaces: \(registry.enabledWorkspaces.map(\.rawValue).joined(separator: ", "))")
        }
        let several = documents.count > 1
        for document in documents {
            let manifest: ResourceManifest
            do {
                manifest = try ResourceManifest(document: document)
            } catch {
                var unattributed = error
                if !several { unattributed.document = nil }
                problems.append(unattributed.description)
                continue
            }
            let prefix = several ? "document \(document.number) (\(manifest.name)): " : ""
            // The workspace was checked once above, for the whole file.
            for problem in registry.validate(manifest, workspace: nil, maxErrors: maxErrors) {
                problems.append(prefix + problem.description)
            }
        }
        return ResourceFileReport(problems: problems, documentCount: documents.count)
    }
}
