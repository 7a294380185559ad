@testable import FactoryEngine
import FactoryState
import Foundation
import JSONSchema
import Testing

/// The claim's decisions alone, without I/O: which command may change a resource, when.
@Suite("The claim's decision")
struct ClaimPolicyTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    static func request(_ operation: ClaimRequest.Operation = .apply(manifest: ["spec": 1], specDigest: "d1", owner: nil), id: String = "c2", sequence: UInt64 = 2, type: String = "toy") -> ClaimRequest {
        ClaimRequest(
            reference: CommandReference(id: id, sequence: sequence, operation: "apply", receivedAt: now),
            workspace: "public", name: "p", type: type, operation: operation, instanceID: "me", takeoverAfter: .seconds(15)
        )
    }

    static func entity(active: ActiveCommand? = nil, last: CommandReference? = nil, digest: String = "d1", deleted: Bool = false, type: String = "toy") -> EntityRecord {
        EntityRecord(
            workspace: "public", name: "p", type: type, owner: "o", manifest: ["spec": 1], specDigest: digest, generation: 3, deleted: deleted,
            lastCommand: last, activeCommand: active, createdAt: now, updatedAt: now
        )
    }

    static func active(id: String, sequence: UInt64, owner: String = "other", silentFor seconds: Double) -> ActiveCommand {
        ActiveCommand(
            command: CommandReference(id: id, sequence: sequence, operation: "apply", receivedAt: now), owner: owner,
            heartbeatAt: now.addingTimeInterval(-seconds), stage: .triggering, triggerIntentAt: now
        )
    }

    static func reference(_ id: String, _ sequence: UInt64) -> CommandReference {
        CommandReference(id: id, sequence: sequence, operation: "apply", receivedAt: now)
    }

    func decide(_ request: ClaimRequest, _ entity: EntityRecord?, status: StatusRecord? = nil, read: Bool = false) -> ClaimDecision {
        ClaimPolicy.decide(request, entity: entity, status: status, statusRead: read, now: Self.now)
    }

    @Test("a new resource: the entity is created at generation 1 with the command active, received")
    func newResource() throws {
        guard case .write(let entity, let resumed, let replacing) = decide(Self.request(), nil) else { throw Failure("not a write") }
        #expect(entity.generation == 1 && !resumed && replacing == nil)
        #expect(entity.activeCommand?.command.id == "c2" && entity.activeCommand?.stage == .received && entity.activeCommand?.owner == "me")
        #expect(entity.type == "toy")
    }

    @Test("the same command again: a duplicate once it took effect, a resume while it is active here or silent elsewhere, a wait while another replica works on it")
    func sameCommand() throws {
        guard case .done("duplicate", _) = decide(Self.request(), Self.entity(last: Self.reference("c2", 2))) else { throw Failure("not a duplicate") }
        guard case .write(let resumed, true, nil) = decide(Self.request(), Self.entity(active: Self.active(id: "c2", sequence: 2, owner: "me", silentFor: 1))) else {
            throw Failure("not resumed")
        }
        #expect(resumed.activeCommand?.owner == "me" && resumed.activeCommand?.heartbeatAt == Self.now)
        #expect(resumed.activeCommand?.stage == .triggering, "a resume keeps the stage reached")
        guard case .write(let taken, true, nil) = decide(Self.request(), Self.entity(active: Self.active(id: "c2", sequence: 2, silentFor: 20))) else {
            throw Failure("a silent holder's command was not taken over")
        }
        #expect(taken.activeCommand?.owner == "me")
        guard case .wait(let delay, let why) = decide(Self.request(), Self.entity(active: Self.active(id: "c2", sequence: 2, silentFor: 5))) else {
            throw Failure("a live holder's command was taken")
        }
        #expect(delay >= .seconds(9) && why.contains("other"))
    }

    @Test("a driver whose every run command runs (pipelines): an older run is not superseded, it waits for the active command and then takes effect; an older apply still is superseded")
    func olderRunOfEventDriver() throws {
        var run = Self.request(.run, sequence: 2)
        run.everyRunCommandRuns = true
        guard case .write(let entity, false, nil) = decide(run, Self.entity(last: Self.reference("c5", 5))) else {
            throw Failure("an older run after a newer command was not written")
        }
        #expect(entity.activeCommand?.command.id == "c2" && entity.lastCommand?.id == "c5")
        guard case .wait(.seconds(1), _) = decide(run, Self.entity(active: Self.active(id: "c5", sequence: 5, silentFor: 1))) else {
            throw Failure("an older run did not wait for the active command")
        }
        guard case .done("duplicate", _) = decide(run, Self.entity(last: Self.reference("c2", 2))) else { throw Failure("the same run again is not a duplicate") }
        var apply = Self.request(sequence: 2)
        apply.everyRunCommandRuns = true
        guard case .done("superseded", _) = decide(apply, Self.entity(last: Self.reference("c5", 5))) else { throw Failure("an older apply was not superseded") }
        guard case .done("superseded", _) = decide(Self.request(.run, sequence: 2), Self.entity(last: Self.reference("c5", 5))) else {
            throw Failure("an older run of another type was not superseded")
        }
    }

    @Test("stream order: an older command is superseded, a newer one waits for the active one, an orphaned one is replaced")
    func order() throws {
        guard case .done("superseded", _) = decide(Self.request(sequence: 2), Self.entity(active: Self.active(id: "c5", sequence: 5, silentFor: 1))) else {
            throw Failure("older than the active command")
        }
        guard case .done("superseded", _) = decide(Self.request(sequence: 2), Self.entity(last: Self.reference("c5", 5))) else {
            throw Failure("older than the last command")
        }
        guard case .wait(.seconds(1), _) = decide(Self.request(sequence: 9), Self.entity(active: Self.active(id: "c5", sequence: 5, silentFor: 30))) else {
            throw Failure("a newer command did not wait")
        }
        let changed = Self.request(.apply(manifest: ["spec": 9], specDigest: "d9", owner: nil), sequence: 9)
        guard case .write(_, false, "c5") = decide(changed, Self.entity(active: Self.active(id: "c5", sequence: 5, silentFor: 61))) else {
            throw Failure("an orphan was not replaced")
        }
    }

    @Test("a cancel takes no part in stream order: an older command waits for an active cancel and is not superseded by a newer one; an older cancel is not superseded")
    func cancelsOutsideTheOrder() throws {
        func cancelReference(_ id: String, _ sequence: UInt64) -> CommandReference {
            CommandReference(id: id, sequence: sequence, operation: "cancel", receivedAt: Self.now)
        }
        var activeCancel = Self.active(id: "c5/cancel", sequence: 5, silentFor: 1)
        activeCancel.command = cancelReference("c5/cancel", 5)
        guard case .wait(.seconds(1), _) = decide(Self.request(.run, sequence: 2), Self.entity(active: activeCancel)) else {
            throw Failure("an older run was superseded by an active cancel")
        }
        guard case .write(let entity, false, nil) = decide(Self.request(.run, sequence: 2), Self.entity(last: cancelReference("c5/cancel", 5))) else {
            throw Failure("an older run was superseded by a cancel that was last (state written before cancels stopped being remembered)")
        }
        #expect(entity.activeCommand?.command.id == "c2")
        var cancel = Self.request(.cancel, id: "c1/cancel", sequence: 1)
        cancel.reference.operation = "cancel"
        guard case .write(_, false, nil) = decide(cancel, Self.entity(last: Self.reference("c5", 5))) else { throw Failure("an older cancel was superseded") }
        guard case .wait(.seconds(1), _) = decide(cancel, Self.entity(active: Self.active(id: "c5", sequence: 5, silentFor: 1))) else {
            throw Failure("an older cancel did not wait for the active command")
        }
        // Other commands keep their order.
        guard case .done("superseded", _) = decide(Self.request(.run, sequence: 2), Self.entity(last: Self.reference("c5", 5))) else {
            throw Failure("an older run after a newer run was not superseded")
        }
    }

    @Test("an apply of the applied spec needs the status: unchanged when it is active at that generation, applied again otherwise")
    func unchangedApply() throws {
        let entity = Self.entity(last: Self.reference("c1", 1))
        guard case .needsStatus = decide(Self.request(), entity) else { throw Failure("decided without the status") }
        var status = StatusRecord(workspace: "public", name: "p", type: "toy", phase: .active, at: Self.now)
        status.observedGeneration = 3
        guard case .done("unchanged", _) = decide(Self.request(), entity, status: status, read: true) else { throw Failure("not unchanged") }
        status.phase = .error
        guard case .write(let again, false, nil) = decide(Self.request(), entity, status: status, read: true) else { throw Failure("an errored resource was not applied again") }
        #expect(again.generation == 3, "same spec, same generation")
        guard case .write(let changed, false, nil) = decide(Self.request(.apply(manifest: ["spec": 2], specDigest: "d2", owner: nil)), entity) else {
            throw Failure("a changed spec")
        }
        #expect(changed.generation == 4 && changed.manifest == ["spec": 2] && changed.owner == "o")
    }

    @Test("run needs an applied resource; delete of nothing is nothing; a name held by another type is refused")
    func runDeleteAndTypes() throws {
        guard case .refuse("notApplied", _) = decide(Self.request(.run), nil) else { throw Failure("run of nothing") }
        guard case .refuse("notApplied", _) = decide(Self.request(.run), Self.entity(deleted: true)) else { throw Failure("run of a deleted resource") }
        guard case .write(let running, false, nil) = decide(Self.request(.run), Self.entity(last: Self.reference("c1", 1))) else { throw Failure("run") }
        #expect(running.activeCommand?.stage == .triggering && running.activeCommand?.triggerIntentAt == Self.now)
        guard case .done("nothingToDelete", _) = decide(Self.request(.delete), nil) else { throw Failure("delete of nothing") }
        guard case .write(let deleted, false, nil) = decide(Self.request(.delete), Self.entity()) else { throw Failure("delete") }
        #expect(deleted.deleted && deleted.generation == 4)
        guard case .refuse("typeMismatch", let message) = decide(Self.request(type: "toy"), Self.entity(type: "hightouch")) else { throw Failure("type") }
        #expect(message.contains("hightouch") && message.contains("toy"))
        guard case .write(let reused, false, nil) = decide(Self.request(type: "toy"), Self.entity(deleted: true, type: "hightouch")) else {
            throw Failure("a deleted resource's name could not be reused")
        }
        #expect(reused.type == "toy")
    }
}
