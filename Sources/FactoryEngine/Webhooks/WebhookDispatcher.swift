import Crypto
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Logging

/// Takes vendors' completion webhooks for the hosted drivers that read them: checks the
/// signature with the vendor's secret, reads which followed runs the notification is about (from
/// the replica's read model, no KV round trip) and publishes a prompt follow-up for each, so some
/// replica looks at the run now instead of at the next reconcile tick. Polling stays as it was: a
/// lost or never-sent webhook only means the end is seen at the next regular look.
public struct WebhookDispatcher: Sendable {
    /// What became of one notification, with the HTTP status a listener answers.
    public enum Outcome: Sendable, Equatable {
        /// Signed and read: prompts published for this many runs (zero when no followed run is
        /// its subject: another system's connector, a run already seen ended).
        case accepted(runs: Int)
        /// Signed, about no run's end (a sync started, a test ping).
        case ignored
        /// No hosted driver reads webhooks on this path, or its secret is not set.
        case unknownPath
        /// The signature is missing or wrong.
        case unauthorized
        /// Signed but not what the vendor sends.
        case refused(String)
        /// A prompt could not be published (NATS unavailable): the vendor should send it again.
        case unavailable(String)

        public var httpStatus: Int {
            switch self {
            case .accepted, .ignored: return 200
            case .unknownPath: return 404
            case .unauthorized: return 401
            case .refused: return 400
            case .unavailable: return 503
            }
        }
    }

    struct Target: Sendable {
        var type: String
        var readModel: StatusReadModel
        var followUps: any FollowUpPublisher
    }

    struct Route: Sendable {
        var receiver: WebhookReceiver
        var secret: String
        var targets: [Target]
    }

    let routes: [String: Route]
    let logger: Logger

    init(routes: [String: Route], logger: Logger) {
        self.routes = routes
        self.logger = logger
    }

    /// The paths served (`fivetran`, `dbtcloud`), sorted.
    public var paths: [String] { routes.keys.sorted() }

    /// Notifications larger than this are refused unread (vendors send a few hundred bytes).
    public static let maxBodyBytes = 256 * 1024

    public func handle(path: String, body: [UInt8], header: (String) -> String?) async -> Outcome {
        guard let route = routes[path] else { return .unknownPath }
        guard route.receiver.verify(body, header, route.secret) else {
            logger.warning("Refused a webhook with a missing or wrong signature", metadata: ["webhook": "\(path)"])
            return .unauthorized
        }
        let notice: WebhookNotice?
        do {
            notice = try route.receiver.read(body)
        } catch {
            logger.warning("Refused an unreadable webhook", metadata: ["webhook": "\(path)", "error": "\(error)"])
            return .refused(error.description)
        }
        guard let notice else { return .ignored }
        // The body's digest: a vendor's retries of one notification are one prompt.
        let id = SHA256.hash(data: body).prefix(8).map { String(format: "%02x", $0) }.joined()
        var prompted = 0
        for target in route.targets {
            for candidate in target.readModel.runsInProgress() where notice.concerns(candidate.run, candidate.objects) {
                let prompt = FollowUp.prompt(workspace: candidate.workspace, name: candidate.name, runKey: candidate.run.key, id: id)
                do {
                    try await target.followUps.publish(prompt)
                    prompted += 1
                } catch {
                    logger.warning("Could not publish a webhook's prompt", metadata: ["webhook": "\(path)", "resource": "\(candidate.workspace)/\(candidate.name)", "error": "\(error)"])
                    return .unavailable("\(error)")
                }
            }
        }
        logger.info("Webhook", metadata: ["webhook": "\(path)", "notice": "\(notice.description)", "runs": "\(prompted)"])
        return .accepted(runs: prompted)
    }
}

extension OperatorRuntime {
    /// The dispatcher for the hosted drivers that read webhooks and whose secret `environment`
    /// sets; a driver whose secret is missing is logged and left out (its runs are polled).
    public func webhookDispatcher(environment: [String: String]) -> WebhookDispatcher {
        var routes: [String: WebhookDispatcher.Route] = [:]
        for deployment in deployments {
            guard let receiver = deployment.hosted.driver.webhook else { continue }
            guard let secret = environment[receiver.secretVariable], !secret.isEmpty else {
                logger.warning(
                    "Webhooks of a hosted type are not taken: its secret is not set",
                    metadata: ["type": "\(deployment.hosted.type)", "variable": "\(receiver.secretVariable)"])
                continue
            }
            let target = WebhookDispatcher.Target(
                type: deployment.hosted.type, readModel: deployment.readModel,
                followUps: FollowUps(jetStream: jetStream, subject: deployment.names.followUpSubject))
            routes[receiver.path, default: WebhookDispatcher.Route(receiver: receiver, secret: secret, targets: [])].targets.append(target)
        }
        return WebhookDispatcher(routes: routes, logger: logger)
    }
}
