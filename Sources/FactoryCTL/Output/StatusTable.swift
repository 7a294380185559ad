import FactoryModel

// MARK: - StatusTable

/// The resource table of DESIGN.md, in the style of the seed's `dataos-ctl`:
///
/// ```
///      NAME     | VERSION |   TYPE   | WORKSPACE | STATUS |  RUNTIME  |  OWNER
/// --------------|---------|----------|-----------|--------|-----------|-----------
///  pipeline-01  | v1beta  | resource | public    | active | succeeded | iamgroot
/// ```
///
/// Each column is as wide as its longest cell plus one space on either side; headers are
/// centred (the odd space goes right), cells are left-aligned, columns are separated by `|`,
/// the header is underlined with dashes, and no line ends in spaces.
enum StatusTable {
    static let headers = ["NAME", "VERSION", "TYPE", "WORKSPACE", "STATUS", "RUNTIME", "OWNER"]

    /// The table's cells for one resource, in column order.
    static func cells(_ view: ResourceStatusView) -> [String] {
        [view.name, view.version, view.type, view.workspace, view.status, view.runtime, view.owner ?? ""]
    }

    /// The whole table, one line per resource, ending with a newline.
    static func render(_ views: [ResourceStatusView]) -> String {
        render(headers: headers, rows: views.map(cells))
    }

    /// A table of any cells (rows shorter than the header are padded with empty cells).
    static func render(headers: [String], rows: [[String]]) -> String {
        let rows = rows.map { row in (0..<headers.count).map { $0 < row.count ? row[$0] : "" } }
        let widths = headers.indices.map { column in
            rows.reduce(headers[column].count) { max($0, $1[column].count) } + 2
        }
        var lines: [String] = []
        lines.append(
            headers.indices.map { column -> String in
                let extra = widths[column] - headers[column].count
                let left = extra / 2
                return String(repeating: " ", count: left) + headers[column] + String(repeating: " ", count: extra - left)
            }.joined(separator: "|"))
        lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "|"))
        for row in rows {
            lines.append(
                headers.indices.map { column -> String in
                    let cell = " " + row[column]
                    return cell + String(repeating: " ", count: widths[column] - cell.count)
                }.joined(separator: "|"))
        }
        return lines.map(Self.trimmingTrailingSpaces).joined(separator: "\n") + "\n"
    }

    private static func trimmingTrailingSpaces(_ line: String) -> String {
        var line = Substring(line)
        while line.last == " " { line.removeLast() }
        return String(line)
    }
}
