/// Finds and rewrites tab characters that strict YAML refuses but that carry no content.
///
/// The published operator manifest indents some blank and comment lines with a tab (line 13,
/// column 1 first). YAML forbids tabs in indentation, so strict parsers (libyaml, hence Yams)
/// refuse the file, although a person reads those lines as blank lines and comments.
///
/// The repair is deliberately narrow:
/// - it only touches lines made of whitespace alone, or of whitespace followed by `#`
///   (a comment), whose leading whitespace contains a tab;
/// - it only replaces those leading tabs, each by one space (so every column stays where it was);
/// - ``YAMLLoader`` uses it only when the file does not parse as it is, and keeps the result only
///   when removing those lines altogether yields exactly the same documents. That check proves
///   the lines are not content (a tab line inside a block scalar or a quoted string *is* content,
///   and removing it would change the value), so the repair can never change what the file means.
enum YAMLTabRepair {
    struct Candidate: Equatable {
        /// 1-based line.
        let line: Int
        /// 1-based column of the first tab.
        let column: Int
    }

    /// Blank or comment-only lines with a tab in their leading whitespace.
    static func candidates(in text: String) -> [Candidate] {
        guard text.utf8.contains(UInt8(ascii: "\t")) else { return [] }
        var found: [Candidate] = []
        for (offset, line) in lines(of: text).enumerated() {
            if let column = firstRepairableTabColumn(line) {
                found.append(Candidate(line: offset + 1, column: column))
            }
        }
        return found
    }

    /// `text` with the leading tabs of the `candidates`' lines replaced by spaces.
    static func replacingTabs(in text: String, on candidates: [Candidate]) -> String {
        let lineNumbers = Set(candidates.map(\.line))
        let rewritten = lines(of: text).enumerated().map { offset, line -> [UInt8] in
            guard lineNumbers.contains(offset + 1) else { return Array(line) }
            let indentation = line.prefix { $0 == space || $0 == tab }
            return Array(repeating: space, count: indentation.count) + line.dropFirst(indentation.count)
        }
        return String(decoding: Array(rewritten.joined(separator: [newline])), as: UTF8.self)
    }

    /// `text` without the `candidates`' lines.
    static func removingLines(in text: String, on candidates: [Candidate]) -> String {
        let lineNumbers = Set(candidates.map(\.line))
        let kept = lines(of: text).enumerated()
            .filter { !lineNumbers.contains($0.offset + 1) }
            .map(\.element)
        return String(decoding: Array(kept.joined(separator: [newline])), as: UTF8.self)
    }

    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let newline = UInt8(ascii: "\n")

    /// Lines split on `\n` as bytes (a `\r` before it stays with the line).
    private static func lines(of text: String) -> [ArraySlice<UInt8>] {
        Array(text.utf8).split(separator: newline, omittingEmptySubsequences: false)
    }

    private static func firstRepairableTabColumn(_ line: ArraySlice<UInt8>) -> Int? {
        var content = line
        if content.last == UInt8(ascii: "\r") { content = content.dropLast() }
        let indentation = content.prefix { $0 == space || $0 == tab }
        guard let tabIndex = indentation.firstIndex(of: tab) else { return nil }
        let rest = content.dropFirst(indentation.count)
        guard rest.isEmpty || rest.first == UInt8(ascii: "#") else { return nil }
        // Indentation is ASCII, so the byte offset is the column.
        return tabIndex - indentation.startIndex + 1
    }
}
