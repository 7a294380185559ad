import Foundation
import JSONSchema

/// The text format of a manifest file.
public enum ManifestFormat: String, Sendable, Hashable {
    /// YAML, possibly several `---`-separated documents.
    case yaml
    /// One strict JSON document.
    case json

    /// `.json` files are JSON; everything else is read as YAML (which also accepts most JSON).
    public static func forFile(path: String) -> ManifestFormat {
        path.lowercased().hasSuffix(".json") ? .json : .yaml
    }
}

/// Reads manifest files and text into documents.
public enum ManifestLoader {
    /// Largest manifest file read: 4 MiB.
    public static let maxFileBytes = 4 << 20

    /// The documents in `text`.
    public static func documents(
        from text: String, format: ManifestFormat, yamlOptions: YAMLLoadingOptions = YAMLLoadingOptions()
    ) throws(ManifestError) -> [YAMLDocument] {
        switch format {
        case .yaml:
            return try YAMLLoader.loadDocuments(text, options: yamlOptions)
        case .json:
            do {
                let limits = JSONParsingLimits(maxBytes: yamlOptions.maxBytes, maxDepth: yamlOptions.maxDepth, maxStringBytes: yamlOptions.maxBytes)
                return [YAMLDocument(value: try JSONValue(parsing: text, limits: limits), number: 1)]
            } catch {
                let kind: ManifestError.Kind = error.reason == .inputTooLarge ? .tooLarge : .syntax
                return try { () throws(ManifestError) -> [YAMLDocument] in
                    throw ManifestError(kind: kind, message: error.message, line: error.line, column: error.column)
                }()
            }
        }
    }

    /// The documents in the file at `path` (format from its extension, see ``ManifestFormat``).
    public static func documents(
        fromFile path: String, yamlOptions: YAMLLoadingOptions = YAMLLoadingOptions()
    ) throws(ManifestError) -> [YAMLDocument] {
        let text = try readText(fromFile: path)
        return try documents(from: text, format: ManifestFormat.forFile(path: path), yamlOptions: yamlOptions)
    }

    /// The UTF-8 text of the file at `path`, with a leading byte order mark removed.
    public static func readText(fromFile path: String) throws(ManifestError) -> String {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ManifestError(kind: .unreadable, message: "\(path): no such file")
        }
        guard !isDirectory.boolValue else {
            throw ManifestError(kind: .unreadable, message: "\(path) is a directory, not a manifest file")
        }
        let data: Data
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            data = try handle.read(upToCount: maxFileBytes + 1) ?? Data()
        } catch {
            throw ManifestError(kind: .unreadable, message: "\(path) cannot be read: \(error.localizedDescription)")
        }
        guard data.count <= maxFileBytes else {
            throw ManifestError(kind: .tooLarge, message: "\(path) is larger than the limit of \(maxFileBytes) bytes")
        }
        var bytes = data[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ManifestError(kind: .notUTF8, message: "\(path) is not UTF-8 text")
        }
        return text
    }
}
