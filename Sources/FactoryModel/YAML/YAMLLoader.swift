import Foundation
import JSONSchema
import Yams

/// How ``YAMLLoader`` reads YAML.
public struct YAMLLoadingOptions: Sendable, Hashable {
    /// What to do with tab characters in blank and comment-only lines when the file does not
    /// parse because of them (see ``YAMLLoader``).
    public enum TabPolicy: Sendable, Hashable {
        /// Replace them with spaces when that provably changes nothing (the default).
        case repairWhenMeaningless
        /// Refuse the file with an error naming the line and column of the first tab.
        case refuse
    }

    public var tabs: TabPolicy
    /// Largest input accepted, in UTF-8 bytes.
    public var maxBytes: Int
    /// Deepest nesting of mappings and sequences accepted.
    public var maxDepth: Int
    /// Most JSON values a file may produce; bounds alias expansion ("billion laughs").
    public var maxValues: Int

    public init(tabs: TabPolicy = .repairWhenMeaningless, maxBytes: Int = 4 << 20, maxDepth: Int = 128, maxValues: Int = 1_000_000) {
        self.tabs = tabs
        self.maxBytes = maxBytes
        self.maxDepth = min(maxDepth, JSONParsingLimits.hardMaxDepth)
        self.maxValues = maxValues
    }
}

/// Reads YAML (one or more `---`-separated documents) into ``JSONValue``s.
///
/// ## YAML to JSON
/// Scalars follow the YAML 1.2 **core schema**: plain `true`/`false` (also `True`, `TRUE`, …)
/// are booleans, plain `null`, `~` and empty values are null, plain decimal, `0o` octal and `0x`
/// hexadecimal integers are integers, plain decimals and exponents are numbers, and everything else,
/// including every quoted or block scalar, is a string. So `"23474"` stays a string, `0` is an
/// integer, and YAML 1.1's `yes`/`no`/`on`/`off` stay strings. Explicit `!!str`, `!!int`,
/// `!!float`, `!!bool`, `!!null`, `!!map`, `!!seq` tags are honoured.
///
/// Refused, with the line and column: other tags (`!!binary`, `!!timestamp`, `!custom`, `!!set`),
/// `.inf` and `.nan` (JSON has no such numbers), mappings or sequences used as keys, empty keys,
/// `<<` merge keys (a YAML 1.1 feature), and duplicate keys. Plain scalar keys are used as written
/// (`1: x` has the key `"1"`), since JSON keys are strings.
///
/// Anchors and aliases are expanded, within ``YAMLLoadingOptions/maxValues`` values.
///
/// ## Tabs
/// YAML forbids tabs in indentation, and the published operator manifest indents blank and comment
/// lines with a tab. When a file does not parse, and it has such lines, the loader replaces those
/// tabs with spaces (see ``YAMLTabRepair``) and keeps the result only if deleting those lines
/// instead gives exactly the same documents, which proves the lines carry no content. The
/// repaired line numbers are reported in ``YAMLDocument/repairedTabLines``. With
/// ``YAMLLoadingOptions/TabPolicy/refuse`` it reports the first tab's line and column instead.
public enum YAMLLoader {
    /// Loads every document of `text`. Empty documents (e.g. after a trailing `---`) are skipped.
    public static func loadDocuments(_ text: String, options: YAMLLoadingOptions = YAMLLoadingOptions()) throws(ManifestError) -> [YAMLDocument] {
        guard text.utf8.count <= options.maxBytes else {
            throw ManifestError(kind: .tooLarge, message: "the YAML text is \(text.utf8.count) bytes, more than the limit of \(options.maxBytes) bytes")
        }
        try refuseInnerByteOrderMarks(text)
        let originalError: ManifestError
        do {
            return try parse(text, options: options)
        } catch {
            originalError = error
        }
        let candidates = YAMLTabRepair.candidates(in: text)
        guard originalError.kind == .syntax, let first = candidates.first else { throw originalError }

        let refusal = ManifestError(
            kind: .tabCharacter,
            message: "tab character in the indentation of a blank or comment line; YAML allows only spaces there: replace the tab with spaces"
                + (candidates.count > 1 ? " (\(candidates.count) such lines: \(candidates.prefix(8).map { String($0.line) }.joined(separator: ", ")))" : ""),
            line: first.line, column: first.column)
        guard options.tabs == .repairWhenMeaningless else { throw refusal }

        // The repaired text keeps every line number, so its errors point at the right place.
        let repaired = try parse(YAMLTabRepair.replacingTabs(in: text, on: candidates), options: options)
        let withoutLines = try? parse(YAMLTabRepair.removingLines(in: text, on: candidates), options: options)
        guard let withoutLines, withoutLines.map({ $0.value.serialized() }) == repaired.map({ $0.value.serialized() }) else {
            var changesMeaning = refusal
            changesMeaning.message = "tab character in the indentation of a line that is part of a value, so it cannot be repaired safely: replace the tab with spaces"
            throw changesMeaning
        }
        let lines = candidates.map(\.line)
        return repaired.map { $0.replacingValue($0.value, repairedTabLines: lines) }
    }

    /// Loads every document of UTF-8 `data`.
    public static func loadDocuments(_ data: Data, options: YAMLLoadingOptions = YAMLLoadingOptions()) throws(ManifestError) -> [YAMLDocument] {
        guard data.count <= options.maxBytes else {
            throw ManifestError(kind: .tooLarge, message: "the YAML text is \(data.count) bytes, more than the limit of \(options.maxBytes) bytes")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ManifestError(kind: .notUTF8, message: "the file is not UTF-8 text")
        }
        return try loadDocuments(text, options: options)
    }

    // MARK: - Parsing

    private static func parse(_ text: String, options: YAMLLoadingOptions) throws(ManifestError) -> [YAMLDocument] {
        var documents: [YAMLDocument] = []
        var valueBudget = options.maxValues
        do {
            let parser = try Parser(yaml: text, resolver: .basic, constructor: .default, encoding: .utf8)
            var number = 0
            while let root = try parser.nextRoot() {
                number += 1
                var converter = YAMLToJSONConverter(maxDepth: options.maxDepth, valueBudget: valueBudget, document: number)
                let value = try converter.convert(root)
                valueBudget = converter.valueBudget
                if case .null = value, Self.isEmptyDocument(root) { continue }
                documents.append(YAMLDocument(value: value, number: number, positions: converter.positions, scalarTexts: converter.scalarTexts))
            }
        } catch let error as ManifestError {
            throw error
        } catch let error as YamlError {
            throw manifestError(from: error, in: text)
        } catch {
            throw ManifestError(kind: .syntax, message: "YAML could not be read: \(error)")
        }
        return documents
    }

    /// YAML allows U+FEFF only at the start of the stream, and libyaml silently drops it elsewhere,
    /// even inside quoted strings, which would change a value; so it is refused instead.
    private static func refuseInnerByteOrderMarks(_ text: String) throws(ManifestError) {
        var line = 1
        var column = 1
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            if scalar == "\u{FEFF}", offset > 0 {
                throw ManifestError(
                    kind: .unsupportedYAML,
                    message: "a byte order mark (U+FEFF) is only allowed at the start of a YAML file; remove it, or write it as \\uFEFF in a double-quoted string",
                    line: line, column: column)
            }
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
    }

    private static func isEmptyDocument(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.string.isEmpty && scalar.style == .plain
    }

    private static func manifestError(from error: YamlError, in text: String) -> ManifestError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
            var message = problem
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            if character(at: mark, in: text) == "\t" {
                message += "; a tab character cannot indent YAML: replace it with spaces"
            }
            return ManifestError(kind: .syntax, message: message, line: mark.line, column: mark.column)
        case let .duplicatedKeysInMapping(duplicates, context):
            let keys = duplicates.map { "\"\($0)\"" }.joined(separator: ", ")
            return ManifestError(kind: .syntax, message: "duplicate key \(keys) in a mapping", line: context.mark.line, column: context.mark.column)
        case let .reader(problem, offset, _, _):
            var position: (line: Int, column: Int)?
            if let offset { position = lineAndColumn(ofCharacterOffset: offset, in: text) }
            return ManifestError(kind: .syntax, message: problem, line: position?.line, column: position?.column)
        default:
            return ManifestError(kind: .syntax, message: "YAML could not be read: \(error)")
        }
    }

    private static func character(at mark: Mark, in text: String) -> Unicode.Scalar? {
        let lines = text.split(separator: "\n", maxSplits: mark.line, omittingEmptySubsequences: false)
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        let scalars = Array(lines[mark.line - 1].unicodeScalars.prefix(mark.column))
        return scalars.count == mark.column ? scalars.last : nil
    }

    private static func lineAndColumn(ofCharacterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1
        var column = 1
        for character in text.prefix(offset) {
            if character == "\n" || character == "\r\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
