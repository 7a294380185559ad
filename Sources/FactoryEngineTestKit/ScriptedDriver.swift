import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Synchronization
import VendorHTTP

/// A toy vendor in memory: jobs (created by `ensure`), runs (created by triggers) whose phase a
/// test sets, and counters of every call. Tests script it: fail a call, lose a trigger's answer,
/// hold a call until released, answer a look with any observation.
public final class ScriptedVendor: Sendable {
    public enum Call: String, Sendable, Hashable, CaseIterable {
        case ensure, baseline, trigger, runs, observe, cancel, retire
        /// A trigger waiting for its client's rate-limit permit, before anything is sent: a
        /// hold here is a trigger queued behind a busy client's rate limit.
        case permit
    }

    /// One run at the toy vendor.
    public struct Run: Sendable, Hashable {
        public var id: String
        public var job: String
        /// The command id the trigger carried (the toy vendor keeps markers, as dbt Cloud's cause).
        public var marker: String
        public var createdAt: Date
        public var phase: RunPhase
    }

    private struct State {
        var jobs: [String: String] = [:]  // name → id
        var runs: [Run] = []
        var nextID = 1
        var calls: [Call: Int] = [:]
        var failures: [Call: [VendorFailure]] = [:]
        var lostTriggerAnswers = 0
        var held: Set<Call> = []
        var holdNext: [Call: Int] = [:]
        var releasedNext: Set<Call> = []
        var waiting: [Call: Int] = [:]
        var scriptedObservations: [String: [RunObservation]] = [:]
        var phaseAfterTrigger: RunPhase = .queued
    }

    private let state = Mutex(State())

    public init() {}

    // MARK: - Scripting

    /// The next call of `call` throws `failure` (queued: several calls, several failures).
    public func fail(_ call: Call, with failure: VendorFailure, times: Int = 1) {
        state.withLock { $0.failures[call, default: []] += Array(repeating: failure, count: times) }
    }

    /// The next `count` triggers create their run, then throw a transient failure, as a trigger
    /// whose answer was lost (a timeout after the vendor acted).
    public func loseTriggerAnswers(_ count: Int) {
        state.withLock { $0.lostTriggerAnswers += count }
    }

    /// Calls of `call` wait until ``release(_:)``.
    public func hold(_ call: Call) {
        _ = state.withLock { $0.held.insert(call) }
    }

    /// Only the next call of `call` waits until ``release(_:)``; later ones go on.
    public func holdNext(_ call: Call) {
        state.withLock { state in
            state.holdNext[call, default: 0] += 1
            state.releasedNext.remove(call)
        }
    }

    public func release(_ call: Call) {
        state.withLock { state in
            state.held.remove(call)
            state.releasedNext.insert(call)
        }
    }

    /// The phase runs are created in (`.succeeded`: ended as triggered, as an HTTP call).
    public func createRuns(in phase: RunPhase) {
        state.withLock { $0.phaseAfterTrigger = phase }
    }

    /// The next looks at run `id` answer these observations, one each, instead of the run's state.
    public func answerLooks(at id: String, with observations: [RunObservation]) {
        state.withLock { $0.scriptedObservations[id, default: []] += observations }
    }

    /// Sets a run's phase (the vendor moving it on).
    public func setPhase(_ phase: RunPhase, ofRun id: String) {
        state.withLock { state in
            if let index = state.runs.firstIndex(where: { $0.id == id }) { state.runs[index].phase = phase }
        }
    }

    /// A run triggered out of band (a schedule at the vendor), not by a command.
    @discardableResult
    public func createRunOutOfBand(job: String, at date: Date = Date()) -> String {
        state.withLock { state in
            let id = "run-\(state.nextID)"
            state.nextID += 1
            state.runs.append(Run(id: id, job: job, marker: "", createdAt: date, phase: .running))
            return id
        }
    }

    // MARK: - Reading

    public func calls(_ call: Call) -> Int { state.withLock { $0.calls[call] ?? 0 } }
    /// Calls waiting on a hold now.
    public func waiting(_ call: Call) -> Int { state.withLock { $0.waiting[call] ?? 0 } }
    public var runs: [Run] { state.withLock { $0.runs } }
    public func runs(marker: String) -> [Run] { runs.filter { $0.marker == marker } }
    public var jobs: [String: String] { state.withLock { $0.jobs } }

    // MARK: - What the driver calls

    fileprivate func enter(_ call: Call) async throws(VendorFailure) {
        let heldAlone = state.withLock { state -> Bool in
            guard let count = state.holdNext[call], count > 0 else { return false }
            state.holdNext[call] = count - 1
            return true
        }
        if heldAlone {
            await wait(call) { !$0.releasedNext.contains(call) }
        }
        if state.withLock({ $0.held.contains(call) }) {
            await wait(call) { $0.held.contains(call) }
        }
        let failure = state.withLock { state -> VendorFailure? in
            state.calls[call, default: 0] += 1
            guard var queue = state.failures[call], !queue.isEmpty else { return nil }
            let first = queue.removeFirst()
            state.failures[call] = queue
            return first
        }
        if let failure { throw failure }
    }

    /// Waits while `held` says so, counted in ``waiting(_:)``.
    private func wait(_ call: Call, while held: (State) -> Bool) async {
        state.withLock { $0.waiting[call, default: 0] += 1 }
        while state.withLock({ held($0) }) {
            try? await Task.sleep(for: .milliseconds(5))
        }
        state.withLock { $0.waiting[call, default: 0] -= 1 }
    }

    fileprivate func ensureJob(_ name: String) -> String {
        state.withLock { state in
            if let id = state.jobs[name] { return id }
            let id = "job-\(state.nextID)"
            state.nextID += 1
            state.jobs[name] = id
            return id
        }
    }

    fileprivate func trigger(job: String, marker: String) throws(VendorFailure) -> Run {
        let (run, lose) = state.withLock { state -> (Run, Bool) in
            let run = Run(id: "run-\(state.nextID)", job: job, marker: marker, createdAt: Date(), phase: state.phaseAfterTrigger)
            state.nextID += 1
            state.runs.append(run)
            let lose = state.lostTriggerAnswers > 0
            if lose { state.lostTriggerAnswers -= 1 }
            return (run, lose)
        }
        if lose {
            throw VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "the answer to the trigger (run \(run.id)) was lost")
        }
        return run
    }

    fileprivate func look(_ id: String) -> (run: Run?, scripted: RunObservation?) {
        state.withLock { state in
            let run = state.runs.first { $0.id == id }
            guard var queue = state.scriptedObservations[id], !queue.isEmpty else { return (run, nil) }
            let first = queue.removeFirst()
            state.scriptedObservations[id] = queue
            return (run, first)
        }
    }

    fileprivate func cancel(_ id: String) {
        state.withLock { state in
            if let index = state.runs.firstIndex(where: { $0.id == id }), !state.runs[index].phase.isFinished {
                state.runs[index].phase = .cancelled
            }
        }
    }
}

/// The toy resource type `toy` on a ``ScriptedVendor``: not shipped, it shows that a second
/// driver runs through the engine with no change to engine code. Spec: `{"job": "name"}` (and
/// `"refuse": true` for a spec the driver refuses beyond its schema).
public struct ScriptedDriver: ResourceDriver {
    /// How the resume check finds a run triggered before a crash.
    public enum ResumeCheck: Sendable {
        /// Runs of the job created since the intent (Hightouch, Census).
        case createdSince
        /// Runs carrying the command's marker (dbt Cloud's `cause`).
        case marker
        /// Runs past the baseline recorded before the trigger, for a vendor without run ids
        /// (Fivetran).
        case baseline
    }

    public struct Objects: DriverValue, Codable, Hashable {
        public var jobID: String
        public var job: String
    }

    public struct RunReference: DriverValue, Codable, Hashable {
        public var runID: String
    }

    /// How many runs the job had before the trigger.
    public struct Baseline: DriverValue, Codable, Hashable {
        public var runsBefore: Int
    }

    public struct Spec: Sendable {
        public var job: String
        public var timeout: Duration?
    }

    public let vendor: ScriptedVendor
    public let resumeCheck: ResumeCheck
    public let descriptor: DriverDescriptor
    /// Whether the toy vendor lets runs be cancelled.
    public let cancellable: Bool

    public init(vendor: ScriptedVendor, resumeCheck: ResumeCheck = .createdSince, type: String = "toy", cancellable: Bool = true) {
        self.vendor = vendor
        self.resumeCheck = resumeCheck
        self.descriptor = Self.descriptor(type: type)
        self.cancellable = cancellable
    }

    public static let specSchema = #"""
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
         "properties": {"job": {"type": "string", "minLength": 1}, "refuse": {"type": "boolean"}, "timeoutMs": {"type": "integer", "minimum": 1}},
         "required": ["job"], "additionalProperties": false}
        """#

    public static func descriptor(type: String) -> DriverDescriptor {
        let schema: JSONSchema
        do {
            schema = try JSONSchema(jsonText: specSchema)
        } catch {
            preconditionFailure("the toy schema does not compile: \(error)")
        }
        return DriverDescriptor(
            definition: ResourceTypeDefinition(
                name: type, isRunnable: true, specSchemaText: specSchema, specSchema: schema, natsAPI: DeploymentNames.standard(type: type).natsAPI
            ),
            displayName: "Toy",
            variables: [.init("TOY_SECRET", "the toy vendor's token")],
            secretVariable: "TOY_SECRET"
        )
    }

    public func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec {
        guard let job = spec["job"]?.stringValue, !job.isEmpty else {
            throw VendorFailure(kind: .rejected, reason: "schemaViolation", message: "/spec/job: required")
        }
        if spec["refuse"]?.boolValue == true {
            throw VendorFailure(kind: .rejected, reason: "specRejected", message: "/spec/refuse: the toy vendor refuses this job")
        }
        return Spec(job: job, timeout: spec["timeoutMs"]?.numberValue?.intValue.map { .milliseconds($0) })
    }

    public func runTimeout(_ spec: Spec) -> Duration? { spec.timeout }

    public func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects {
        try await vendor.enter(.ensure)
        return Objects(jobID: vendor.ensureJob(spec.job), job: spec.job)
    }

    public func baseline(_ spec: Spec, objects: Objects) async throws(VendorFailure) -> Baseline {
        try await vendor.enter(.baseline)
        return Baseline(runsBefore: vendor.runs.filter { $0.job == objects.job }.count)
    }

    public func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference> {
        try await vendor.enter(.permit)
        // As a vendor client does once it holds the permit, right before sending.
        if let check = VendorSendGuard.current?.check {
            do {
                try await check()
            } catch {
                throw VendorFailure(kind: .transient, reason: "notSent", message: "the trigger was not sent: \(error)")
            }
        }
        try await vendor.enter(.trigger)
        let run = try vendor.trigger(job: objects.job, marker: context.commandID)
        return TriggeredRun(reference: RunReference(runID: run.id), observation: Self.observation(run))
    }

    public func runs(since point: ResumePoint<Baseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>] {
        try await vendor.enter(.runs)
        let jobRuns = vendor.runs.filter { $0.job == objects.job }
        let found: [ScriptedVendor.Run]
        switch resumeCheck {
        case .createdSince:
            found = jobRuns.filter { $0.createdAt >= point.since }
        case .marker:
            found = jobRuns.filter { $0.marker == point.commandID }
        case .baseline:
            guard let baseline = point.baseline else { return [] }
            found = Array(jobRuns.dropFirst(baseline.runsBefore))
        }
        return found.map { TriggeredRun(reference: RunReference(runID: $0.id), observation: Self.observation($0)) }
    }

    public func observe(_ run: RunReference, objects: Objects) async throws(VendorFailure) -> RunObservation? {
        try await vendor.enter(.observe)
        let (found, scripted) = vendor.look(run.runID)
        if let scripted { return scripted }
        return found.map(Self.observation)
    }

    public var canCancel: Bool { cancellable }

    public func cancel(_ run: RunReference, objects: Objects) async throws(VendorFailure) {
        guard cancellable else {
            throw VendorFailure(kind: .unsupported, reason: "cancelUnsupported", message: "toy runs cannot be cancelled")
        }
        try await vendor.enter(.cancel)
        vendor.cancel(run.runID)
    }

    public func retire(_ objects: Objects, spec: Spec?) async throws(VendorFailure) {
        try await vendor.enter(.retire)
    }

    public func objectRows(_ objects: Objects) -> [DetailRow] {
        [DetailRow("Job", "\(objects.jobID) (\(objects.job))")]
    }

    public func runRows(_ run: RunRecord) -> [DetailRow] {
        [DetailRow("Marker", run.details?["marker"]?.stringValue ?? "-")]
    }

    static func observation(_ run: ScriptedVendor.Run) -> RunObservation {
        RunObservation(
            phase: run.phase, vendorStatus: "toy-\(run.phase.rawValue)", vendorRunID: run.id, createdAt: run.createdAt,
            finishedAt: run.phase.isFinished ? Date() : nil, progress: run.phase.isFinished ? 1 : nil,
            summary: "job \(run.job)", details: ["marker": .string(run.marker)]
        )
    }
}
