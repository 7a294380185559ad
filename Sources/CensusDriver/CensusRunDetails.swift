import Census
import FactoryModel
import FactoryState
import JSONSchema

/// A run's own fields, kept as the run's `details`: the record counts (`recordsProcessed`,
/// `recordsUpdated`, `recordsFailed`, `recordsInvalid`, `sourceRecordCount`), `fullSync`,
/// `currentStep`, and a failure's `errorCode` and `errorDetail`.
enum CensusRunDetails {
    static func json(_ run: CensusSyncRun) -> JSONValue? {
        var object = JSONObject()
        let counts: [(String, Int?)] = [
            ("recordsProcessed", run.recordsProcessed), ("recordsUpdated", run.recordsUpdated), ("recordsFailed", run.recordsFailed),
            ("recordsInvalid", run.recordsInvalid), ("sourceRecordCount", run.sourceRecordCount),
        ]
        for (key, value) in counts {
            if let value { object[key] = .number(JSONNumber(value)) }
        }
        if let fullSync = run.fullSync { object["fullSync"] = .bool(fullSync) }
        if let step = run.currentStep { object["currentStep"] = .string(step) }
        if let code = run.errorCode { object["errorCode"] = .string(code) }
        if let detail = run.errorDetail { object["errorDetail"] = .string(detail) }
        return object.isEmpty ? nil : .object(object)
    }

    /// `records 950/1000, 3 failed, 47 invalid`: records the destination accepted of those the
    /// run processed, then the rejected and the invalid when there are any; nil while Census
    /// reports no counts (queued, preparing).
    static func summary(_ run: CensusSyncRun) -> String? {
        let failed = run.recordsFailed ?? 0
        let invalid = run.recordsInvalid ?? 0
        guard run.recordsProcessed != nil || run.recordsUpdated != nil || failed > 0 || invalid > 0 else { return nil }
        var text = "records \(run.recordsUpdated ?? 0)/\(run.recordsProcessed.map(String.init) ?? "?")"
        if failed > 0 { text += ", \(failed) failed" }
        if invalid > 0 { text += ", \(invalid) invalid" }
        return text
    }

    /// 0…1: the share of processed records dealt with (accepted, rejected or invalid); 1 once
    /// the run has ended well, nil while Census says nothing.
    static func progress(_ run: CensusSyncRun, phase: RunPhase) -> Double? {
        if phase == .succeeded || phase == .warning { return 1 }
        guard let processed = run.recordsProcessed, processed > 0 else { return nil }
        let handled = (run.recordsUpdated ?? 0) + (run.recordsFailed ?? 0) + (run.recordsInvalid ?? 0)
        return min(max(Double(handled) / Double(processed), 0), 1)
    }

    /// The detail rows of a run: its counts, whether it was a full sync, its step and error detail.
    static func rows(_ details: JSONValue?) -> [DetailRow] {
        guard let details else { return [] }
        var rows: [DetailRow] = []
        func count(_ key: String) -> String { details[key]?.numberValue?.intValue.map(String.init) ?? "-" }
        rows.append(DetailRow("Records processed", count("recordsProcessed")))
        rows.append(DetailRow("Records updated", count("recordsUpdated")))
        rows.append(DetailRow("Records failed", count("recordsFailed")))
        rows.append(DetailRow("Records invalid", count("recordsInvalid")))
        if let source = details["sourceRecordCount"]?.numberValue?.intValue { rows.append(DetailRow("Source records", String(source))) }
        if let fullSync = details["fullSync"]?.boolValue { rows.append(DetailRow("Full sync", fullSync ? "yes" : "no")) }
        if let step = details["currentStep"]?.stringValue { rows.append(DetailRow("Step", step)) }
        if let code = details["errorCode"]?.stringValue { rows.append(DetailRow("Error code", code)) }
        if let detail = details["errorDetail"]?.stringValue { rows.append(DetailRow("Error detail", detail)) }
        return rows
    }
}
