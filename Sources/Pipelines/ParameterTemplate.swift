import Foundation
import JSONSchema

/// `${…}` references in task parameters, filled from the run when an attempt starts:
/// `${run.id}`, `${pipeline.name}`, `${pipeline.workspace}`, `${event.input}`, `${event.subject}`,
/// `${event.stream}`, `${event.sequence}`, `${event.key}`, `${event.operation}`, `${event.slot}`,
/// `${event.payload}` and `${event.payload./json/pointer}`. A string that is one reference and
/// nothing else takes the value's JSON type; inside other text the value is written as text.
/// `$${` is a literal `${`.
public enum ParameterTemplate {
    public struct Problem: Error, Hashable, CustomStringConvertible {
        public let description: String
    }

    enum Segment: Equatable {
        case text(String)
        case reference(Reference)
    }

    enum Reference: Equatable {
        case runID, pipelineName, pipelineWorkspace
        /// A field of the event (`subject`, `key`, …).
        case event(String)
        case payload(JSONPointer)
    }

    static let eventFields: Set<String> = ["input", "subject", "stream", "sequence", "key", "operation", "slot", "pipeline", "run", "result"]

    /// The references of `text`, or the first malformed one.
    static func parse(_ text: String) throws(Problem) -> [Segment] {
        var segments: [Segment] = []
        var literal = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            let before = rest[..<start.lowerBound]
            if before.hasSuffix("$") {
                literal += before.dropLast() + "${"
                rest = rest[start.upperBound...]
                continue
            }
            literal += before
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw Problem(description: "\"${\" without a closing \"}\" in \"\(text)\"")
            }
            let name = String(rest[start.upperBound..<end])
            if !literal.isEmpty { segments.append(.text(literal)) }
            literal = ""
            segments.append(.reference(try reference(name)))
            rest = rest[rest.index(after: end)...]
        }
        literal += rest
        if !literal.isEmpty { segments.append(.text(literal)) }
        return segments
    }

    static func reference(_ name: String) throws(Problem) -> Reference {
        switch name {
        case "run.id": return .runID
        case "pipeline.name": return .pipelineName
        case "pipeline.workspace": return .pipelineWorkspace
        case "event.payload": return .payload(.root)
        default:
            if name.hasPrefix("event.payload.") {
                let pointer = String(name.dropFirst("event.payload.".count))
                do {
                    return .payload(try JSONPointer(parsing: pointer))
                } catch {
                    throw Problem(description: "${\(name)}: \"\(pointer)\" is not a JSON pointer (it starts with /, as in ${event.payload./order/id})")
                }
            }
            if name.hasPrefix("event."), eventFields.contains(String(name.dropFirst(6))) { return .event(String(name.dropFirst(6))) }
            throw Problem(description: "${\(name)} is not a known reference (run.id, pipeline.name, pipeline.workspace, event.<\(eventFields.sorted().joined(separator: "|"))>, event.payload./pointer)")
        }
    }

    /// Every malformed reference in `value`'s strings, with its JSON pointer.
    public static func problems(in value: JSONValue, at path: JSONPointer = .root) -> [(JSONPointer, String)] {
        switch value {
        case .string(let text):
            do {
                _ = try parse(text)
                return []
            } catch {
                return [(path, error.description)]
            }
        case .array(let items):
            return items.enumerated().flatMap { problems(in: $1, at: path.appending(String($0))) }
        case .object(let object):
            return object.flatMap { problems(in: $0.value, at: path.appending($0.key)) }
        default:
            return []
        }
    }

    /// What references read.
    public struct Context: Sendable {
        public var runID: String
        public var pipeline: String
        public var workspace: String
        /// The event's fields (`subject`, `key`, …, and `payload` as JSON, or as a string when the
        /// payload was not JSON).
        public var event: JSONValue?

        public init(runID: String, pipeline: String, workspace: String, event: JSONValue?) {
            self.runID = runID
            self.pipeline = pipeline
            self.workspace = workspace
            self.event = event
        }
    }

    /// `value` with every reference filled in.
    public static func render(_ value: JSONValue, _ context: Context) throws(Problem) -> JSONValue {
        switch value {
        case .string(let text):
            let segments = try parse(text)
            if segments.count == 1, case .reference(let reference) = segments[0] { return try resolve(reference, context) }
            var result = ""
            for segment in segments {
                switch segment {
                case .text(let literal): result += literal
                case .reference(let reference):
                    let resolved = try resolve(reference, context)
                    result += resolved.stringValue ?? resolved.serialized()
                }
            }
            return .string(result)
        case .array(let items):
            var rendered: [JSONValue] = []
            for item in items { rendered.append(try render(item, context)) }
            return .array(rendered)
        case .object(let object):
            var rendered = JSONObject()
            for member in object { rendered[member.key] = try render(member.value, context) }
            return .object(rendered)
        default:
            return value
        }
    }

    static func resolve(_ reference: Reference, _ context: Context) throws(Problem) -> JSONValue {
        switch reference {
        case .runID: return .string(context.runID)
        case .pipelineName: return .string(context.pipeline)
        case .pipelineWorkspace: return .string(context.workspace)
        case .event(let field):
            guard let value = context.event?.objectValue?[field] else {
                throw Problem(description: "${event.\(field)}: this run's event has no \(field) (it was started \(context.event == nil ? "by hand" : "by another kind of input"))")
            }
            return value
        case .payload(let pointer):
            guard let payload = context.event?.objectValue?["payload"] else {
                throw Problem(description: "${event.payload…}: this run's event has no payload")
            }
            if pointer.isRoot { return payload }
            guard payload.objectValue != nil || payload.arrayValue != nil else {
                throw Problem(description: "${event.payload.\(pointer)}: the event's payload is not JSON, so it has no \(pointer)")
            }
            guard let found = payload.value(at: pointer) else {
                throw Problem(description: "${event.payload.\(pointer)}: the event's payload has nothing at \(pointer)")
            }
            return found
        }
    }
}
