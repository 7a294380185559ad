/// A check the task sets around a call that must not reach the vendor once it is no longer
/// wanted: ``VendorHTTPExecutor`` runs it right before each attempt is sent, after the attempt's
/// rate-limit permit, and sends nothing if it throws (its error is thrown as is).
///
/// The operator engine sets it around a trigger: the command's claim may have been taken over
/// while the trigger waited for a permit (a busy client waits up to a whole rate-limit window),
/// and a trigger sent then would be a second run beside the new holder's. The check confirms the
/// claim (writing it again if it is old) so the request leaves only while the command is still
/// this replica's.
public struct VendorSendGuard: Sendable {
    // A struct, not a bare closure, as the task-local's value: the release build of a task-local
    // of optional function type crashed in swift_task_localValuePush (Swift 6.3, found by
    // `factory-bench pipelines`).
    @TaskLocal public static var current: VendorSendGuard?

    public let check: @Sendable () async throws -> Void

    public init(_ check: @escaping @Sendable () async throws -> Void) {
        self.check = check
    }
}
