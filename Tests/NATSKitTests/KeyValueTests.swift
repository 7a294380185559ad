import Foundation
import NATSKit
import NATSTestKit
import Testing

@Suite("Key-value", .timeLimit(.minutes(2)))
struct KeyValueTests {
    func makeBucket(_ connection: NATSConnection, history: Int = 5, ttl: Duration? = nil) async throws -> KeyValueBucket {
        let jetStream = try await connection.jetStream()
        return try await jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: uniqueName("kv"), history: history, ttl: ttl))
    }

    @Test("get, put, create and update with revisions; a CAS conflict is its own error")
    func compareAndSet() async throws {
        try await withConnection { connection, _ in
            let bucket = try await makeBucket(connection)
            #expect(try await bucket.get("missing") == nil)

            let created = try await bucket.create("resource.public.pipeline-01", .text("v1"))
            let exists = await expectNATSError { try await bucket.create("resource.public.pipeline-01", .text("again")) }
            #expect(exists?.code == .keyExists)
            #expect(exists?.isConflict == true)

            let entry = try #require(try await bucket.get("resource.public.pipeline-01"))
            #expect(entry.string == "v1")
            #expect(entry.revision == created)
            #expect(entry.operation == .put)
            #expect(entry.bucket == bucket.name)

            let updated = try await bucket.update("resource.public.pipeline-01", .text("v2"), expectedRevision: created)
            #expect(updated > created)
            let stale = await expectNATSError { try await bucket.update("resource.public.pipeline-01", .text("v3"), expectedRevision: created) }
            #expect(stale?.code == .revisionConflict)
            #expect(stale?.isConflict == true)
            #expect(try await bucket.get("resource.public.pipeline-01")?.string == "v2", "the losing write changed nothing")

            let put = try await bucket.put("other", .text("x"))
            #expect(put > updated)
            #expect(try await bucket.get("resource.public.pipeline-01", revision: created)?.string == "v1")
        }
    }

    @Test("concurrent updates at one revision: exactly one wins")
    func concurrentUpdatesOneWinner() async throws {
        try await withConnection { connection, _ in
            let bucket = try await makeBucket(connection)
            let revision = try await bucket.create("counter", .text("0"))
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        do {
                            try await bucket.update("counter", .text("\(writer)"), expectedRevision: revision)
                            return true
                        } catch {
                            return false
                        }
                    }
                }
                var results: [Bool] = []
                for await result in group { results.append(result) }
                return results
            }
            #expect(outcomes.filter { $0 }.count == 1)
        }
    }

    @Test("delete leaves a marker; create works again after it; delete with a stale revision is refused")
    func deleteAndPurge() async throws {
        try await withConnection { connection, _ in
            let bucket = try await makeBucket(connection)
            let first = try await bucket.put("a", .text("1"))
            try await bucket.delete("a")
            #expect(try await bucket.get("a") == nil)
            let history = try await bucket.history("a")
            #expect(history.map(\.operation) == [.put, .delete])
            let recreated = try await bucket.create("a", .text("2"))
            #expect(recreated > first)

            let conflict = await expectNATSError { try await bucket.delete("a", expectedRevision: first) }
            #expect(conflict?.code == .revisionConflict)
            #expect(try await bucket.get("a")?.string == "2")
            try await bucket.delete("a", expectedRevision: recreated)
            #expect(try await bucket.get("a") == nil)

            try await bucket.put("b", .text("1"))
            try await bucket.put("b", .text("2"))
            try await bucket.purge("b")
            #expect(try await bucket.get("b") == nil)
            #expect(try await bucket.history("b").map(\.operation) == [.purge])
        }
    }

    @Test("keys lists live keys only; purging delete markers respects their age")
    func keysAndPurgeDeleteMarkers() async throws {
        try await withConnection { connection, _ in
            let bucket = try await makeBucket(connection)
            #expect(try await bucket.keys().isEmpty)
            for key in ["x.1", "x.2", "y.1"] { try await bucket.put(key, .text(key)) }
            try await bucket.delete("x.2")
            #expect(Set(try await bucket.keys()) == ["x.1", "y.1"])

            let before = try await bucket.status().values
            // Markers younger than an hour stay (the history before them goes).
            try await bucket.purgeDeleteMarkers(olderThan: .seconds(3600))
            #expect(try await bucket.history("x.2").map(\.operation) == [.delete])
            // Older than 100 ms: removed, and the key's history with it.
            try await Task.sleep(for: .milliseconds(300))
            try await bucket.purgeDeleteMarkers(olderThan: .milliseconds(100))
            #expect(try await bucket.history("x.2").isEmpty)
            let after = try await bucket.status().values
            #expect(after < before, "stored entries went from \(before) to \(after)")
            #expect(Set(try await bucket.keys()) == ["x.1", "y.1"])
        }
    }

    @Test("keys of a bucket with thousands of keys and delete markers: all live keys, within the timeout (cnats 3.4.1's kvStore_Keys timed out)")
    func keysOfALargeBucket() async throws {
        try await withConnection { connection, _ in
            let bucket = try await makeBucket(connection, history: 2)
            // 6,000 keys, every third deleted again, written 64 at a time.
            let count = 6000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<64 {
                    group.addTask {
                        for index in stride(from: lane, to: count, by: 64) {
                            try await bucket.put("status.public.r-\(index)", .text("{}"))
                            if index % 3 == 0 { try await bucket.delete("status.public.r-\(index)") }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let started = ContinuousClock.now
            let keys = try await bucket.keys(timeout: .seconds(20))
            let elapsed = ContinuousClock.now - started
            let expected = Set((0..<count).filter { $0 % 3 != 0 }.map { "status.public.r-\($0)" })
            #expect(keys.count == expected.count, "each live key once")
            #expect(Set(keys) == expected)
            #expect(elapsed < .seconds(20), "listed in \(elapsed)")
        }
    }

    @Test("a watch reports current values, the end of them, then puts and deletes")
    func watchSeesPutsAndDeletes() async throws {
        try await withConnection { connection, _ in
            let bucket = try await makeBucket(connection)
            try await bucket.put("job.1", .text("old"))
            try await bucket.put("other.1", .text("ignored"))
            let watcher = try await bucket.watch("job.>")
            var events = watcher.makeAsyncIterator()
            guard case .entry(let initial)? = try await events.next() else { Issue.record("expected the current value"); return }
            #expect(initial.key == "job.1")
            #expect(initial.string == "old")
            #expect(try await events.next() == .initialValuesDone)

            try await bucket.put("job.2", .text("new"))
            try await bucket.put("other.2", .text("ignored"))
            try await bucket.delete("job.1")
            guard case .entry(let put)? = try await events.next() else { Issue.record("expected a put"); return }
            #expect(put.key == "job.2")
            #expect(put.operation == .put)
            guard case .entry(let delete)? = try await events.next() else { Issue.record("expected a delete"); return }
            #expect(delete.key == "job.1")
            #expect(delete.operation == .delete)
            watcher.stop()
            #expect(try await events.next() == nil)
        }
    }

    @Test("a watch with updatesOnly skips current values; cancelling the task ends the watch")
    func watchUpdatesOnlyAndCancellation() async throws {
        try await withConnection { connection, _ in
            let bucket = try await makeBucket(connection)
            try await bucket.put("k", .text("before"))
            let watcher = try await bucket.watch(options: KeyValueWatchOptions(updatesOnly: true))
            let reader = Task { () -> [String] in
                var seen: [String] = []
                for try await event in watcher {
                    if case .entry(let entry) = event { seen.append(entry.string) }
                }
                return seen
            }
            try await Task.sleep(for: .milliseconds(300))
            try await bucket.put("k", .text("after"))
            try await Task.sleep(for: .milliseconds(300))
            let cancelledAt = ContinuousClock.now
            reader.cancel()
            let seen = try await reader.value
            #expect(seen == ["after"])
            #expect(ContinuousClock.now - cancelledAt < .seconds(2), "cancellation ends the watch promptly")
        }
    }

    @Test("create-or-update of a bucket is idempotent and applies new limits")
    func createOrUpdateBucket() async throws {
        try await withConnection { connection, _ in
            let jetStream = try await connection.jetStream()
            let name = uniqueName("limits")
            let first = try await jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: name, history: 1))
            try await first.put("k", .text("1"))
            let again = try await jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: name, history: 1))
            #expect(try await again.get("k")?.string == "1")
            let widened = try await jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: name, history: 10, ttl: .seconds(60)))
            let status = try await widened.status()
            #expect(status.history == 10)
            #expect(status.ttl == .seconds(60))
            #expect(try await widened.get("k")?.string == "1")
            let bound = try await jetStream.keyValue(name)
            #expect(bound.name == name)
            let missing = await expectNATSError { _ = try await jetStream.keyValue(uniqueName("absent")) }
            #expect(missing != nil)
        }
    }

    @Test("entries expire with the bucket TTL, after which create succeeds again (leader-lock pattern)")
    func ttlExpiry() async throws {
        try await withConnection { connection, _ in
            let bucket = try await makeBucket(connection, history: 1, ttl: .seconds(1))
            let revision = try await bucket.create("leader", .text("replica-a"))
            let taken = await expectNATSError { try await bucket.create("leader", .text("replica-b")) }
            #expect(taken?.code == .keyExists)
            try await bucket.update("leader", .text("replica-a"), expectedRevision: revision)
            let expired = try await eventually(timeout: .seconds(5)) { try await bucket.get("leader") == nil }
            #expect(expired)
            try await bucket.create("leader", .text("replica-b"))
            #expect(try await bucket.get("leader")?.string == "replica-b")
        }
    }

    @Test("bad bucket names, keys and patterns are refused before reaching C")
    func badKeysRefused() async throws {
        try await withConnection { connection, _ in
            let jetStream = try await connection.jetStream()
            for name in ["", "a.b", "a b", "a/b", "ä"] {
                let error = await expectNATSError { _ = try await jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: name)) }
                #expect(error?.code == .invalidName, "bucket \(name.debugDescription)")
            }
            let historyError = await expectNATSError { _ = try await jetStream.createOrUpdateKeyValue(KeyValueConfiguration(bucket: "ok", history: 65)) }
            #expect(historyError?.code == .invalidArgument)
            let bucket = try await makeBucket(connection)
            for key in ["", ".a", "a.", "a..b", "a b", "a*", "a.>", "ü", "a\u{0}b"] {
                let error = await expectNATSError { try await bucket.put(key, []) }
                #expect(error?.code == .invalidName, "key \(key.debugDescription)")
            }
            let pattern = await expectNATSError { _ = try await bucket.watch("a.>.b") }
            #expect(pattern?.code == .invalidName)
            let zeroRevision = await expectNATSError { try await bucket.update("k", [], expectedRevision: 0) }
            #expect(zeroRevision?.code == .invalidArgument)
        }
    }
}
