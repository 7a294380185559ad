import Pipelines
import Synchronization

/// Run specs decoded once per spec digest: a run keeps the spec it started with, and both the
/// advancer (every step) and the engine's view of a run (every look) need it decoded; decoding a
/// 1,000-task spec at each look was a tenth of a replica's CPU in a fan-out.
final class RunSpecs: Sendable {
    static let shared = RunSpecs()

    private let cache = Mutex<[String: PipelineSpec]>([:])

    /// Nil when the spec cannot be read.
    func spec(of document: PipelineRunDocument) -> PipelineSpec? {
        let digest = document.run.specDigest
        if let known = cache.withLock({ $0[digest] }) { return known }
        guard case .success(let spec) = PipelineSpec.decode(document.spec, context: .structural(pipelineName: document.run.pipeline)) else { return nil }
        cache.withLock { cache in
            if cache.count > 1000 { cache.removeAll() }
            cache[digest] = spec
        }
        return spec
    }
}
