import CoreMetrics

/// The pipeline runtime's metrics, beside the engine's:
///
/// | metric | labels | what |
/// |---|---|---|
/// | `factory_pipeline_attempts_published_total` | type | task attempt commands published (republishes included) |
/// | `factory_pipeline_input_events_total` | kind | input events turned into `run` commands (nats, kv, schedule) |
enum PipelineMetrics {
    static func attemptPublished(type: String) {
        Counter(label: "factory_pipeline_attempts_published_total", dimensions: [("type", type)]).increment()
    }

    static func inputEvent(kind: String) {
        Counter(label: "factory_pipeline_input_events_total", dimensions: [("kind", kind)]).increment()
    }
}
