import ArgumentParser
import FactoryModel
import Foundation
import JSONSchema

/// `factory-bench validation`: seed resource validations per second on one core, and command
/// envelope decodes per second. Build with `swift build -c release --product factory-bench`.
///
/// Everything runs on the calling task, one core, no concurrency. Each figure is the best of
/// several rounds, so a scheduler hiccup does not hide the machine's real rate.
struct ValidationBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validation",
        abstract: "Seed spec validations and command envelope decodes per second, on one core.")

    @Option(help: "Seconds per round.")
    var seconds: Double = 1.0

    @Option(help: "Rounds per figure (the best is reported).")
    var rounds: Int = 3

    func run() async throws {
        let manifest = try ResourceManifest.load(from: BenchmarkSeed.resourceYAML)
        guard let hightouch = ResourceTypeRegistry.seedDefault.definition(forType: "hightouch") else {
            throw ValidationError("the built-in registry has no hightouch type")
        }
        let schema = hightouch.specSchema
        let spec = manifest.resource.spec
        guard schema.validate(spec).isEmpty else { throw ValidationError("the seed spec should be valid") }

        var invalidSpec = spec
        if case .object(var root) = invalidSpec, case .object(var model)? = root["model"] {
            model["isSchema"] = "false"
            model["extra"] = 1
            root["model"] = .object(model)
            invalidSpec = .object(root)
        }
        let invalidErrors = schema.validate(invalidSpec).count

        let workspace = try WorkspaceName("public")
        let commandBytes = CommandEnvelope.apply(manifest, workspace: workspace).encoded()
        let validator = CommandValidator()
        let decodeLimits = CommandDecodingLimits.default

        print("factory-bench validation: \(ProcessInfo.processInfo.activeProcessorCount) cores available, measuring on one; best of \(rounds) × \(seconds)s")
        let valid = measure { schema.validate(spec).count }
        report("seed spec validations (valid, JSONSchema.validate)", valid)
        let fast = measure { schema.isValid(spec) ? 0 : 1 }
        report("seed spec checks (valid, JSONSchema.isValid)", fast)
        let invalid = measure { schema.validate(invalidSpec).count }
        report("seed spec validations (invalid, \(invalidErrors) errors listed)", invalid)
        let decodes = measure {
            (try? CommandEnvelope(decoding: commandBytes, limits: decodeLimits)) == nil ? 1 : 0
        }
        report("envelope decodes (\(commandBytes.count)-byte apply, parse + manifest)", decodes)
        let checks = measure {
            switch validator.validate(commandBytes) {
            case .success: return 0
            case .failure: return 1
            }
        }
        report("envelope decode + full validation (CommandValidator)", checks)
        print("goal: at least 50,000 seed validations/s: \(valid >= 50_000 ? "met" : "NOT met") (\(Self.format(valid))/s)")
    }

    /// Operations per second of `operation`, the best of `rounds`.
    private func measure(_ operation: () -> Int) -> Double {
        var sink = 0
        var best = 0.0
        let clock = ContinuousClock()
        for _ in 0..<max(1, rounds) {
            var iterations = 0
            let start = clock.now
            var elapsed = Duration.zero
            while elapsed < .seconds(seconds) {
                for _ in 0..<256 {
                    sink &+= operation()
                }
                iterations += 256
                elapsed = clock.now - start
            }
            let perSecond = Double(iterations) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            best = max(best, perSecond)
        }
        // Keep the results observable so the optimiser cannot drop the work.
        if sink == Int.min { print("") }
        return best
    }

    private func report(_ label: String, _ perSecond: Double) {
        let padded = label.padding(toLength: 62, withPad: " ", startingAt: 0)
        print("\(padded) \(Self.format(perSecond).leftPadded(12))/s  (\(String(format: "%.2f", 1e6 / perSecond)) µs each)")
    }

    private static func format(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 0
        return formatter.string(from: NSNumber(value: value.rounded())) ?? String(Int(value))
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// The seed resource manifest (`shared/fixtures/seed/resource.yaml`, also `examples/resource.yaml`),
/// embedded so the benchmark runs from any directory.
enum BenchmarkSeed {
    static let resourceYAML = #"""
        # Resource meta section
        version: v1beta
        name: pipeline-01
        type: resource
        tags:
          - hightouch-pipeline
          - hightouch-operator
        description: hightouch-pipeline resource

        # Resource-specific section
        resource:
          operator: hightouch-factory
          type: hightouch
          spec:
            model:
              name: "city-retail-01"
              slug: "city-retail-01"
              queryType: "raw_sql"
              sourceId: "23474"
              isSchema: false
              primaryKey: "__metadata"
              raw:
                sql: "SELECT * FROM icebase.retail.city LIMIT 10000"
            sync:
              slug: "icebase-excel-01"
              "configuration":
                "mode": "mirror"
                "driveId": "me/drive"
                "mappings": [ ]
                "workbookId": "014W54IBU6FZWIKUZNXZAYB35OCXH7DD3Z"
                "worksheetId": "{00000000-0001-0000-0000-000000000000}"
                "configVersion": 0
                "autoSyncColumns": true
                "workbookSelection": "select"
              "destinationId": "80565"
              "schedule":
                "type": "cron"
                "schedule":
                  "expression": "*/5 * * * *"
        #      "schedule": null
              "disabled": false
            trigger:
              "resetCDC": false
              "fullResync": false
        """#
}
