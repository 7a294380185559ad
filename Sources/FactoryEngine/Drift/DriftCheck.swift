import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Logging

/// The leader's drift check of one deployment: every `interval`, each active resource's vendor
/// objects are compared with its spec (the driver's `drift`), spread evenly over the interval so
/// the vendor sees a steady trickle within its rate limit, and what differs is repaired by ensuring
/// the objects again. Each repair is recorded as the status's `lastDrift` and counted in
/// `factory_drift_repairs_total{type, kind}`.
///
/// A resource with a command in progress is left to that command. The repair's status write is a
/// compare-and-set, so a command that changes the resource meanwhile is never overwritten.
///
/// A repair never takes over someone else's object: when the driver finds one under the spec's
/// names (a vanished sync replaced by hand), nothing is changed at the vendor; the resource goes to
/// `error` with the refusal as its `lastError` (`foreignObject`), counted as kind `foreign`, and
/// waits for the user (`factoryctl apply --adopt`, or another slug). Being in `error`, it is not
/// checked again until a command makes it active.
struct DriftCheck: Sendable {
    let deployment: Deployment
    let logger: Logger

    /// One pass: looks at each resource the read model holds, `spacing` apart.
    func pass(spacing: Duration, isLeader: @Sendable () -> Bool) async {
        let candidates = deployment.readModel.activeResources()
        for resource in candidates {
            guard !Task.isCancelled, isLeader() else { return }
            await check(workspace: resource.workspace, name: resource.name)
            try? await Task.sleep(for: spacing)
        }
    }

    /// Checks one resource, reading its documents afresh; repairs what differs.
    func check(workspace: String, name: String) async {
        let driver = deployment.hosted.driver
        let store = deployment.store
        let label = "\(workspace)/\(name)"
        do {
            guard let entity = try await store.read(EntityRecord.self, key: StateKeys.entity(workspace: workspace, name: name))?.document,
                !entity.deleted, entity.activeCommand == nil,
                let status = try await store.read(StatusRecord.self, key: StateKeys.status(workspace: workspace, name: name))?.document,
                status.phase == .active, let objects = status.objects
            else { return }
            let spec = try driver.prepare(spec: entity.spec)
            let findings = try await driver.drift(spec: spec, objects: objects)
            guard !findings.isEmpty else { return }
            let generation = entity.generation
            let found = findings.map(\.message).joined(separator: "; ")
            guard let repaired = try await repair(spec: spec, objects: objects, found: found, workspace: workspace, name: name, generation: generation) else {
                return
            }
            try await store.modify(StatusRecord.self, key: StateKeys.status(workspace: workspace, name: name)) { current in
                // A command changed the resource meanwhile: its own ensure stands.
                guard var status = current, status.phase == .active, status.observedGeneration == generation else { return nil }
                status.objects = repaired
                status.lastDrift = DriftRecord(found: found, repair: "ensured the objects again from the desired spec", kind: "scheduled", commandID: nil, at: Date())
                status.updatedAt = Date()
                return status
            }
            for finding in findings {
                OperatorMetrics.driftRepaired(type: driver.type, kind: finding.kind)
            }
            logger.notice("Repaired drift", metadata: [LoggingKeys.resource: "\(label)", "found": "\(found)"])
        } catch {
            logger.warning("Drift check failed", metadata: [LoggingKeys.resource: "\(label)", "error": "\(error)"])
        }
    }

    /// Ensures the objects again; nil when the driver refused to take over someone else's object
    /// (recorded by ``refuse``).
    private func repair(
        spec: AnyResourceDriver.PreparedSpec, objects: JSONValue, found: String, workspace: String, name: String, generation: Int
    ) async throws -> JSONValue? {
        let refusal: VendorFailure
        do throws(VendorFailure) {
            return try await deployment.hosted.driver.ensure(spec: spec, known: objects, context: .standard).objects
        } catch {
            guard error.isForeignObject else { throw error }
            refusal = error
        }
        try await refuse(refusal, found: found, workspace: workspace, name: name, generation: generation)
        return nil
    }

    /// The repair found someone else's object: the status says so (`error`, `lastError`
    /// `foreignObject`) unless a command changed the resource meanwhile; counted and logged.
    private func refuse(_ failure: VendorFailure, found: String, workspace: String, name: String, generation: Int) async throws {
        let driver = deployment.hosted.driver
        let message = "the scheduled drift check found: \(found); not repaired: \(failure.message)"
        var recorded = false
        try await deployment.store.modify(StatusRecord.self, key: StateKeys.status(workspace: workspace, name: name)) { current in
            recorded = false
            guard var status = current, status.phase == .active, status.observedGeneration == generation else { return nil }
            recorded = true
            status.phase = .error
            status.lastError = ErrorRecord(reason: failure.reason, message: message, commandID: nil, at: Date())
            status.updatedAt = Date()
            return status
        }
        guard recorded else { return }
        OperatorMetrics.driftRepaired(type: driver.type, kind: "foreign")
        logger.warning(
            "Refused to take over a vendor object that is not this resource's",
            metadata: [LoggingKeys.resource: "\(workspace)/\(name)", "found": "\(found)", "error": "\(failure.message)"]
        )
    }
}
