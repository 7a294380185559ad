/// Log metadata keys of the operator: constant messages, details in metadata.
public enum LoggingKeys {
    public static let workspace = "workspace"
    public static let resource = "resource"
    public static let command = "command.id"
    public static let operation = "command.op"
    public static let sequence = "command.sequence"
    public static let delivery = "command.delivery"
    public static let outcome = "command.outcome"
    public static let run = "run.id"
    public static let sync = "sync.id"
    public static let instance = "operator.instance"
}
