import Foundation
import JSONSchema
import NATSKit
import NATSTestKit
import SimulatedVendors
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SplitMix64: every random choice of a run repeats for a seed.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The concurrent parts of a run (publisher, killers, fault injectors, the settle watch) and
/// what they share.
final class Work: Sendable {
    let scenario: ChaosScenario
    let output: @Sendable (String) -> Void
    private let state: Mutex<State>

    struct State {
        var random: SeededRandom
        var commands: [ChaosObservation.Command] = []
        var unpublished: [String] = []
        var published = 0
        var publishingDone = false
        var settled = false
        var unsettled: String?
        var replicaKills = 0
        var natsKills = 0
        var natsDown = false
        var vendorFaultEvents = 0
        /// Resources whose vendor objects were deleted behind the operator's back, with their
        /// type and target index.
        var deletedObjects: [String] = []
        var deletedTargets: [(type: String, index: Int)] = []
        var killedByDriver: Set<Int32> = []
        var unexpectedExits: [String] = []
    }

    init(scenario: ChaosScenario, output: @escaping @Sendable (String) -> Void) {
        self.scenario = scenario
        self.output = output
        self.state = Mutex(State(random: SeededRandom(seed: scenario.seed)))
    }

    var commands: [ChaosObservation.Command] { state.withLock { $0.commands.sorted { $0.name < $1.name } } }
    var unpublished: [String] { state.withLock { $0.unpublished } }
    var unsettled: String? { state.withLock { $0.unsettled } }
    var unexpectedExits: [String] { state.withLock { $0.unexpectedExits } }
    var replicaKills: Int { state.withLock { $0.replicaKills } }
    var natsKills: Int { state.withLock { $0.natsKills } }
    var vendorFaultEvents: Int { state.withLock { $0.vendorFaultEvents } }
    var deletedObjects: [String] { state.withLock { $0.deletedObjects } }
    var settled: Bool { state.withLock { $0.settled } }
    var finished: Bool { state.withLock { $0.settled || $0.unsettled != nil } }
    /// When the faults stop (nil until every apply is published): the work may then settle.
    private let faultsEnd = Mutex<ContinuousClock.Instant?>(nil)
    /// The fault window is over: every apply is published and `faultWindow` has passed since
    /// the work began (or the run is finished). Faults heal; the work must then settle.
    var faultsOver: Bool {
        if finished { return true }
        guard let end = faultsEnd.withLock({ $0 }) else { return false }
        return ContinuousClock.now >= end
    }

    /// Ends the work as settled, or as not settled with what was missing (variants that watch
    /// the work themselves: `pipelines`).
    func finish(unsettled: String?) {
        state.withLock {
            if let unsettled { $0.unsettled = unsettled } else { $0.settled = true }
        }
    }

    func startFaultWindow(at start: ContinuousClock.Instant) {
        faultsEnd.withLock { $0 = start.advanced(by: scenario.faultWindow) }
    }

    private func random(in range: ClosedRange<Double>) -> Double {
        state.withLock { Double.random(in: range, using: &$0.random) }
    }

    private func random(below count: Int) -> Int {
        state.withLock { Int.random(in: 0..<count, using: &$0.random) }
    }

    /// Sleeps up to `duration`, returning early (false) once the run is finished (or, for
    /// `faults`, once the fault window is over).
    private func pause(_ duration: Duration, faults: Bool = false) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: duration)
        func over() -> Bool { faults ? faultsOver : finished }
        while ContinuousClock.now < deadline {
            if over() || Task.isCancelled { return false }
            try? await Task.sleep(for: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
        return !over()
    }

    // MARK: - Commands

    static func name(_ index: Int) -> String { String(format: "chaos-%04d", index) }

    /// One apply to publish: the command as the checker knows it, and its bytes and subject.
    struct Planned: Sendable {
        var command: ChaosObservation.Command
        /// The vendor target index the spec names.
        var index: Int
        var subject: String
        var payload: [UInt8]
    }

    /// The applies of a run, in publishing order: `applies` resources spread over the types in
    /// turn (every `forcedFailureEvery`-th of each type forced to fail), and `refusalsPerType`
    /// specs without their required field per type, spread evenly among them.
    static func plan(_ scenario: ChaosScenario, vendors: [ChaosVendor]) -> [Planned] {
        guard !vendors.isEmpty else { return [] }
        let tag = String(scenario.seed, radix: 36)
        var plan: [Planned] = []
        for index in 1...max(1, scenario.applies) {
            let vendor = vendors[(index - 1) % vendors.count]
            let ordinal = (index - 1) / vendors.count + 1
            let forced = scenario.forcedFailureEvery.map { $0 > 0 && ordinal % $0 == 0 } ?? false
            let name = Self.name(index)
            plan.append(
                Planned(
                    command: .init(
                        name: name, commandID: "chaos-\(tag)-\(name)", type: vendor.type, target: vendor.vendor.target(index), expectsFailure: forced
                    ),
                    index: index, subject: vendor.names.commandSubject,
                    payload: applyCommand(name: name, type: vendor.type, spec: vendor.vendor.spec(index, serviceURL: vendor.serviceURL, timeout: nil))
                )
            )
        }
        var refusals: [Planned] = []
        let perType = max(0, scenario.refusalsPerType ?? 0)
        for (offset, vendor) in vendors.enumerated() {
            for number in 0..<perType {
                // Targets past the applies': none of them may see a run.
                let index = scenario.applies + 1 + offset * perType + number
                let name = "chaos-refused-\(vendor.type)-\(number + 1)"
                let (spec, _) = vendor.vendor.specWithoutRequiredField(index, serviceURL: vendor.serviceURL)
                refusals.append(
                    Planned(
                        command: .init(name: name, commandID: "chaos-\(tag)-\(name)", type: vendor.type, target: vendor.vendor.target(index), expectsRefusal: true),
                        index: index, subject: vendor.names.commandSubject, payload: applyCommand(name: name, type: vendor.type, spec: spec)
                    )
                )
            }
        }
        for (number, refusal) in refusals.enumerated().reversed() {
            plan.insert(refusal, at: min(plan.count, (number + 1) * plan.count / (refusals.count + 1)))
        }
        return plan
    }

    /// An apply of `spec` under `name`, built as plain JSON with Foundation (not with the
    /// project's encoder).
    static func applyCommand(name: String, type: String, spec: JSONValue) -> [UInt8] {
        let command: [String: Any] = [
            "version": 1, "op": "apply", "workspace": ChaosRunner.workspace,
            "resource": [
                "version": "v1beta", "name": name, "type": "resource", "tags": ["chaos"], "description": "chaos run resource",
                "resource": ["operator": type == "hightouch" ? "hightouch-factory" : "factory", "type": type, "spec": foundation(spec)] as [String: Any],
            ] as [String: Any],
        ]
        return Array((try? JSONSerialization.data(withJSONObject: command, options: [.sortedKeys])) ?? Data())
    }

    /// `value` as Foundation's JSON objects.
    static func foundation(_ value: JSONValue) -> Any {
        switch value {
        case .null: NSNull()
        case .bool(let bool): bool
        case .number(let number): number.intValue.map { $0 as Any } ?? number.doubleValue
        case .string(let string): string
        case .array(let array): array.map(foundation)
        case .object(let object): Dictionary(object.map { ($0.key, foundation($0.value)) }, uniquingKeysWith: { _, last in last })
        }
    }

    /// Publishes every planned apply at `publishRate`, each retried with its message id until
    /// JetStream acknowledges it (across NATS outages; the id makes a retry of a stored publish a
    /// no-op).
    func publish(_ plan: [Planned], jetStream: JetStreamContext, workStarted: ContinuousClock.Instant) async {
        let interval = 1.0 / max(0.1, scenario.publishRate)
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for (position, planned) in plan.enumerated() {
                let due = started.advanced(by: .milliseconds(Int(Double(position) * interval * 1000)))
                if due > ContinuousClock.now { try? await Task.sleep(until: due) }
                group.addTask {
                    let command = planned.command
                    let deadline = ContinuousClock.now.advanced(by: .seconds(120))
                    var attempt = 0
                    while ContinuousClock.now < deadline {
                        attempt += 1
                        do {
                            _ = try await jetStream.publish(
                                planned.payload, to: planned.subject, options: JetStreamPublishOptions(messageID: command.commandID, timeout: .seconds(2))
                            )
                            self.state.withLock {
                                $0.commands.append(command)
                                $0.published += 1
                            }
                            return
                        } catch {
                            try? await Task.sleep(for: .milliseconds(min(2000, 100 * attempt)))
                        }
                    }
                    self.state.withLock { $0.unpublished.append(command.name) }
                    self.output("   ! \(command.name) could not be published within 120 s")
                }
            }
            await group.waitForAll()
        }
        state.withLock { $0.publishingDone = true }
        startFaultWindow(at: workStarted)
        output("   published \(plan.count - unpublished.count)/\(plan.count) applies in \(format(ContinuousClock.now - started))")
    }

    // MARK: - Replica kills

    /// Every few seconds: SIGKILL a random running replica, restart it after a short pause.
    func killReplicas(_ replicas: [ReplicaProcess]) async {
        while !faultsOver {
            if let limit = scenario.maxKills, replicaKills >= limit { return }
            guard await pause(.milliseconds(Int(random(in: scenario.killInterval) * 1000)), faults: true) else { return }
            let running = replicas.filter(\.isRunning)
            guard !running.isEmpty else { continue }
            let victim = running[random(below: running.count)]
            if scenario.freezeReplicas {
                let seconds = random(in: scenario.freezeFor)
                let freezes = state.withLock { state -> Int in
                    state.replicaKills += 1
                    return state.replicaKills
                }
                if scenario.verbose { output("   freeze #\(freezes): replica \(victim.slot) (SIGSTOP) for \(String(format: "%.1f", seconds)) s") }
                victim.signal(SIGSTOP)
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                victim.signal(SIGCONT)
                continue
            }
            if let pid = victim.pid { state.withLock { _ = $0.killedByDriver.insert(pid) } }
            await victim.kill()
            let kills = state.withLock { state -> Int in
                state.replicaKills += 1
                return state.replicaKills
            }
            let downtime = random(in: scenario.restartDelay)
            if scenario.verbose { output("   kill #\(kills): replica \(victim.slot) (SIGKILL), back in \(String(format: "%.1f", downtime)) s") }
            try? await Task.sleep(for: .milliseconds(Int(downtime * 1000)))
            do {
                try victim.start()
            } catch {
                output("   ! could not restart replica \(victim.slot): \(error)")
            }
        }
    }

    /// Notices replicas that exit on their own (a crash is an anomaly) and starts them again.
    func watchReplicas(_ replicas: [ReplicaProcess]) async {
        while await pause(.milliseconds(250)) {
            for replica in replicas {
                guard let pid = replica.pid, !replica.isRunning else { continue }
                let expected = state.withLock { $0.killedByDriver.contains(pid) }
                if expected { continue }
                let status = replica.terminationStatus.map(String.init) ?? "?"
                state.withLock {
                    $0.unexpectedExits.append("replica \(replica.slot) (pid \(pid)) exited by itself with status \(status); see \(replica.logFile)")
                    $0.killedByDriver.insert(pid)
                }
                output("   ! replica \(replica.slot) exited by itself (status \(status)); restarting it")
                try? replica.start()
            }
        }
    }

    /// Notices NATS nodes that stop without the driver killing them (something else on the
    /// machine ended them: an anomaly of the environment, reported so the run is not trusted)
    /// and starts them again.
    func watchNATS(_ nats: ChaosNATS) async {
        while await pause(.milliseconds(500)) {
            guard !state.withLock({ $0.natsDown }) else { continue }
            for (index, node) in nats.nodes.enumerated() where !node.isRunning {
                state.withLock { $0.unexpectedExits.append("nats-server n\(index + 1) stopped without the driver killing it; see \(node.logFile)") }
                output("   ! nats-server n\(index + 1) stopped by itself (or by another program); restarting it")
                try? await nats.restart(node: index)
            }
        }
    }

    // MARK: - NATS faults

    /// Once `natsFaultAt` of the applies are published: SIGKILL the server (or, in a cluster,
    /// the node leading the command stream), keep it down for `natsDowntime`, restart it.
    func natsFault(_ nats: ChaosNATS, connection: NATSConnection, commandStream: String) async {
        let threshold = Int(Double(scenario.applies) * scenario.natsFaultAt)
        while state.withLock({ $0.published < threshold && !$0.publishingDone }) {
            if finished { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        let node = await nats.leader(of: commandStream, using: connection) ?? 0
        state.withLock {
            $0.natsDown = true
            $0.natsKills += 1
        }
        let downtime = nats.clustered ? scenario.natsDowntime * 3 : scenario.natsDowntime
        output("   NATS: SIGKILL node n\(node + 1)\(nats.clustered ? " (leader of the command stream)" : "") at \(state.withLock { $0.published }) published; down for \(format(downtime))")
        await nats.kill(node: node)
        try? await Task.sleep(for: downtime)
        do {
            try await nats.restart(node: node)
            output("   NATS: node n\(node + 1) restarted")
        } catch {
            output("   ! NATS node n\(node + 1) did not restart: \(error)")
        }
        state.withLock { $0.natsDown = false }
    }

    // MARK: - Vendor faults

    /// At every vendor that has the knobs: 30 % 5xx throughout; in turn, with pauses: a 429 storm
    /// (a low rate limit), a latency spike, a refused credential (accepted again after a few
    /// seconds), and vendor objects deleted behind the operator's back (issue 18: the leader's
    /// drift check must put them back).
    func vendorFaults(_ vendors: [any SimulatedVendor], observer: ChaosObserver, targets: [String: (type: String, index: Int)]) async {
        let base = VendorFaults(serverErrorRate: 0.3)
        func apply(_ faults: VendorFaults) {
            for vendor in vendors { vendor.applyFaults(faults) }
        }
        apply(base)
        output("   vendor: 30% of requests answered 5xx from now on")
        var round = 0
        while !faultsOver {
            guard await pause(.milliseconds(Int(random(in: 2...4) * 1000)), faults: true) else { break }
            let event = round % 4
            round += 1
            state.withLock { $0.vendorFaultEvents += 1 }
            var storm = base
            switch event {
            case 0:
                output("   vendor: 429 storm (10 requests per second) for 4 s")
                storm.requestsPerSecond = 10
                apply(storm)
                _ = await pause(.seconds(4), faults: true)
            case 1:
                output("   vendor: latency spike (1.5 s + up to 1 s) for 3 s")
                storm.latency = .milliseconds(1500)
                storm.latencyJitter = .milliseconds(1000)
                apply(storm)
                _ = await pause(.seconds(3), faults: true)
            case 2:
                output("   vendor: credential refused for 4 s")
                storm.refuseCredential = true
                apply(storm)
                _ = await pause(.seconds(4), faults: true)
            default:
                await deleteObjects(vendors, observer: observer, targets: targets)
            }
            apply(base)
        }
        apply(.none)
        output("   vendor: faults over, vendors healthy again")
    }

    /// Deletes the vendor objects of up to three settled resources at random (settled: the
    /// operator recorded their run's end, so only the drift check can notice), at vendors whose
    /// objects the operator owns. A resource still working is left alone: a sync deleted under a
    /// running run takes the run with it, which no operator can follow.
    private func deleteObjects(_ vendors: [any SimulatedVendor], observer: ChaosObserver, targets: [String: (type: String, index: Int)]) async {
        guard let settled = try? await observer.settled(workspace: ChaosRunner.workspace).active else { return }
        let already = Set(state.withLock { $0.deletedObjects })
        var candidates = settled.subtracting(already).sorted()
        var deleted: [String] = []
        while deleted.count < 3, !candidates.isEmpty {
            let name = candidates.remove(at: random(below: candidates.count))
            guard let target = targets[name], let vendor = vendors.first(where: { $0.type == target.type }) else { continue }
            if vendor.deleteTargetObjects(target.index) { deleted.append(name) }
        }
        guard !deleted.isEmpty else { return }
        state.withLock {
            $0.deletedObjects += deleted
            $0.deletedTargets += deleted.compactMap { targets[$0] }
        }
        output("   vendor: objects of \(deleted.joined(separator: ", ")) deleted behind the operator's back")
    }

    // MARK: - Settling

    /// Polls until every published apply has settled (a finished run, no active command) and no
    /// command or follow-up is left, or the settle timeout passes.
    func waitUntilSettled(observer: ChaosObserver, started: ContinuousClock.Instant, quietly: Bool = false) async {
        var lastReport = ContinuousClock.now
        var publishedAt: ContinuousClock.Instant?
        var last = "nothing observed yet"
        while true {
            let (published, publishingDone) = state.withLock { ($0.published, $0.publishingDone) }
            if publishingDone, faultsOver, publishedAt == nil { publishedAt = ContinuousClock.now }
            if let publishedAt, ContinuousClock.now - publishedAt > scenario.settleTimeout {
                state.withLock { $0.unsettled = "not settled \(format(scenario.settleTimeout)) after the faults ended; last seen: \(last)" }
                return
            }
            do {
                let (settled, statuses) = try await observer.settledCount(workspace: ChaosRunner.workspace)
                let (commandQueues, followUpQueues) = try await observer.queues()
                let commands = commandQueues.reduce(0) { $0 + $1.messages }
                let followUps = followUpQueues.reduce(0) { $0 + $1.messages }
                // Deleted vendor objects are back (the drift check's repair) before the books close.
                let deleted = state.withLock { $0.deletedTargets }
                let missing = deleted.filter { target in
                    guard let vendor = observer.vendors.first(where: { $0.type == target.type }) else { return false }
                    return vendor.vendor.objectID(target.index, serviceURL: vendor.serviceURL) == nil
                }.count
                last = "\(settled) settled of \(published) published (\(statuses) statuses), \(commands) commands and \(followUps) follow-ups in the streams, \(missing) of \(deleted.count) deleted vendor objects still missing"
                if publishingDone, settled >= published, commands == 0, followUps == 0, missing == 0 {
                    state.withLock { $0.settled = true }
                    if !quietly { output("   settled after \(format(ContinuousClock.now - started)): \(last)") }
                    return
                }
            } catch {
                last = "observing failed: \(error)"
            }
            if scenario.verbose, !quietly, ContinuousClock.now - lastReport >= .seconds(5) {
                lastReport = ContinuousClock.now
                output("   \(format(ContinuousClock.now - started)): \(last); kills \(replicaKills)")
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
