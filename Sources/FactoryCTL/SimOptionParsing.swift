import ArgumentParser
import HightouchSimulator

// MARK: - SimOptionParsing

/// Parses the simulator's option values, failing with a message that names the option.
enum SimOptionParsing {
    /// `500ms`, `10s`, `1m`, `2h` (also `1.5s`).
    static func duration(_ text: String, option: String) throws -> Duration {
        let units: [(suffix: String, scale: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600)]
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            // "ms" also ends in "s": only accept a plain number before the suffix.
            if let value = Double(number), value >= 0, value.isFinite {
                return .milliseconds(Int64((value * unit.scale * 1_000).rounded()))
            }
        }
        throw ValidationError("\(option) must be a duration such as 500ms, 10s, 1m or 2h; got '\(text)'.")
    }

    /// `success=8,warning=1,failed=1`: weights of a simulator's outcomes, at least one positive.
    /// `names` lists the outcomes and `example` shows a value in the error.
    static func outcomeWeights<Outcome: RawRepresentable & Hashable>(
        _ text: String, as _: Outcome.Type, names: String, example: String
    ) throws -> [Outcome: Double] where Outcome.RawValue == String {
        var weights: [Outcome: Double] = [:]
        for part in text.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, let outcome = Outcome(rawValue: String(pair[0])), let weight = Double(pair[1]), weight >= 0 else {
                throw ValidationError("--outcomes must list OUTCOME=WEIGHT pairs (\(names)), e.g. \(example); got '\(text)'.")
            }
            weights[outcome] = weight
        }
        guard weights.values.contains(where: { $0 > 0 }) else {
            throw ValidationError("--outcomes needs at least one positive weight; got '\(text)'.")
        }
        return weights
    }

    /// Hightouch's outcomes.
    static func outcomeWeights(_ text: String) throws -> [HightouchSimulator.RunOutcome: Double] {
        try self.outcomeWeights(
            text, as: HightouchSimulator.RunOutcome.self, names: "success, warning, failed, cancelled, interrupted", example: "success=8,failed=1"
        )
    }

    /// `ID` or `ID:SLUG:TYPE`.
    static func seedObject(_ text: String, option: String, defaultType: String) throws -> HightouchSimulator.SeedObject {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (parts.count == 1 || parts.count == 3), let id = Int(parts[0]), id > 0, parts.allSatisfy({ !$0.isEmpty }) else {
            throw ValidationError("\(option) must be ID or ID:SLUG:TYPE with a positive numeric ID, e.g. 42 or 42:crm:hubspot; got '\(text)'.")
        }
        let slug = parts.count == 3 ? parts[1] : "seed-\(id)"
        return HightouchSimulator.SeedObject(id: id, name: slug, slug: slug, type: parts.count == 3 ? parts[2] : defaultType)
    }

    /// `REQUESTS/WINDOW` (`200/10s`) or `off`; `example` shows a value in the error.
    static func rateWindow(_ text: String, example: String) throws -> (requests: Int, window: Duration)? {
        if text == "off" || text == "none" { return nil }
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, let requests = Int(parts[0]), requests >= 1 else {
            throw ValidationError("--rate-limit must be REQUESTS/WINDOW such as \(example), or 'off'; got '\(text)'.")
        }
        let window = try self.duration(String(parts[1]), option: "--rate-limit window")
        guard window > .zero else {
            throw ValidationError("--rate-limit window must be positive; got '\(text)'.")
        }
        return (requests, window)
    }

    /// Hightouch's rate limit: `200/10s` or `off`.
    static func rateLimit(_ text: String) throws -> HightouchSimulator.RateLimit? {
        try self.rateWindow(text, example: "200/10s").map { HightouchSimulator.RateLimit(requests: $0.requests, window: $0.window) }
    }
}
