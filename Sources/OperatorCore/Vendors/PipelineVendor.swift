import Foundation
import JSONSchema

/// What the operator needs from a vendor: the seam where Fivetran, dbt Cloud and Census plug in
/// beside Hightouch. Every call must be idempotent or safely repeatable, because a command may be
/// resumed by another replica after a crash.
public protocol PipelineVendor: Sendable {
    /// Creates or updates the vendor objects the spec declares (Hightouch: a model and a sync),
    /// starting from what is already known. Returns the objects as they now are.
    func ensure(spec: JSONValue, known: VendorObjects) async throws(VendorFailure) -> VendorObjects

    /// Triggers one run with the spec's trigger flags. Returns the run id.
    func trigger(spec: JSONValue, objects: VendorObjects) async throws(VendorFailure) -> String

    /// Runs created at or after `instant`, newest last: the resume check before a second trigger.
    func runs(spec: JSONValue, objects: VendorObjects, createdAtOrAfter instant: Date) async throws(VendorFailure) -> [RunRecord]

    /// One run as it is now; nil if the vendor does not know it.
    func run(syncID: String, runID: String) async throws(VendorFailure) -> RunRecord?

    /// Undoes what the operator created, as far as the vendor's API allows.
    func retire(objects: VendorObjects) async throws(VendorFailure)
}

/// A vendor call that failed, classified for the command it belongs to.
public struct VendorFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Worth trying again later (rate limits, 5xx, outages, an unknown trigger outcome).
        case transient
        /// The credentials were refused: retried, because fixing the secret should heal it.
        case unauthorized
        /// The vendor refused what the spec asks (validation, a conflict that cannot be solved,
        /// a referenced object that does not exist): retrying cannot help.
        case rejected
    }

    public var kind: Kind
    /// A stable word for status and dead letters: `vendorUnavailable`, `vendorUnauthorized`,
    /// `vendorRejected`, `vendorConflict`, `vendorNotFound`.
    public var reason: String
    public var message: String

    public init(kind: Kind, reason: String, message: String) {
        self.kind = kind
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(reason): \(message)" }
}
