import ArgumentParser
import Foundation
import NATSKit
import NATSTestKit

/// `factory-bench nats`: NATSKit against raw cnats, the same operations on the same server
/// binary in the same run. Each round starts a fresh server for the C floor and another for the
/// wrapper; the table shows medians over the rounds and the wrapper's share of the floor.
struct NATSBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nats",
        abstract: "NATSKit (the Swift wrapper) against raw cnats: JetStream publish, fetch+ack, KV, request-reply."
    )

    @Option(help: "Operations per measurement (fetch+ack uses four times as many).")
    var count = 5000

    @Option(help: "Rounds; the table shows the median of each figure.")
    var rounds = 3

    @Option(help: "The C floor's source, compiled with cc -O2 -lnats.")
    var rawSource = "scripts/bench/raw_cnats.c"

    @Option(help: "nats-server binary (default: NATS_SERVER_BIN, .venv, PATH).")
    var server: String?

    @Option(help: "Only these operations (comma-separated), e.g. js_publish,kv_put. Default: all.")
    var only: String?

    @Option(name: .customLong("send-asap"), help: "NATSKit's sendAsap setting for the measuring connection (true: each message written at once).")
    var sendAsap = true

    func run() async throws {
        let rawBinary = try compileRawFloor()
        print(MachineDescription.current(serverExecutable: server))
        print("count \(count) per operation (fetch+ack \(count * 4)), 128-byte payloads, file storage, R1, \(rounds) rounds, medians\n")

        var raw: [String: [Figure]] = [:]
        var wrapped: [String: [Figure]] = [:]
        for round in 1...rounds {
            // Alternate who goes first, so that warm-up and neighbours' noise fall on both sides.
            let rawFirst = round % 2 == 1
            for side in rawFirst ? ["raw", "swift"] : ["swift", "raw"] {
                FileHandle.standardError.write(Data("round \(round)/\(rounds): \(side == "raw" ? "raw cnats" : "NATSKit")…\n".utf8))
                if side == "raw" {
                    for figure in try await measureRaw(binary: rawBinary) { raw[figure.operation, default: []].append(figure) }
                } else {
                    for figure in try await measureWrapper() { wrapped[figure.operation, default: []].append(figure) }
                }
            }
        }

        let operations = ["js_publish", "fetch_ack", "fetch_acksync", "kv_put", "kv_get", "kv_update", "request_reply"]
        var table = TextTable(columns: ["operation", "raw cnats (ops/s)", "range", "NATSKit (ops/s)", "range", "NATSKit / raw"])
        for operation in operations {
            guard let rawFigure = Figure.median(raw[operation]), let swiftFigure = Figure.median(wrapped[operation]) else { continue }
            table.add([
                operation, format(rawFigure.rate), range(raw[operation]), format(swiftFigure.rate), range(wrapped[operation]),
                String(format: "%.0f%%", 100 * swiftFigure.rate / rawFigure.rate),
            ])
        }
        print(table.render())
        if let rawLatency = Figure.median(raw["request_reply"], by: \.p50), let swiftLatency = Figure.median(wrapped["request_reply"], by: \.p50) {
            let rawP99 = Figure.median(raw["request_reply"], by: \.p99)?.p99 ?? 0
            let swiftP99 = Figure.median(wrapped["request_reply"], by: \.p99)?.p99 ?? 0
            var latency = TextTable(columns: ["request-reply latency", "raw cnats", "NATSKit", "NATSKit / raw"])
            latency.add(["p50 (µs)", String(format: "%.0f", rawLatency.p50), String(format: "%.0f", swiftLatency.p50), String(format: "%.2fx", swiftLatency.p50 / rawLatency.p50)])
            latency.add(["p99 (µs)", String(format: "%.0f", rawP99), String(format: "%.0f", swiftP99), String(format: "%.2fx", swiftP99 / max(rawP99, 1))])
            print("\n" + latency.render())
        }
    }

    // MARK: - The C floor

    private func compileRawFloor() throws -> String {
        try RawFloor.compile(source: rawSource)
    }

    private func measureRaw(binary: String) async throws -> [Figure] {
        try await RawFloor.measure(binary: binary, count: count, server: server)
    }

    // MARK: - NATSKit

    private func measureWrapper() async throws -> [Figure] {
        let serverProcess = try await NATSServerProcess.start(.init(executable: server))
        do {
            let figures = try await measureWrapper(url: serverProcess.url)
            await serverProcess.stop()
            return figures
        } catch {
            await serverProcess.stop()
            throw error
        }
    }

    private func measureWrapper(url: String) async throws -> [Figure] {
        let selected = only.map { Set($0.split(separator: ",").map(String.init)) }
        func wanted(_ operation: String) -> Bool { selected?.contains(operation) ?? true }
        var figures: [Figure] = []
        let connection = try await NATSConnection.connect(NATSConfiguration(servers: [url], name: "bench", sendAsap: sendAsap))
        let jetStream = try await connection.jetStream()
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 128)

        // 1. JetStream publish with a message id.
        var clock = ContinuousClock.now
        if wanted("js_publish") {
            try await jetStream.createOrUpdateStream(StreamConfiguration(name: "SWIFTPUB", subjects: ["swift.pub"], retention: .workqueue))
            clock = ContinuousClock.now
            for index in 0..<count {
                try await jetStream.publish(payload, to: "swift.pub", options: .init(messageID: "m-\(index)"))
            }
            figures.append(Figure(operation: "js_publish", count: count, elapsed: ContinuousClock.now - clock))
        }
        if selected != nil, !wanted("fetch_ack"), !wanted("kv_put"), !wanted("request_reply") {
            await connection.close()
            return figures
        }

        // 2. Fetch(100) + ack, and fetch(100) + ackSync.
        for (mode, total) in [("fetch_ack", count * 4), ("fetch_acksync", count)] {
            let stream = "SWIFT" + mode.uppercased().replacingOccurrences(of: "_", with: "")
            let subject = "swift." + mode
            try await jetStream.createOrUpdateStream(StreamConfiguration(name: stream, subjects: [subject], retention: .workqueue))
            try await publishConcurrently(jetStream, subject: subject, payload: payload, total: total)
            try await jetStream.createOrUpdateConsumer(stream: stream, ConsumerConfiguration(durableName: "swift", ackPolicy: .explicit))
            let consumer = try await jetStream.pullConsumer(stream: stream, consumer: "swift")
            var received = 0
            clock = ContinuousClock.now
            while received < total {
                let batch = try await consumer.fetch(batch: 100, timeout: .seconds(5))
                for message in batch {
                    if mode == "fetch_ack" { try message.ack() } else { try await message.ackSync() }
                }
                received += batch.count
            }
            figures.append(Figure(operation: mode, count: total, elapsed: ContinuousClock.now - clock))
        }

        // 3. KV put, get, update.
        let bucket = try await jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: "SWIFTKV", history: 1))
        var revisions = [UInt64](repeating: 0, count: count)
        clock = ContinuousClock.now
        for index in 0..<count { revisions[index] = try await bucket.put("k.\(index)", payload) }
        figures.append(Figure(operation: "kv_put", count: count, elapsed: ContinuousClock.now - clock))
        clock = ContinuousClock.now
        for index in 0..<count { _ = try await bucket.get("k.\(index)") }
        figures.append(Figure(operation: "kv_get", count: count, elapsed: ContinuousClock.now - clock))
        clock = ContinuousClock.now
        for index in 0..<count { _ = try await bucket.update("k.\(index)", payload, expectedRevision: revisions[index]) }
        figures.append(Figure(operation: "kv_update", count: count, elapsed: ContinuousClock.now - clock))

        // 4. Request-reply: a SendAsap responder, serial requests.
        let responderConnection = try await NATSConnection.connect(NATSConfiguration(servers: [url], name: "bench-responder", sendAsap: true))
        let requests = try await responderConnection.subscribe(to: "swift.echo", queue: "echo")
        let responder = Task {
            for await request in requests { try? responderConnection.respond(to: request, with: request.payload) }
        }
        for _ in 0..<200 { _ = try await connection.request(payload, to: "swift.echo") }
        var latencies: [Double] = []
        latencies.reserveCapacity(count)
        clock = ContinuousClock.now
        for _ in 0..<count {
            let started = ContinuousClock.now
            _ = try await connection.request(payload, to: "swift.echo")
            latencies.append((ContinuousClock.now - started).microseconds)
        }
        var requestFigure = Figure(operation: "request_reply", count: count, elapsed: ContinuousClock.now - clock)
        latencies.sort()
        requestFigure.p50 = latencies[latencies.count / 2]
        requestFigure.p99 = latencies[(latencies.count * 99) / 100]
        figures.append(requestFigure)
        responder.cancel()
        try? requests.unsubscribe()
        await responderConnection.close()
        await connection.close()
        return figures
    }

    /// Fills a stream quickly for the fetch measurements (not itself measured).
    private func publishConcurrently(_ jetStream: JetStreamContext, subject: String, payload: [UInt8], total: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let lanes = 16
            for lane in 0..<lanes {
                group.addTask {
                    var index = lane
                    while index < total {
                        try await jetStream.publish(payload, to: subject)
                        index += lanes
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    private func range(_ figures: [Figure]?) -> String {
        guard let rates = figures?.map(\.rate), let low = rates.min(), let high = rates.max() else { return "" }
        return format(low) + "–" + format(high)
    }

    private func format(_ rate: Double) -> String {
        rate >= 10_000 ? String(format: "%.1fk", rate / 1000) : String(format: "%.0f", rate)
    }
}

/// One measured figure; decodes the C floor's JSON lines.
struct Figure: Codable {
    var operation: String
    var count: Int
    var seconds: Double
    var rate: Double
    var p50: Double = 0
    var p99: Double = 0

    enum CodingKeys: String, CodingKey {
        case operation = "op", count, seconds, rate
        case p50 = "p50_us"
        case p99 = "p99_us"
    }

    init(operation: String, count: Int, elapsed: Duration) {
        self.operation = operation
        self.count = count
        self.seconds = elapsed.seconds
        self.rate = Double(count) / elapsed.seconds
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        operation = try container.decode(String.self, forKey: .operation)
        count = try container.decode(Int.self, forKey: .count)
        seconds = try container.decode(Double.self, forKey: .seconds)
        rate = try container.decode(Double.self, forKey: .rate)
        p50 = try container.decodeIfPresent(Double.self, forKey: .p50) ?? 0
        p99 = try container.decodeIfPresent(Double.self, forKey: .p99) ?? 0
    }

    static func median(_ figures: [Figure]?, by key: KeyPath<Figure, Double> = \.rate) -> Figure? {
        guard let figures, !figures.isEmpty else { return nil }
        return figures.sorted { $0[keyPath: key] < $1[keyPath: key] }[figures.count / 2]
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    var microseconds: Double { seconds * 1e6 }
}
