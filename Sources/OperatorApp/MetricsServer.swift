import Foundation
import Hummingbird
import Logging
import FactoryEngine
import NIOCore
import Prometheus

/// The HTTP side of a replica on METRIC_PORT: Prometheus `/metrics`, `/healthz` (the process
/// answers) and `/readyz` (connected, consumers bound, store reachable, election group complete;
/// 503 with the failing checks otherwise).
enum MetricsServer {
    static func make(port: Int, registry: PrometheusCollectorRegistry, runtime: OperatorRuntime, serverName: String, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
        router.get("healthz") { _, _ -> String in
            "ok\n"
        }
        router.get("readyz") { _, _ -> Response in
            let (ready, checks) = await runtime.readiness()
            let body = checks.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value ? "ok" : "failing")" }.joined(separator: "\n") + "\n"
            return Response(
                status: ready ? .ok : .serviceUnavailable,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: body))
            )
        }
        return Application(router: router, configuration: .init(address: .hostname("0.0.0.0", port: port), serverName: serverName), logger: logger)
    }
}
