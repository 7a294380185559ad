import FactoryModel
import Foundation
import JSONSchema

/// docker-compose.yml, read with the project's YAML loader (YAML 1.2 core schema; anchors and
/// aliases expanded) into JSON, with accessors for what the consistency tests look at.
struct ComposeFile {
    static let url = CLIProcess.packageRoot.appendingPathComponent("docker-compose.yml")

    let json: JSONValue

    static func load() throws -> ComposeFile {
        let documents = try YAMLLoader.loadDocuments(try String(contentsOf: url, encoding: .utf8))
        guard documents.count == 1, let document = documents.first else {
            throw ComposeError("docker-compose.yml must hold one YAML document, found \(documents.count)")
        }
        return ComposeFile(json: document.value)
    }

    var serviceNames: [String] { json["services"]?.objectValue?.keys ?? [] }

    func service(_ name: String) throws -> Service {
        guard let value = json["services"]?[name] else { throw ComposeError("no service \(name)") }
        return Service(name: name, json: value)
    }

    var services: [Service] { serviceNames.compactMap { try? service($0) } }

    struct Service {
        let name: String
        let json: JSONValue

        var image: String? { json["image"]?.stringValue }
        var builtHere: Bool { json["build"] != nil }
        var command: [String] { json["command"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        var hostname: String? { json["hostname"]?.stringValue }

        /// `environment` as a map (the file uses the mapping form; values as written).
        var environment: [String: String] {
            var environment: [String: String] = [:]
            for member in json["environment"]?.objectValue ?? JSONObject() {
                switch member.value {
                case .string(let text): environment[member.key] = text
                case .number(let number): environment[member.key] = number.description
                case .bool(let flag): environment[member.key] = flag ? "true" : "false"
                default: break
                }
            }
            return environment
        }

        /// `"HOST:CONTAINER"` port mappings.
        var ports: [(host: Int, container: Int)] {
            (json["ports"]?.arrayValue ?? []).compactMap { value -> (Int, Int)? in
                let parts = (value.stringValue ?? "").split(separator: ":")
                guard parts.count == 2, let host = Int(parts[0]), let container = Int(parts[1]) else { return nil }
                return (host, container)
            }
        }

        var healthcheck: [String] { json["healthcheck"]?["test"]?.arrayValue?.compactMap(\.stringValue) ?? [] }
        var dependsOn: [String] { json["depends_on"]?.objectValue?.keys ?? [] }

        /// `--name=value` or `--name value` in the command.
        func flag(_ name: String) -> String? {
            for (index, word) in command.enumerated() {
                if word.hasPrefix("--\(name)=") { return String(word.dropFirst(name.count + 3)) }
                if word == "--\(name)", index + 1 < command.count { return command[index + 1] }
            }
            return nil
        }

        func hasFlag(_ name: String) -> Bool {
            command.contains { $0 == "--\(name)" || $0.hasPrefix("--\(name)=") }
        }
    }
}

struct ComposeError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
