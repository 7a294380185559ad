import FactoryModel
import Foundation
import JSONSchema
@testable import OperatorCore

/// A vendor that forwards to `inner` except for the calls a fault test replaces: each test says
/// only what it changes (a slow trigger, a lost answer, a stale look) instead of re-forwarding
/// the whole protocol.
struct InterposedVendor: PipelineVendor {
    typealias Ensure = @Sendable (_ inner: any PipelineVendor, _ spec: JSONValue, _ known: VendorObjects) async throws(VendorFailure) -> VendorObjects
    typealias Trigger = @Sendable (_ inner: any PipelineVendor, _ spec: JSONValue, _ objects: VendorObjects) async throws(VendorFailure) -> String
    typealias Run = @Sendable (_ inner: any PipelineVendor, _ syncID: String, _ runID: String) async throws(VendorFailure) -> RunRecord?

    let inner: any PipelineVendor
    var ensure: Ensure?
    var trigger: Trigger?
    var run: Run?

    init(_ inner: any PipelineVendor, ensure: Ensure? = nil, trigger: Trigger? = nil, run: Run? = nil) {
        self.inner = inner
        self.ensure = ensure
        self.trigger = trigger
        self.run = run
    }

    func ensure(spec: JSONValue, known: VendorObjects) async throws(VendorFailure) -> VendorObjects {
        if let ensure { return try await ensure(inner, spec, known) }
        return try await inner.ensure(spec: spec, known: known)
    }

    func trigger(spec: JSONValue, objects: VendorObjects) async throws(VendorFailure) -> String {
        if let trigger { return try await trigger(inner, spec, objects) }
        return try await inner.trigger(spec: spec, objects: objects)
    }

    func runs(spec: JSONValue, objects: VendorObjects, createdAtOrAfter instant: Date) async throws(VendorFailure) -> [RunRecord] {
        try await inner.runs(spec: spec, objects: objects, createdAtOrAfter: instant)
    }

    func run(syncID: String, runID: String) async throws(VendorFailure) -> RunRecord? {
        if let run { return try await run(inner, syncID, runID) }
        return try await inner.run(syncID: syncID, runID: runID)
    }

    func retire(objects: VendorObjects) async throws(VendorFailure) {
        try await inner.retire(objects: objects)
    }
}
