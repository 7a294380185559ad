import ArgumentParser
import FactoryModel
import Foundation
import Yams

// MARK: - OutputFormat

/// `-o`: the table (with `-d`, the detail), or the whole status view as JSON or YAML.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json, yaml
}

// MARK: - StatusDocument

/// The status view as a document: the wire view the operator answers with, fields in the
/// order of the table and then the detail.
enum StatusDocument {
    static func json<Value: Encodable>(_ value: Value) throws(CLIError) -> String {
        let encoder = JSONEncoder()
        // Sorted: Foundation's encoder does not keep field order on Linux, and a stable order
        // diffs well. (YAML keeps the view's order: table columns, then the detail.)
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
        } catch {
            throw .failed("cannot write the status as JSON: \(error)")
        }
    }

    static func yaml<Value: Encodable>(_ value: Value) throws(CLIError) -> String {
        do {
            return try YAMLEncoder().encode(value)
        } catch {
            throw .failed("cannot write the status as YAML: \(error)")
        }
    }

    static func render<Value: Encodable>(_ value: Value, as format: OutputFormat) throws(CLIError) -> String {
        switch format {
        case .json: return try json(value)
        case .yaml: return try yaml(value)
        case .table: throw .invalidInput("a table is not a document; use -o json or -o yaml")
        }
    }
}
