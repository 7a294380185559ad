import FactoryEngine
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The webhook listener on OPERATOR_WEBHOOK_PORT: `POST /webhooks/<vendor>` for each hosted
/// driver that reads its vendor's webhooks and has its secret (docs/pipelines.md, "Completion
/// webhooks"). Answers at once: the look itself happens on the follow-up stream.
enum WebhookServer {
    static func make(port: Int, dispatcher: WebhookDispatcher, serverName: String, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.post("webhooks/:vendor") { request, context -> Response in
            let vendor = context.parameters.get("vendor") ?? ""
            let buffer: ByteBuffer
            do {
                buffer = try await request.body.collect(upTo: WebhookDispatcher.maxBodyBytes)
            } catch {
                return answer(413, "a webhook body is at most \(WebhookDispatcher.maxBodyBytes) bytes")
            }
            let headers = request.headers
            let outcome = await dispatcher.handle(path: vendor, body: Array(buffer.readableBytesView)) { name in
                headers.first { $0.name.canonicalName == name.lowercased() }?.value
            }
            switch outcome {
            case .accepted(let runs): return answer(200, "accepted: \(runs) followed run(s) looked at now")
            case .ignored: return answer(200, "accepted: not about a run's end")
            case .unknownPath: return answer(404, "no webhooks are taken for \(vendor) (served: \(dispatcher.paths.joined(separator: ", ")))")
            case .unauthorized: return answer(401, "missing or wrong signature")
            case .refused(let reason): return answer(400, reason)
            case .unavailable: return answer(503, "cannot record it now; send it again")
            }
        }
        return Application(router: router, configuration: .init(address: .hostname("0.0.0.0", port: port), serverName: serverName), logger: logger)
    }

    private static func answer(_ status: Int, _ text: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
    }
}
