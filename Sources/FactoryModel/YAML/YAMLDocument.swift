import JSONSchema

/// A line and column in a YAML file (1-based; columns count Unicode scalars).
public struct YAMLSourcePosition: Sendable, Hashable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// One YAML document converted to JSON, with where each value came from.
public struct YAMLDocument: Sendable {
    /// The document as JSON.
    public let value: JSONValue
    /// 1-based position of the document in its file.
    public let number: Int
    /// Lines whose tab characters the loader replaced with spaces (see ``YAMLLoader``); empty for
    /// a file that needed no repair.
    public let repairedTabLines: [Int]

    let positions: [JSONPointer: YAMLSourcePosition]
    let scalarTexts: [JSONPointer: String]

    init(
        value: JSONValue, number: Int, repairedTabLines: [Int] = [],
        positions: [JSONPointer: YAMLSourcePosition] = [:], scalarTexts: [JSONPointer: String] = [:]
    ) {
        self.value = value
        self.number = number
        self.repairedTabLines = repairedTabLines
        self.positions = positions
        self.scalarTexts = scalarTexts
    }

    /// Where the value at `pointer` starts; for a missing value, where its nearest present parent
    /// starts. `nil` for documents that did not come from YAML.
    public func position(of pointer: JSONPointer) -> YAMLSourcePosition? {
        var current: JSONPointer? = pointer
        while let candidate = current {
            if let position = positions[candidate] { return position }
            current = candidate.parent
        }
        return nil
    }

    /// The text as written of a number, boolean or null scalar at `pointer` (e.g. `0x1F`, `True`),
    /// or `nil` for strings, collections and missing values.
    public func sourceText(of pointer: JSONPointer) -> String? {
        scalarTexts[pointer]
    }

    /// The same document with a different value (positions are kept).
    func replacingValue(_ newValue: JSONValue, repairedTabLines lines: [Int]) -> YAMLDocument {
        YAMLDocument(value: newValue, number: number, repairedTabLines: lines, positions: positions, scalarTexts: scalarTexts)
    }
}
