import JSONSchema

/// The workspace, resource name and operation a command names, read on a best-effort basis from
/// raw bytes, even when the command is invalid (truncated, oversize, schema violations…). The
/// operator uses it to report a refused command on that resource's status.
///
/// Only values that follow the name rule are returned, so they are always safe as KV keys.
public struct CommandIdentity: Sendable, Hashable {
    public var workspace: WorkspaceName?
    public var resourceName: ResourceName?
    public var operation: CommandOperation?

    public init(workspace: WorkspaceName? = nil, resourceName: ResourceName? = nil, operation: CommandOperation? = nil) {
        self.workspace = workspace
        self.resourceName = resourceName
        self.operation = operation
    }

    /// At most this many bytes are examined, however large the input.
    public static let scanLimit = 64 << 10

    /// Reads what it can from `bytes`; never throws, never reads more than ``scanLimit`` bytes.
    ///
    /// Well-formed JSON is read structurally; anything else is scanned token by token (tracking
    /// nesting), so a truncated or corrupted command still yields the names it contains.
    public static func identify(_ bytes: some Collection<UInt8>) -> CommandIdentity {
        let prefix = Array(bytes.prefix(scanLimit))
        if prefix.count == bytes.count, let value = try? JSONValue(parsing: prefix, limits: JSONParsingLimits(maxBytes: scanLimit, maxDepth: 64, maxStringBytes: scanLimit)) {
            return identify(json: value)
        }
        return scan(prefix)
    }

    /// Reads what it can from a parsed command.
    public static func identify(json value: JSONValue) -> CommandIdentity {
        var identity = CommandIdentity()
        identity.workspace = value["workspace"]?.stringValue.flatMap { try? WorkspaceName($0) }
        identity.resourceName = value["resource"]?["name"]?.stringValue.flatMap { try? ResourceName($0) }
        identity.operation = value["op"]?.stringValue.flatMap(CommandOperation.init(rawValue:))
        return identity
    }

    // MARK: - Tolerant scan

    private enum Container {
        case object(key: String?, expectingKey: Bool)
        case array
    }

    /// A forgiving tokenizer: strings, structure characters, and everything else skipped.
    private static func scan(_ bytes: [UInt8]) -> CommandIdentity {
        var identity = CommandIdentity()
        var stack: [Container] = []
        /// The key under which each open container was entered (`resource` for the manifest).
        var enteredUnder: [String?] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var key: String?
                if case .object(let currentKey, false)? = stack.last { key = currentKey }
                enteredUnder.append(key)
                stack.append(byte == UInt8(ascii: "{") ? .object(key: nil, expectingKey: true) : .array)
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty {
                    stack.removeLast()
                    enteredUnder.removeLast()
                }
                index += 1
            case UInt8(ascii: ","):
                if case .object? = stack.last { stack[stack.count - 1] = .object(key: nil, expectingKey: true) }
                index += 1
            case UInt8(ascii: ":"):
                if case .object(let key, true)? = stack.last { stack[stack.count - 1] = .object(key: key, expectingKey: false) }
                index += 1
            case UInt8(ascii: "\""):
                let (string, next) = readString(bytes, from: index)
                index = next
                guard let string, case .object(let key, let expectingKey)? = stack.last else { continue }
                if expectingKey {
                    stack[stack.count - 1] = .object(key: string, expectingKey: true)
                    continue
                }
                if stack.count == 1 {
                    if key == "workspace", identity.workspace == nil { identity.workspace = try? WorkspaceName(string) }
                    if key == "op", identity.operation == nil { identity.operation = CommandOperation(rawValue: string) }
                } else if stack.count == 2, enteredUnder.last == "resource", key == "name", identity.resourceName == nil {
                    identity.resourceName = try? ResourceName(string)
                }
            default:
                index += 1
            }
        }
        return identity
    }

    /// Reads the string starting at the quote at `start`; `nil` when it is unterminated or invalid.
    private static func readString(_ bytes: [UInt8], from start: Int) -> (String?, Int) {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"):
                index += 2
            case UInt8(ascii: "\""):
                let literal = bytes[start...index]
                return ((try? JSONValue(parsing: literal))?.stringValue, index + 1)
            default:
                index += 1
            }
        }
        return (nil, bytes.count)
    }
}
