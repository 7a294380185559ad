import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Logging
import NATSKit
import Pipelines
import ServiceLifecycle
import Synchronization

/// Moves pipeline runs on, in every replica. It follows the pipeline bucket (run documents and
/// pipeline entities) and every task type's state bucket (entities and statuses) with KV
/// watches, and keeps the active runs indexed by the task resources their attempts run. On any
/// change of a run, of a status one of its attempts waits on, or at a run's next deadline, it
/// evaluates the run:
///
/// 1. what the task resources show of each undecided attempt (``AttemptMapping``) is recorded
///    (`PipelineScheduler.observe`), then the rules move the run on (`advance`);
/// 2. each new attempt's command is made (templates filled, the resource found); one that cannot
///    be made fails its attempt with the reason before anything is published;
/// 3. the run is written by compare-and-set; only if the write won are the actions carried out:
///    each attempt's command published to its type's command subject with `Nats-Msg-Id` = the
///    attempt's command id, then marked published; cancels published for attempts to stop.
///
/// An attempt recorded but not published (its replica died in between) is published again by
/// whichever replica sees it `republishAfter` later: the message id makes it once. Queued runs
/// are admitted by the elected leader only. When a run ends, the replica that recorded the end
/// starts the runs of pipelines with a `pipeline` input on it.
final class PipelineAdvancer: Service, Sendable {
    struct ResourceKey: Hashable, Sendable {
        var type: String
        var workspace: String
        var name: String
    }

    /// One run as this replica knows it.
    struct Slot: Sendable {
        var entry: PipelineRunStore.Entry
        var spec: PipelineSpec?
        /// When something is due on its own (a deadline, a retry, an unpublished attempt).
        var nextCheck: Date?
        var resources: Set<ResourceKey>
    }

    /// The task resources as the read model shows them, looked up one at a time. (A copy of the
    /// whole read model per evaluation shared its storage, so that the next watch event's write
    /// copied every resource's documents again: a tenth of a replica's CPU with many runs.)
    struct ResourceView {
        let read: (ResourceKey) -> AttemptCommands.ResourceDocuments?
        let readStatus: (ResourceKey) -> StatusRecord?
        /// Read again from the KV during this evaluation (nil: not there).
        private var refreshed: [ResourceKey: AttemptCommands.ResourceDocuments?] = [:]

        init(read: @escaping (ResourceKey) -> AttemptCommands.ResourceDocuments?, readStatus: @escaping (ResourceKey) -> StatusRecord?) {
            self.read = read
            self.readStatus = readStatus
        }

        subscript(key: ResourceKey) -> AttemptCommands.ResourceDocuments? {
            if let known = refreshed[key] { return known }
            return read(key)
        }

        /// The status alone: what an attempt's progress is read from, its entity decoded only
        /// where the status's error names the attempt (``AttemptMapping``).
        func status(_ key: ResourceKey) -> StatusRecord? {
            if let known = refreshed[key] { return known?.status }
            return readStatus(key)
        }

        mutating func set(_ key: ResourceKey, _ documents: AttemptCommands.ResourceDocuments?) {
            refreshed.updateValue(documents, forKey: key)
        }
    }

    /// A task resource's documents as the watch delivered them, decoded when a run reads them
    /// (a replica that leaves the run to another never does).
    struct StoredResource {
        var documents = AttemptCommands.ResourceDocuments()
        /// The entity's newest value not decoded yet (then ``documents``' entity is nil).
        var undecodedEntity: KeyValueEntry?
        /// The status's newest value not decoded yet (then ``documents``' status is nil).
        var undecodedStatus: KeyValueEntry?

        var isEmpty: Bool { documents.entity == nil && documents.status == nil && undecodedEntity == nil && undecodedStatus == nil }

        /// Whether the status may hold an error (`lastError`): an undecoded one is looked at
        /// for the member's name, which errs towards yes.
        var mayHoldError: Bool {
            if let entry = undecodedStatus { return ByteSearch.contains(Self.lastErrorMember, in: entry.value) }
            return documents.status?.lastError != nil
        }

        /// The documents, decoded now where they were not (and kept decoded).
        mutating func read() -> AttemptCommands.ResourceDocuments {
            if let entry = undecodedEntity {
                documents.entity = try? StateCodec.decode(EntityRecord.self, entry.value, key: entry.key)
                undecodedEntity = nil
            }
            return AttemptCommands.ResourceDocuments(entity: documents.entity, status: readStatus())
        }

        /// The status, decoded now if it was not (and kept decoded); the entity left as it is.
        mutating func readStatus() -> StatusRecord? {
            if let entry = undecodedStatus {
                documents.status = try? StateCodec.decode(StatusRecord.self, entry.value, key: entry.key)
                undecodedStatus = nil
            }
            return documents.status
        }

        private static let lastErrorMember = Array(#""lastError""#.utf8)
    }

    struct State {
        var runs: [String: Slot] = [:]
        var resources: [ResourceKey: StoredResource] = [:]
        var byResource: [ResourceKey: Set<String>] = [:]
        /// Pipeline entities of this bucket, by `<workspace>.<name>`.
        var pipelines: [String: EntityRecord] = [:]
        /// Each pipeline's `pipeline` inputs, by the same id, with the spec digest they were read
        /// from (``downstreamInputs(of:id:)``).
        var pipelineInputs: [String: (digest: String, inputs: [PipelineInputOn])] = [:]
        var dirty: [String] = []
        var dirtySet: Set<String> = []
        var inFlight: Set<String> = []
        /// Attempts whose late-started run this replica asked to cancel.
        var lateCancels: Set<String> = []
        var wasLeader = false
        var lastQueueSweep = Date.distantPast
        /// Runs another replica advanced last, waiting to see whether it acts on a change: the
        /// revision seen and until when (``ownerGrace``).
        var deferred: [String: (revision: UInt64, until: Date)] = [:]
        /// Task types whose bucket watch has delivered every value there was when it started:
        /// from then on the read model lags the KV only by the watch's delivery.
        var caughtUp: Set<String> = []
        /// Attempts this replica published whose mark is not on the run document yet, by run:
        /// written with the run's next change, or on their own after ``markDelay``.
        var unmarked: [String: PendingMarks] = [:]
        /// Steps of runs another replica is moving on, not decoded yet (``applyRun(_:)``): the
        /// newest seen of each run and when it came.
        var undecoded: [String: (entry: KeyValueEntry, seenAt: Date, mine: Bool)] = [:]

        /// Where the first dirty run from `start` on is that no worker is looking at.
        func firstTakeable(from start: Int = 0) -> Int? { dirty[start...].firstIndex { !inFlight.contains($0) } }
    }

    /// A pipeline's input on another pipeline's runs: its name, the upstream pipeline, and the
    /// results that start a run.
    struct PipelineInputOn: Sendable {
        var input: String
        var upstream: String
        var results: Set<RunState>
    }

    /// Published attempts of one run, to be marked on its document.
    struct PendingMarks {
        var marks: [(task: String, commandID: String, at: Date)] = []
        /// When the oldest was published.
        var since: Date
    }

    /// How long a published attempt's mark waits for the run's next write before it is written
    /// on its own. Most runs change again sooner (the attempt's run starts), and one write then
    /// carries both; a replica that dies meanwhile leaves the attempt to be published again
    /// after ``PipelineRuntime/Settings/republishAfter``, which its message id makes harmless.
    static let markDelay: TimeInterval = 0.5

    let context: DriverCompanionContext
    let runtime: PipelineRuntime
    let store: PipelineRunStore
    let registry: ResourceTypeRegistry
    let logger: Logger
    /// Told of every change of a pipeline entity (the inputs follow applies and deletes).
    let onPipelineChange: @Sendable (EntityRecord?, String) -> Void
    private let state = Mutex(State())
    private let doorbell = Doorbell()

    init(
        context: DriverCompanionContext, runtime: PipelineRuntime, registry: ResourceTypeRegistry,
        onPipelineChange: @escaping @Sendable (EntityRecord?, String) -> Void = { _, _ in }
    ) {
        self.context = context
        self.runtime = runtime
        self.store = PipelineRunStore(bucket: context.bucket, writer: context.configuration.instanceID)
        self.registry = registry
        self.logger = context.logger
        self.onPipelineChange = onPipelineChange
    }

    var settings: PipelineRuntime.Settings { runtime.settings }

    /// The state bucket of each task type: the hosted deployment's, else the type's default.
    var taskBuckets: [(type: String, bucket: String)] {
        var types = registry.types.map(\.name)
        for type in context.deployments.keys.sorted() where !types.contains(type) { types.append(type) }
        return types.map { type in (type, context.deployments[type]?.stateBucket ?? DeploymentNames.builtIn(type: type).stateBucket) }
    }

    /// Where commands of `type` go: the hosted deployment's subject, else the type's default.
    func commandSubject(_ type: String) -> String {
        context.deployments[type]?.commandSubject ?? DeploymentNames.builtIn(type: type).commandSubject
    }

    // MARK: - Service

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for (type, bucket) in self.taskBuckets {
                    let own = bucket == self.context.bucket.name
                    let follower = BucketFollower(
                        name: bucket, known: own ? self.context.bucket : nil, jetStream: self.context.jetStream, logger: self.logger, retryAfter: .seconds(2)
                    ) { [weak self] event in
                        self?.apply(event, type: type, own: own)
                    }
                    group.addTask { await follower.run() }
                }
                for _ in 0..<max(1, self.settings.workers) {
                    let (worker, rings) = self.doorbell.stream()
                    group.addTask { await self.work(worker, rings) }
                }
                group.addTask { await self.tick() }
                await group.waitForAll()
            }
        }
        doorbell.close()
    }

    // MARK: - What the watches say

    func apply(_ event: KeyValueWatchEvent, type: String, own: Bool) {
        guard case .entry(let entry) = event else {
            if case .initialValuesDone = event { state.withLock { _ = $0.caughtUp.insert(type) } }
            return
        }
        if own, entry.key.hasPrefix("run.") {
            applyRun(entry)
            return
        }
        guard let parsed = StateKeys.parse(entry.key) else { return }
        let key = ResourceKey(type: type, workspace: parsed.workspace, name: parsed.name)
        var pipelineChange: (EntityRecord?, String)?
        let woken = state.withLock { state -> Bool in
            // Taken out and put back: changed in place, not copied.
            var stored = state.resources.removeValue(forKey: key) ?? StoredResource()
            let deleted = entry.operation != .put
            var matters = true
            switch parsed.kind {
            case .entity where own:
                stored.documents.entity = deleted ? nil : try? StateCodec.decode(EntityRecord.self, entry.value, key: entry.key)
                stored.undecodedEntity = nil
                let id = "\(parsed.workspace).\(parsed.name)"
                state.pipelines[id] = stored.documents.entity
                if stored.documents.entity == nil { state.pipelineInputs[id] = nil }
                pipelineChange = (stored.documents.entity, id)
            case .entity:
                // Kept undecoded until a run reads it: a task's engine writes its entity about
                // three times per command (claim, progress, release), and decoding each write in
                // every replica was a tenth of a passive replica's CPU in a chain. An entity says
                // something about an attempt only beside a status error naming it
                // (``AttemptMapping``), so only then does its change wake the runs.
                stored.documents.entity = nil
                stored.undecodedEntity = deleted ? nil : entry
                matters = stored.mayHoldError
            case .status:
                stored.documents.status = nil
                stored.undecodedStatus = deleted ? nil : entry
            }
            if !stored.isEmpty { state.resources[key] = stored }
            guard matters else { return false }
            var woken = false
            for run in state.byResource[key] ?? [] {
                Self.markDirty(&state, run)
                woken = true
            }
            return woken
        }
        if let pipelineChange { onPipelineChange(pipelineChange.0, pipelineChange.1) }
        if woken { doorbell.ring() }
    }

    private func applyRun(_ entry: KeyValueEntry) {
        guard entry.operation == .put else {
            state.withLock { state in Self.remove(&state, entry.key) }
            return
        }
        // This replica's own write, taken in when it was written: not decoded again (a run
        // document grows with its tasks, and decoding it is most of a step's CPU).
        if state.withLock({ $0.runs[entry.key].map { $0.entry.revision >= entry.revision } ?? false }) { return }
        if deferDecoding(entry) { return }
        decodeAndStore(entry)
    }

    /// A step of a run in progress that another replica is moving on is left undecoded: this
    /// replica leaves the run to that one until it stays silent for ``ownerGrace``
    /// (``ownsOrOwnerSilent(_:_:)``), so it needs the run only then (``decodeQuiet(now:)``), and
    /// decoding every step of every run was a fifth of a replica's CPU in a long chain. So is
    /// this replica's own step when the watch delivers it before the write's answer came back
    /// (the advancer takes its write in as it was written; most steps, in a chain). A run that
    /// starts, ends or is queued, that no replica's advancer wrote, or that this replica has not
    /// seen yet, is decoded at once (the leader admits queued runs; an end starts the runs
    /// downstream).
    private func deferDecoding(_ entry: KeyValueEntry) -> Bool {
        guard let glance = PipelineRunDocument.glance(entry.value), glance.state == .running || glance.state == .cancelling,
            let writer = glance.writer
        else { return false }
        let mine = writer == store.writer
        return state.withLock { state in
            guard let slot = state.runs[entry.key], slot.entry.document.run.state == .running || slot.entry.document.run.state == .cancelling else { return false }
            if let pending = state.undecoded[entry.key], pending.entry.revision >= entry.revision { return true }
            state.undecoded[entry.key] = (entry, Date(), mine)
            return true
        }
    }

    /// Decodes the runs whose undecoded step is ``ownerGrace`` old: their writer has been silent
    /// that long, so this replica looks at them now (the grace is spent: see
    /// ``ownsOrOwnerSilent(_:_:)``).
    private func decodeQuiet(now: Date) {
        let quiet = state.withLock { state -> [KeyValueEntry] in
            let due = state.undecoded.filter { now.timeIntervalSince($0.value.seenAt) >= Self.ownerGrace }
            for key in due.keys { state.undecoded[key] = nil }
            return due.values.map(\.entry)
        }
        for entry in quiet {
            decodeAndStore(entry)
            state.withLock { state in
                if state.runs[entry.key]?.entry.revision == entry.revision { state.deferred[entry.key] = (entry.revision, now) }
            }
        }
    }

    private func decodeAndStore(_ entry: KeyValueEntry) {
        let document: PipelineRunDocument
        do {
            document = try PipelineRunDocument.decode(entry.value, key: entry.key)
        } catch {
            logger.warning("An unreadable run document is left alone", metadata: ["error": "\(error)"])
            return
        }
        store(PipelineRunStore.Entry(document: document, revision: entry.revision, key: entry.key))
        doorbell.ring()
    }

    /// Takes in a run document (seen by the watch, or written here), newer revisions only.
    private func store(_ entry: PipelineRunStore.Entry) {
        let spec = self.spec(of: entry.document)
        let now = Date()
        state.withLock { state in
            if let known = state.runs[entry.key], known.entry.revision >= entry.revision { return }
            if let pending = state.undecoded[entry.key], pending.entry.revision <= entry.revision { state.undecoded[entry.key] = nil }
            let run = entry.document.run
            let previous = state.runs[entry.key]?.entry.document.run.state
            if run.state.isFinished, entry.document.downstreamPublished == true {
                Self.remove(&state, entry.key)
                // Its end written with nothing to start downstream: the queue, as below.
                if let previous, !previous.isFinished { Self.wakeQueue(&state, of: run) }
                return
            }
            var slot = Slot(entry: entry, spec: spec, nextCheck: nil, resources: [])
            // One pass over the run for both (see ``openTasks(of:)``).
            let watched = run.state.isFinished ? [] : run.taskNames(where: { $0.hasUndecidedAttempt || $0.lastAttemptCancelRequested || $0.retryAt != nil })
            // The resources whose changes matter: an undecided attempt's (its run starting,
            // ending), or a cancelled attempt's (a run that starts late is cancelled too).
            for name in watched {
                guard let taskRun = run.tasks[name], taskRun.hasUndecidedAttempt || taskRun.lastAttemptCancelRequested,
                    let attempt = taskRun.lastAttempt, !attempt.resourceType.isEmpty
                else { continue }
                slot.resources.insert(ResourceKey(type: attempt.resourceType, workspace: run.workspace, name: attempt.resource))
            }
            slot.nextCheck = self.nextCheck(entry.document, spec: spec, now: now, among: watched)
            if let old = state.runs[entry.key] {
                for resource in old.resources.subtracting(slot.resources) { state.byResource[resource]?.remove(entry.key) }
            }
            for resource in slot.resources { state.byResource[resource, default: []].insert(entry.key) }
            state.runs[entry.key] = slot
            Self.markDirty(&state, entry.key)
            // A run that ended or started makes room: the pipeline's queue is looked at again.
            if previous != run.state, run.state.isFinished || previous == nil { Self.wakeQueue(&state, of: run) }
        }
    }

    /// Marks the queued runs of `run`'s pipeline dirty (the leader admits them).
    private static func wakeQueue(_ state: inout State, of run: PipelineRun) {
        for (key, other) in state.runs where other.entry.document.run.state == .queued
            && other.entry.document.run.pipeline == run.pipeline && other.entry.document.run.workspace == run.workspace
        {
            markDirty(&state, key)
        }
    }

    private static func remove(_ state: inout State, _ key: String) {
        state.deferred[key] = nil
        state.undecoded[key] = nil
        state.unmarked[key] = nil
        guard let slot = state.runs.removeValue(forKey: key) else { return }
        for resource in slot.resources { state.byResource[resource]?.remove(key) }
    }

    private static func markDirty(_ state: inout State, _ key: String) {
        if state.dirtySet.insert(key).inserted { state.dirty.append(key) }
    }

    /// When a run needs looking at without any change: its scheduler deadline, an unpublished
    /// attempt's republish time, or (finished, runs downstream not started yet) a while after
    /// its end.
    /// `among`: the tasks to look at, at least those with an attempt in progress or a retry to
    /// come (found by the caller's pass over the run).
    func nextCheck(_ document: PipelineRunDocument, spec: PipelineSpec?, now: Date, among tasks: [String]) -> Date? {
        let run = document.run
        if run.state.isFinished {
            guard document.downstreamPublished != true else { return nil }
            return (run.finishedAt ?? now).addingTimeInterval(settings.republishAfter.seconds)
        }
        guard run.state != .queued else { return nil }
        var moments: [Date] = []
        if let spec, let deadline = PipelineScheduler(spec: spec).nextDeadline(of: run, among: tasks) { moments.append(deadline) }
        for name in tasks {
            if let taskRun = run.tasks[name], taskRun.hasUndecidedAttempt, let attempt = taskRun.lastAttempt, attempt.awaitsPublication {
                moments.append(attempt.queuedAt.addingTimeInterval(settings.republishAfter.seconds))
            }
        }
        return moments.min()
    }

    func spec(of document: PipelineRunDocument) -> PipelineSpec? {
        guard let spec = RunSpecs.shared.spec(of: document) else {
            logger.error("A run's spec cannot be read; the run is left as it is", metadata: ["run": "\(document.run.id)"])
            return nil
        }
        return spec
    }

    // MARK: - Workers

    private func work(_ worker: Int, _ rings: AsyncStream<Void>) async {
        var rings = rings.makeAsyncIterator()
        while !Task.isCancelled {
            while !Task.isCancelled, let (key, more) = takeDirty() {
                // More runs to look at: another worker takes the next.
                if more { doorbell.ring() }
                await evaluate(key)
                state.withLock { _ = $0.inFlight.remove(key) }
            }
            doorbell.idle(worker)
            // A ring before the worker said it was idle woke nobody: the work is looked for again.
            if state.withLock({ $0.firstTakeable() != nil }) {
                doorbell.busy(worker)
                continue
            }
            guard await rings.next() != nil else { return }
        }
    }

    /// The next run to look at, and whether another is waiting.
    private func takeDirty() -> (key: String, more: Bool)? {
        state.withLock { state in
            guard let index = state.firstTakeable() else { return nil }
            let key = state.dirty.remove(at: index)
            state.dirtySet.remove(key)
            state.inFlight.insert(key)
            return (key, state.firstTakeable(from: index) != nil)
        }
    }

    /// Marks what is due, and the leader's queues, dirty; rings.
    private func tick() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: settings.tick)
            let now = Date()
            let leader = context.election.isLeader
            let due = state.withLock { state -> Bool in
                var any = false
                for (key, slot) in state.runs {
                    if let check = slot.nextCheck, check <= now {
                        Self.markDirty(&state, key)
                        any = true
                    }
                }
                for (key, waiting) in state.deferred where waiting.until <= now {
                    Self.markDirty(&state, key)
                    any = true
                }
                for (key, pending) in state.unmarked where now.timeIntervalSince(pending.since) >= Self.markDelay {
                    Self.markDirty(&state, key)
                    any = true
                }
                // A new leader, and every few seconds: the queues are looked at (a start missed
                // by the previous leader, a run that ended while no leader was there).
                if leader, !state.wasLeader || now.timeIntervalSince(state.lastQueueSweep) > 5 {
                    state.lastQueueSweep = now
                    for (key, slot) in state.runs where slot.entry.document.run.state == .queued {
                        Self.markDirty(&state, key)
                        any = true
                    }
                }
                state.wasLeader = leader
                return any
            }
            decodeQuiet(now: now)
            if due { doorbell.ring() }
        }
    }

    // MARK: - Evaluating one run

    /// How long a replica leaves a run to the replica that wrote it last before moving it on
    /// itself (that replica stopped, or is slow).
    static let ownerGrace: TimeInterval = 1

    func evaluate(_ key: String) async {
        guard let slot = state.withLock({ $0.runs[key] }) else { return }
        let run = slot.entry.document.run
        switch run.state {
        case .queued:
            if context.election.isLeader { await admit(slot.entry) }
        case .running, .cancelling:
            guard ownsOrOwnerSilent(key, slot.entry) else { return }
            await advance(slot.entry)
        case .succeeded, .warning, .failed, .cancelled, .skipped:
            if slot.entry.document.downstreamPublished != true, let check = slot.nextCheck, check <= Date() {
                await startDownstream(slot.entry)
            }
        }
    }

    /// Whether this replica moves the run on now: it wrote the run last (or nobody's advancer
    /// did), or the replica that did has not written it within ``ownerGrace`` of a change this
    /// replica saw. A write by that replica meanwhile shows it acted, and the wait ends.
    private func ownsOrOwnerSilent(_ key: String, _ entry: PipelineRunStore.Entry) -> Bool {
        // A newer step by another replica, not decoded yet: that replica is moving the run on.
        if state.withLock({ $0.undecoded[key].map { !$0.mine } ?? false }) { return false }
        guard let writer = entry.document.writer, writer != store.writer else { return true }
        let now = Date()
        return state.withLock { state in
            if let waiting = state.deferred[key] {
                guard waiting.revision == entry.revision else {
                    state.deferred[key] = nil
                    return false
                }
                guard waiting.until <= now else { return false }
                state.deferred[key] = nil
                return true
            }
            state.deferred[key] = (entry.revision, now.addingTimeInterval(Self.ownerGrace))
            return false
        }
    }

    /// A prepared attempt command.
    struct Publication {
        var task: String
        var attempt: Attempt
        var envelope: CommandEnvelope
    }

    private func advance(_ start: PipelineRunStore.Entry) async {
        var entry = start
        for _ in 0..<10 {
            guard let spec = spec(of: entry.document) else { return }
            let scheduler = PipelineScheduler(spec: spec)
            let now = Date()
            let before = entry.document.run
            var run = before
            var documents = ResourceView(
                read: { [self] key in self.state.withLock { $0.resources[key]?.read() } },
                readStatus: { [self] key in self.state.withLock { $0.resources[key]?.readStatus() } })

            // Attempts published here since the run was last written, marked with this write.
            let pending = state.withLock { $0.unmarked[entry.key] }
            let marks = pending?.marks ?? []
            let stale = marks.filter { !PipelineScheduler.markPublished(&run, task: $0.task, commandID: $0.commandID, at: $0.at) }
            // Marked already, or the task moved on (its attempt seen, another attempt): nothing to write.
            if !stale.isEmpty { forgetMarks(stale.map(\.commandID), of: entry.key) }
            // Marks alone are written once they are `markDelay` old: the evaluation that follows
            // every write of this replica's own would otherwise write each publish's mark by
            // itself (half of a chain's writes).
            let marked = run
            let marksDue = marks.count > stale.count && pending.map { now.timeIntervalSince($0.since) >= Self.markDelay } == true

            // The tasks this evaluation looks at, from one pass over the run (each pass copies
            // every task: a long chain's cost per task of the run): the open ones (the rules'),
            // those with an attempt in progress among them, and those whose run was cancelled.
            // Marks and observations change only tasks with an attempt in progress.
            let open = Self.openTasks(of: run)

            // What the task resources show, of the attempts in progress.
            for name in open.undecided {
                guard let attempt = run.tasks[name]?.lastAttempt, !attempt.resourceType.isEmpty else { continue }
                let key = ResourceKey(type: attempt.resourceType, workspace: run.workspace, name: attempt.resource)
                guard let status = documents.status(key) else { continue }
                // The entity matters only beside an error naming the attempt.
                let entity = status.lastError?.commandID == attempt.commandID ? documents[key]?.entity : nil
                if let observation = AttemptMapping.observation(commandID: attempt.commandID, entity: entity, status: status) {
                    PipelineScheduler.observe(&run, task: name, commandID: attempt.commandID, observation, at: now)
                }
            }

            // The rules, and the commands they ask for. Attempts recorded but not published
            // long enough ago are published again.
            var publications: [String: Publication] = [:]
            var cancels: [(task: String, attempt: Attempt)] = []
            var actions = scheduler.advance(&run, now: now, open: open.all)
            var republished: [(position: Int, action: PipelineScheduler.Action)] = []
            // An attempt in progress now and not before is a new one, published below anyway.
            for name in open.undecided {
                guard let taskRun = run.tasks[name], taskRun.hasUndecidedAttempt, let attempt = taskRun.lastAttempt, attempt.awaitsPublication, now.timeIntervalSince(attempt.queuedAt) >= settings.republishAfter.seconds,
                    let position = spec.position(ofTask: name), !actions.contains(.publish(task: name, attempt: attempt))
                else { continue }
                republished.append((position, .publish(task: name, attempt: attempt)))
            }
            actions += republished.sorted { $0.position < $1.position }.map(\.action)
            while !actions.isEmpty {
                var failed = false
                for action in actions {
                    switch action {
                    case .cancel(let task, let attempt):
                        cancels.append((task, attempt))
                    case .publish(let task, let attempt):
                        await refreshOwned(task: task, attempt: attempt, run: run, spec: spec, documents: &documents)
                        switch prepare(task: task, attempt: attempt, run: &run, spec: spec, documents: documents) {
                        case .success(let publication):
                            publications[publication.attempt.commandID] = publication
                        case .failure(let problem):
                            PipelineScheduler.observe(
                                &run, task: task, commandID: attempt.commandID, AttemptObservation(started: false, outcome: .failed, error: problem.description), at: now)
                            failed = true
                        }
                    }
                }
                // A failed attempt may decide its task, its stage, the run: the rules again.
                actions = failed ? scheduler.advance(&run, now: now) : []
            }

            if run != marked || (marksDue && run != before) {
                entry.document.run = run
                // An end no pipeline's input takes has nothing to start downstream: said with the
                // end itself rather than by a write of its own after it.
                if !before.state.isFinished, run.state.isFinished, entry.document.downstreamPublished != true, downstream(of: run).isEmpty {
                    entry.document.downstreamPublished = true
                }
                let written: UInt64?
                do {
                    written = try await store.update(entry.document, key: entry.key, revision: entry.revision)
                } catch {
                    logger.warning("Could not record a run; looking again later", metadata: ["run": "\(run.id)", "error": "\(error)"])
                    return
                }
                guard let revision = written else {
                    // Another replica wrote it first: decide again from what it wrote.
                    guard let fresh = try? await store.get(entry.key) else { return }
                    entry = fresh
                    store(fresh)
                    continue
                }
                entry.revision = revision
                entry.document.writer = store.writer
                store(entry)
                if !marks.isEmpty { forgetMarks(marks.map(\.commandID), of: entry.key) }
            }
            await carryOut(publications: Array(publications.values), cancels: cancels, entry: &entry)
            lateCancels(run: entry.document.run, tasks: open.cancelRequested + cancels.map(\.task), documents: documents)
            if !before.state.isFinished, entry.document.run.state.isFinished {
                logger.info("Pipeline run ended", metadata: ["run": "\(run.id)", "pipeline": "\(run.workspace)/\(run.pipeline)", "result": "\(run.state.rawValue)"])
                await startDownstream(entry)
            }
            return
        }
    }

    /// The tasks one evaluation looks at, found in one pass over the run: the open ones
    /// (``TaskRun/isOpen``, what the rules follow), those of them with an attempt in progress,
    /// and those whose last attempt had a cancel published.
    static func openTasks(of run: PipelineRun) -> (all: [String], undecided: [String], cancelRequested: [String]) {
        var open = (all: [String](), undecided: [String](), cancelRequested: [String]())
        for name in run.taskNames(where: { $0.isOpen || $0.lastAttemptCancelRequested }) {
            guard let taskRun = run.tasks[name] else { continue }
            if taskRun.isOpen { open.all.append(name) }
            if taskRun.hasUndecidedAttempt { open.undecided.append(name) }
            if taskRun.lastAttemptCancelRequested { open.cancelRequested.append(name) }
        }
        return open
    }

    /// An inline task's owned resource as the KV holds it now, where the read model says its
    /// spec is not applied and its type's watch has not caught up yet. Until then the read model
    /// can miss what the KV holds (a replica just restarted: the run documents loaded before the
    /// task bucket's values): taken at its word, an attempt after the first would be an `apply`
    /// of the unchanged spec, which the engine answers "unchanged" and runs nothing, and the
    /// attempt would wait forever (found by `scripts/chaos pipelines`: a retried Census task
    /// stuck `queued`). Once caught up, the attempt's previous end came through the same watch,
    /// so the read model holds the resource as it was then. A read that fails leaves the read
    /// model's view.
    private func refreshOwned(task name: String, attempt: Attempt, run: PipelineRun, spec: PipelineSpec, documents: inout ResourceView) async {
        guard let task = spec.task(named: name), !attempt.resourceType.isEmpty else { return }
        guard !state.withLock({ $0.caughtUp.contains(attempt.resourceType) }) else { return }
        let key = ResourceKey(type: attempt.resourceType, workspace: run.workspace, name: attempt.resource)
        guard AttemptCommands.needsFreshRead(task: task, run: run, known: documents[key]) else { return }
        guard let bucketName = taskBuckets.first(where: { $0.type == attempt.resourceType })?.bucket else { return }
        do {
            let bucket = bucketName == context.bucket.name ? context.bucket : try await context.jetStream.keyValue(bucketName)
            documents.set(key, try await AttemptCommands.ownedDocuments(in: bucket, workspace: run.workspace, resource: attempt.resource))
        } catch {
            logger.warning("Could not read a task's resource; deciding from the watched state", metadata: ["resource": "\(attempt.resource)", "error": "\(error)"])
        }
    }

    /// The command of a new (or republished) attempt: its resource's type found where the task
    /// names none, its spec filled in.
    private func prepare(
        task name: String, attempt: Attempt, run: inout PipelineRun, spec: PipelineSpec, documents: ResourceView
    ) -> Result<Publication, AttemptCommands.Problem> {
        guard let task = spec.task(named: name) else { return .failure(.init(description: "no task \(name) in the run's spec")) }
        var attempt = attempt
        if attempt.resourceType.isEmpty {
            let found = taskBuckets.map(\.type).filter { type in
                documents[ResourceKey(type: type, workspace: run.workspace, name: attempt.resource)]?.entity.map { !$0.deleted } == true
            }.sorted()
            guard found.count == 1, let type = found.first else {
                return .failure(
                    .init(
                        description: found.isEmpty
                            ? "no resource \(attempt.resource) is applied in workspace \(run.workspace); apply it, or name its type"
                            : "\(attempt.resource) is applied as several types (\(found.joined(separator: ", "))); name the type in the task"))
            }
            attempt.resourceType = type
            if var taskRun = run.tasks[name], !taskRun.attempts.isEmpty {
                taskRun.attempts[taskRun.attempts.count - 1].resourceType = type
                run.tasks[name] = taskRun
            }
        }
        let owned = documents[ResourceKey(type: attempt.resourceType, workspace: run.workspace, name: attempt.resource)]
        do {
            return .success(Publication(task: name, attempt: attempt, envelope: try AttemptCommands.envelope(for: task, attempt: attempt, run: run, owned: owned, registry: registry)))
        } catch {
            return .failure(error)
        }
    }

    /// Publishes the attempts' commands and the cancels, then records which were published, and
    /// fails the attempts of a type no stream serves.
    private func carryOut(publications: [Publication], cancels: [(task: String, attempt: Attempt)], entry: inout PipelineRunStore.Entry) async {
        guard !publications.isEmpty || !cancels.isEmpty else { return }
        var published: [(task: String, commandID: String)] = []
        var unserved: [(task: String, commandID: String, reason: String)] = []
        for publication in publications.sorted(by: { $0.attempt.commandID < $1.attempt.commandID }) {
            let type = publication.attempt.resourceType
            let subject = commandSubject(type)
            do {
                try await context.jetStream.publish(
                    publication.envelope.encoded(), to: subject, options: JetStreamPublishOptions(messageID: publication.attempt.commandID))
                published.append((publication.task, publication.attempt.commandID))
                PipelineMetrics.attemptPublished(type: type)
            } catch where error.code == .noResponders {
                unserved.append((publication.task, publication.attempt.commandID, "no operator hosts \(type): no stream stores \(subject)"))
            } catch {
                // Published again after `republishAfter`, by this replica or another.
                logger.warning("Could not publish an attempt; it is published again later", metadata: ["command": "\(publication.attempt.commandID)", "error": "\(error)"])
            }
        }
        for (_, attempt) in cancels {
            do {
                let envelope = try AttemptCommands.cancel(attempt: attempt, workspace: entry.document.run.workspace)
                try await context.jetStream.publish(envelope.encoded(), to: commandSubject(attempt.resourceType), options: JetStreamPublishOptions(messageID: "\(attempt.commandID)/cancel"))
            } catch {
                logger.warning("Could not publish a cancel", metadata: ["command": "\(attempt.commandID)", "error": "\(error)"])
            }
        }
        guard !published.isEmpty || !unserved.isEmpty else { return }
        let now = Date()
        guard !unserved.isEmpty else {
            // Marked with the run's next write (usually its attempts' runs starting), or on its
            // own after markDelay: a write per publish would double a chain's writes.
            state.withLock { state in
                var pending = state.unmarked[entry.key] ?? PendingMarks(since: now)
                pending.marks += published.map { (task: $0.task, commandID: $0.commandID, at: now) }
                state.unmarked[entry.key] = pending
            }
            return
        }
        do {
            if let written = try await store.modify(entry.key, startingWith: entry, { document in
                var changed = false
                for (task, commandID) in published where PipelineScheduler.markPublished(&document.run, task: task, commandID: commandID, at: now) { changed = true }
                for (task, commandID, reason) in unserved {
                    if PipelineScheduler.observe(&document.run, task: task, commandID: commandID, AttemptObservation(started: false, outcome: .apiError, error: reason), at: now) {
                        changed = true
                    }
                }
                return changed
            }) {
                entry = written
                store(written)
            }
        } catch {
            logger.warning("Could not record published attempts; they are published again later", metadata: ["run": "\(entry.document.run.id)", "error": "\(error)"])
        }
    }

    /// Marks written on the run document (or no longer needed: another attempt took the task on).
    private func forgetMarks(_ commandIDs: [String], of key: String) {
        let written = Set(commandIDs)
        state.withLock { state in
            guard var pending = state.unmarked[key] else { return }
            pending.marks.removeAll { written.contains($0.commandID) }
            state.unmarked[key] = pending.marks.isEmpty ? nil : pending
        }
    }

    /// An attempt decided (timed out, cancelled) whose run started at its resource only after
    /// the cancel was sent: that run is cancelled too, once per replica.
    private func lateCancels(run: PipelineRun, tasks: [String], documents: ResourceView) {
        for name in tasks {
            guard let taskRun = run.tasks[name], taskRun.lastAttemptCancelRequested, let attempt = taskRun.lastAttempt else { continue }
            let status = documents.status(ResourceKey(type: attempt.resourceType, workspace: run.workspace, name: attempt.resource))
            guard let current = status?.currentRun, current.key == attempt.commandID, !current.isFinished else { continue }
            guard state.withLock({ $0.lateCancels.insert(attempt.commandID).inserted }) else { continue }
            let jetStream = context.jetStream
            let subject = commandSubject(attempt.resourceType)
            let logger = self.logger
            Task {
                do {
                    let envelope = try AttemptCommands.cancel(attempt: attempt, workspace: run.workspace)
                    try await jetStream.publish(envelope.encoded(), to: subject, options: JetStreamPublishOptions(messageID: "\(attempt.commandID)/cancel-late"))
                } catch {
                    logger.warning("Could not cancel a late run", metadata: ["command": "\(attempt.commandID)", "error": "\(error)"])
                }
            }
        }
    }

    // MARK: - Queues (the leader)

    /// Starts the oldest queued run of its pipeline if the concurrency policy lets it, read
    /// afresh: the leader is the only writer of a pipeline's queue.
    private func admit(_ entry: PipelineRunStore.Entry) async {
        let queuedRun = entry.document.run
        guard let spec = spec(of: entry.document) else { return }
        do {
            let runs = try await store.runs(workspace: queuedRun.workspace, pipeline: queuedRun.pipeline)
            let queued = runs.filter { $0.document.run.state == .queued }
            guard let head = queued.first, head.key == entry.key else {
                if let head = queued.first { state.withLock { Self.markDirty(&$0, head.key) } }
                return
            }
            let active = runs.map(\.document.run).filter { $0.state == .running || $0.state == .cancelling }
            let now = Date()
            let decision = PipelineAdmission.decide(spec.concurrency, active: active, queuedAhead: 0)
            switch decision {
            case .queue:
                return
            case .startCancelling(let older):
                for id in older {
                    try await store.modify(PipelineNames.runKey(workspace: queuedRun.workspace, pipeline: queuedRun.pipeline, run: id)) { document in
                        guard !document.run.state.isFinished, document.run.cancel == nil else { return false }
                        document.run.cancel = CancelRequest(mode: .stop, cause: .overlap, at: now, commandID: queuedRun.id)
                        return true
                    }
                }
            case .start, .skip:
                break
            }
            let written = try await store.modify(entry.key) { document in
                guard document.run.state == .queued else { return false }
                if case .skip(let reason) = decision {
                    document.run.state = .skipped
                    document.run.finishedAt = now
                    document.run.reason = "skipped: \(reason)"
                    return true
                }
                document.run.state = .running
                document.run.startedAt = now
                document.run.reason = nil
                return true
            }
            if let written {
                store(written)
                doorbell.ring()
            }
            if let next = queued.dropFirst().first { state.withLock { Self.markDirty(&$0, next.key) } }
        } catch {
            logger.warning("Could not look at a pipeline's queue", metadata: ["pipeline": "\(queuedRun.workspace)/\(queuedRun.pipeline)", "error": "\(error)"])
        }
    }

    // MARK: - Pipelines started by a run's end

    /// Publishes a `run` of every pipeline with a `pipeline` input on this run's pipeline and
    /// result (message id `<pipeline>/<input>/<upstream run id>`), then marks the run.
    private func startDownstream(_ entry: PipelineRunStore.Entry) async {
        let upstream = entry.document.run
        guard upstream.state.isFinished, entry.document.downstreamPublished != true else { return }
        var failed = false
        for (entity, input) in downstream(of: upstream) {
            do {
                let envelope = CommandEnvelope.run(
                    ResourceReference(name: try ResourceName(entity.name), type: PipelineNames.type), workspace: try WorkspaceName(entity.workspace), input: input.input,
                    event: ["input": .string(input.input), "pipeline": .string(upstream.pipeline), "run": .string(upstream.id), "result": .string(upstream.state.rawValue)])
                try await context.jetStream.publish(
                    envelope.encoded(), to: context.names.commandSubject, options: JetStreamPublishOptions(messageID: "\(entity.name)/\(input.input)/\(upstream.id)"))
            } catch {
                failed = true
                logger.warning("Could not start a downstream pipeline; trying again later", metadata: ["pipeline": "\(entity.name)", "error": "\(error)"])
            }
        }
        guard !failed else { return }
        do {
            try await store.modify(entry.key) { document in
                guard document.downstreamPublished != true else { return false }
                document.downstreamPublished = true
                return true
            }
            state.withLock { Self.remove(&$0, entry.key) }
        } catch {
            logger.warning("Could not mark a run's downstream pipelines started", metadata: ["run": "\(upstream.id)", "error": "\(error)"])
        }
    }
}

extension PipelineAdvancer {
    /// The pipelines (and their inputs) that a run's end starts: those of its workspace with a
    /// `pipeline` input on its pipeline taking its result, in name order.
    func downstream(of upstream: PipelineRun) -> [(entity: EntityRecord, input: PipelineInputOn)] {
        let pipelines = state.withLock { $0.pipelines }
        var found: [(entity: EntityRecord, input: PipelineInputOn)] = []
        for (id, entity) in pipelines.sorted(by: { $0.key < $1.key }) where entity.workspace == upstream.workspace && !entity.deleted {
            for input in downstreamInputs(of: entity, id: id) where input.upstream == upstream.pipeline && input.results.contains(upstream.state) {
                found.append((entity, input))
            }
        }
        return found
    }

    /// The `pipeline` inputs of a pipeline entity, its spec decoded once per digest: every run's
    /// end looks at every pipeline of its workspace, and decoding each spec each time was a fifth
    /// of a replica's CPU with a hundred pipelines running at once.
    func downstreamInputs(of entity: EntityRecord, id: String) -> [PipelineInputOn] {
        if let known = state.withLock({ $0.pipelineInputs[id] }), known.digest == entity.specDigest { return known.inputs }
        var inputs: [PipelineInputOn] = []
        if case .success(let spec) = PipelineSpec.decode(entity.spec, context: .structural(pipelineName: entity.name)) {
            for input in spec.inputs {
                guard case .pipeline(let name, let results) = input.source else { continue }
                inputs.append(PipelineInputOn(input: input.name, upstream: name, results: results))
            }
        }
        state.withLock { $0.pipelineInputs[id] = (entity.specDigest, inputs) }
        return inputs
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
