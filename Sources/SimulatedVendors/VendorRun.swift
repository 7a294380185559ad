import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// One run a vendor started, as the vendor itself records it (its trigger log, or for Fivetran
/// its log of syncs): what a chaos run's checker compares the operator's state with.
public struct VendorRun: Sendable, Hashable {
    /// The target it ran, named as ``SimulatedVendor/target(_:)`` names it.
    public var target: String
    /// The vendor's id of the run; nil where runs have none (a Fivetran sync).
    public var runID: String?
    /// The command id the run carries, where the vendor keeps one: the `Idempotency-Key` an HTTP
    /// task's effect was created under, the `[factory:<id>]` marker of a dbt Cloud run's cause.
    /// Nil where the vendor keeps none (Hightouch, Census, Fivetran) or the run carries none (a
    /// run started by someone else).
    public var marker: String?
    /// What the vendor decided, as the phase the operator must record for it (`succeeded`,
    /// `warning`, `failed`, `cancelled`); nil while the run has not ended at the vendor.
    public var phase: String?
    /// The vendor's own word for the run now (`success`, `10`, `completed`, `done`…), for messages.
    public var vendorStatus: String

    public init(target: String, runID: String?, marker: String?, phase: String?, vendorStatus: String) {
        self.target = target
        self.runID = runID
        self.marker = marker
        self.phase = phase
        self.vendorStatus = vendorStatus
    }
}

/// Faults a vendor can be told to show, all at once (a chaos run's vendor faults): every
/// simulator that has the knob applies it; the HTTP task target has none.
public struct VendorFaults: Sendable, Hashable {
    /// Share of API requests answered with a 5xx without acting.
    public var serverErrorRate: Double
    /// Added to every answer, plus up to `latencyJitter` more where the simulator has jitter.
    public var latency: Duration
    public var latencyJitter: Duration
    /// Requests admitted per second (429 beyond); nil: no limit.
    public var requestsPerSecond: Int?
    /// The operator's credential is refused (401) while set.
    public var refuseCredential: Bool

    public init(serverErrorRate: Double = 0, latency: Duration = .zero, latencyJitter: Duration = .zero, requestsPerSecond: Int? = nil, refuseCredential: Bool = false) {
        self.serverErrorRate = serverErrorRate
        self.latency = latency
        self.latencyJitter = latencyJitter
        self.requestsPerSecond = requestsPerSecond
        self.refuseCredential = refuseCredential
    }

    /// A healthy vendor.
    public static let none = VendorFaults()
}

/// A request to a vendor's public API made without the operator (an out-of-band run), with
/// Foundation's client: nothing of the project's own clients is involved.
enum OutOfBand {
    /// Sends `method path` with `headers` and a JSON `body`; returns the HTTP status.
    static func send(_ method: String, _ url: String, headers: [String: String], body: String?) async throws -> Int {
        guard let address = URL(string: url) else { throw OutOfBandError(description: "not a URL: \(url)") }
        var request = URLRequest(url: address)
        request.httpMethod = method
        request.timeoutInterval = 10
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(body.utf8)
        }
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}

struct OutOfBandError: Error, CustomStringConvertible {
    let description: String
}
