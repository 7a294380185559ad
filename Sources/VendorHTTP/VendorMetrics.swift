import CoreMetrics

/// Vendor request metrics through swift-metrics (no-op until the process bootstraps a backend):
/// `factory_vendor_requests_total{vendor,route,status}` counts every attempt by its HTTP status
/// (or `transport`, `timeout`), and `factory_vendor_request_duration_seconds{vendor,route}`
/// times them.
enum VendorMetrics {
    static func record(vendor: String, route: String, outcome: String, elapsed: Duration) {
        Counter(label: "factory_vendor_requests_total", dimensions: [("vendor", vendor), ("route", route), ("status", outcome)]).increment()
        let (seconds, attoseconds) = elapsed.components
        Timer(label: "factory_vendor_request_duration_seconds", dimensions: [("vendor", vendor), ("route", route)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
