import CoreMetrics

extension OperatorMetrics {
    /// A lineage event stored in the lineage stream.
    static func lineagePublished(type: String, event: String) {
        Counter(label: "factory_lineage_events_total", dimensions: [("type", type), ("event", event)]).increment()
    }

    /// A lineage publish that failed or timed out (left to the next look at the run).
    static func lineageFailed(type: String) {
        Counter(label: "factory_lineage_publish_failures_total", dimensions: [("type", type)]).increment()
    }

    /// What the forwarder did with one delivery: delivered, retry, error (no answer), deadlettered.
    static func lineageForwarded(outcome: String) {
        Counter(label: "factory_lineage_forwarded_total", dimensions: [("outcome", outcome)]).increment()
    }
}
