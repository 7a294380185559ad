import FactoryEngine
import Foundation
import Logging
import NATSKit

/// Follows one KV bucket with a watch (every current value, then every change), restarting the
/// watch when it ends, and waiting for a bucket that does not exist yet (a task type no operator
/// has hosted so far) instead of failing.
struct BucketFollower: Sendable {
    let name: String
    /// The bucket when it is known already (the pipeline's own).
    let known: KeyValueBucket?
    let jetStream: JetStreamContext
    let logger: Logger
    let retryAfter: Duration
    let handle: @Sendable (KeyValueWatchEvent) -> Void

    func run() async {
        var reported = false
        while !Task.isCancelled {
            do {
                let bucket: KeyValueBucket
                if let known { bucket = known } else { bucket = try await jetStream.keyValue(name) }
                let (ended, signal) = AsyncStream.makeStream(of: Void.self)
                let handle = self.handle
                let logger = self.logger
                let name = self.name
                let loop = try await bucket.watch(">") { event in
                    switch event {
                    case .success(let event):
                        handle(event)
                    case .failure(let error):
                        logger.warning("A bucket watch ended; watching again", metadata: ["bucket": "\(name)", "error": "\(error)"])
                        signal.finish()
                    }
                }
                reported = false
                await withTaskCancellationHandler {
                    for await _ in ended {}
                } onCancel: {
                    loop.stop()
                    signal.finish()
                }
                loop.stop()
            } catch let error as NATSError where error.code == .notFound {
                if !reported {
                    logger.info("A task type's bucket does not exist yet; looking again", metadata: ["bucket": "\(name)"])
                    reported = true
                }
            } catch {
                logger.warning("Cannot watch a bucket; trying again", metadata: ["bucket": "\(name)", "error": "\(error)"])
            }
            try? await Task.sleep(for: retryAfter)
        }
    }
}
