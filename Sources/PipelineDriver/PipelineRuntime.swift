import FactoryEngine
import FactoryModel
import Foundation
import Logging
import NATSKit
import Pipelines
import Synchronization

/// What the `pipeline` driver and its companion share in one replica: the pipeline bucket, once
/// the replica is connected (the engine makes drivers before it connects; the companion is
/// started connected, before any command is fetched), and the driver's settings.
public final class PipelineRuntime: Sendable {
    public struct Settings: Sendable, Hashable {
        /// An attempt recorded but not published this long ago is published again by whichever
        /// replica sees it (its message id makes it once): a replica died between the two.
        public var republishAfter: Duration
        /// Run documents evaluated at once by one replica.
        public var workers: Int
        /// How often deadlines, retries, schedules and unpublished attempts are looked at, at most.
        public var tick: Duration

        public init(republishAfter: Duration = .seconds(5), workers: Int = 8, tick: Duration = .milliseconds(250)) {
            self.republishAfter = republishAfter
            self.workers = workers
            self.tick = tick
        }
    }

    public let settings: Settings
    private let connected = Mutex<PipelineRunStore?>(nil)

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    func connect(bucket: KeyValueBucket) {
        connected.withLock { $0 = PipelineRunStore(bucket: bucket) }
    }

    /// The run documents, or a transient failure before the companion connected them.
    func store() throws(VendorFailure) -> PipelineRunStore {
        guard let store = connected.withLock({ $0 }) else {
            throw VendorFailure(
                kind: .transient, reason: "pipelineRuntimeUnavailable",
                message: "the pipeline runtime of this replica is not connected yet (is pipeline hosted with its companion?); retrying")
        }
        return store
    }
}
