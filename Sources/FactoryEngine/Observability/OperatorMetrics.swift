import CoreMetrics

/// The operator's metrics through swift-metrics; `hightouch-operator` serves them as Prometheus
/// text on METRIC_PORT `/metrics`. Names and labels (see README, Operations):
///
/// | metric | labels | what |
/// |---|---|---|
/// | `factory_commands_received_total` | op | command deliveries taken up (redeliveries included) |
/// | `factory_command_redeliveries_total` | op | deliveries after the first |
/// | `factory_commands_total` | op, outcome, disposition | handled commands: outcome (`triggered`, `unchanged`, `duplicate`, `superseded`, `deleted`, `waiting`, `retrying`, `refused`, `failed`, `gaveUp`, `lostOwnership`, …) and what became of the message (`ack`, `nak`, `term`, `abandon`) |
/// | `factory_command_duration_seconds` | op | time to handle one delivery |
/// | `factory_vendor_requests_total` | vendor, route, status | every vendor HTTP attempt |
/// | `factory_vendor_request_duration_seconds` | vendor, route | their latency |
/// | `factory_runs_finished_total` | status | runs seen ending (success, warning, failed, cancelled, interrupted) |
/// | `factory_runs_in_flight` | | runs being followed (follow-up messages waiting) |
/// | `factory_kv_operations_total` | op, result | state reads and writes (`ok`, `conflict`, `missing`, `error`) |
/// | `factory_kv_cas_conflicts_total` | | lost compare-and-set races |
/// | `factory_leader` | | 1 while this replica leads |
/// | `factory_queries_total` | kind | status queries answered (`resource`, `list`, `error`) |
/// | `factory_query_duration_seconds` | | time to answer one |
public enum OperatorMetrics {
    static func commandReceived(op: String, delivery: Int) {
        Counter(label: "factory_commands_received_total", dimensions: [("op", op)]).increment()
        if delivery > 1 {
            Counter(label: "factory_command_redeliveries_total", dimensions: [("op", op)]).increment()
        }
    }

    /// A repair of vendor objects (`kind`: onUse, scheduled).
    static func driftRepaired(type: String, kind: String) {
        Counter(label: "factory_drift_repairs_total", dimensions: [("type", type), ("kind", kind)]).increment()
    }

    static func commandHandled(op: String, result: CommandResult, elapsed: Duration) {
        let disposition: String
        switch result.disposition {
        case .ack: disposition = "ack"
        case .nak: disposition = "nak"
        case .term: disposition = "term"
        case .abandon: disposition = "abandon"
        }
        Counter(label: "factory_commands_total", dimensions: [("op", op), ("outcome", result.outcome), ("disposition", disposition)]).increment()
        Timer(label: "factory_command_duration_seconds", dimensions: [("op", op)], preferredDisplayUnit: .seconds).record(elapsed)
    }

    static func runFinished(status: String) {
        Counter(label: "factory_runs_finished_total", dimensions: [("status", status)]).increment()
    }

    static func runsInFlight(_ count: Int) {
        Gauge(label: "factory_runs_in_flight").record(count)
    }

    static func kv(_ op: String, _ result: String) {
        Counter(label: "factory_kv_operations_total", dimensions: [("op", op), ("result", result)]).increment()
        if result == "conflict" {
            Counter(label: "factory_kv_cas_conflicts_total").increment()
        }
    }

    static func leader(_ isLeader: Bool) {
        Gauge(label: "factory_leader").record(isLeader ? 1 : 0)
    }

    static func query(kind: String, elapsed: Duration) {
        Counter(label: "factory_queries_total", dimensions: [("kind", kind)]).increment()
        Timer(label: "factory_query_duration_seconds", preferredDisplayUnit: .seconds).record(elapsed)
    }
}

extension Timer {
    func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
