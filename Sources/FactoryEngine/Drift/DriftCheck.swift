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
            let repaired = try await driver.ensure(spec: spec, known: objects)
            let generation = entity.generation
            let found = findings.map(\.message).joined(separator: "; ")
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
}
