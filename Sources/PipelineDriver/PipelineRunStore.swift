import FactoryEngine
import Foundation
import JSONSchema
import NATSKit
import Pipelines
import Synchronization

/// Run documents in the pipeline bucket (`run.<workspace>.<pipeline>.<runId>`), read and written
/// with compare-and-set on the entry's revision.
struct PipelineRunStore: Sendable {
    let bucket: KeyValueBucket
    /// Stamped on every document this store writes (``PipelineRunDocument/writer``); nil: none.
    var writer: String? = nil
    /// What this store last wrote of each run in progress, serialized (only what changed is
    /// serialized again).
    let encodings = EncodingCaches()

    /// By run key; a finished run's is dropped.
    final class EncodingCaches: Sendable {
        private let caches = Mutex<[String: PipelineRunEncodingCache]>([:])

        func encode(_ document: PipelineRunDocument, key: String) -> [UInt8] {
            // Taken out while in use: a concurrent write of the same run starts afresh.
            var cache = caches.withLock { $0.removeValue(forKey: key) } ?? PipelineRunEncodingCache()
            let bytes = document.encoded(reusing: &cache)
            guard !document.run.state.isFinished else { return bytes }
            caches.withLock { caches in
                // Runs this replica stopped writing (another took them on, or they were purged).
                if caches.count >= 5_000 { caches.removeAll() }
                caches[key] = cache
            }
            return bytes
        }
    }

    struct Entry: Sendable {
        var document: PipelineRunDocument
        var revision: UInt64
        var key: String
    }

    func get(_ key: String) async throws -> Entry? {
        guard let entry = try await bucket.get(key), entry.operation == .put else { return nil }
        return Entry(document: try PipelineRunDocument.decode(entry.value, key: key), revision: entry.revision, key: key)
    }

    /// The document as written: stamped with ``writer``.
    private func stamped(_ document: PipelineRunDocument, key: String) -> [UInt8] {
        var document = document
        document.writer = writer
        return encodings.encode(document, key: key)
    }

    /// Nil when the key has a value already.
    func create(_ document: PipelineRunDocument, key: String) async throws -> UInt64? {
        let bytes = stamped(document, key: key)
        do {
            return try await bucket.create(key, bytes)
        } catch where error.code == .keyExists {
            return nil
        }
    }

    /// Nil when the entry is no longer at `revision`.
    func update(_ document: PipelineRunDocument, key: String, revision: UInt64) async throws -> UInt64? {
        let bytes = stamped(document, key: key)
        do {
            return try await bucket.update(key, bytes, expectedRevision: revision)
        } catch where error.code == .revisionConflict {
            return nil
        }
    }

    /// Read, change, compare-and-set, again on a lost race; nil from `change`: nothing to write.
    /// `known`: the entry as this replica last wrote or read it, tried first without a read (a
    /// lost race reads it again).
    @discardableResult
    func modify(_ key: String, startingWith known: Entry? = nil, attempts: Int = 20, _ change: (inout PipelineRunDocument) throws -> Bool) async throws -> Entry? {
        var known = known
        for _ in 0..<attempts {
            let read: Entry?
            if let entry = known {
                read = entry
                known = nil
            } else {
                read = try await get(key)
            }
            guard var entry = read else { return nil }
            guard try change(&entry.document) else { return entry }
            if let revision = try await update(entry.document, key: key, revision: entry.revision) {
                entry.revision = revision
                entry.document.writer = writer
                return entry
            }
        }
        throw NATSError(code: .revisionConflict, operation: "modify \(bucket.name)/\(key)", message: "gave up after \(attempts) lost compare-and-set races")
    }

    /// Every run of one pipeline, read now (a watch of its keys up to the current values).
    func runs(workspace: String, pipeline: String) async throws -> [Entry] {
        try await entries(matching: PipelineNames.runPattern(workspace: workspace, pipeline: pipeline))
    }

    /// The current values of the keys matching `pattern`, decoded; unreadable ones left out.
    func entries(matching pattern: String) async throws -> [Entry] {
        let watcher = try await bucket.watch(pattern, options: KeyValueWatchOptions(ignoreDeletes: true))
        defer { watcher.stop() }
        var found: [Entry] = []
        for try await event in watcher {
            switch event {
            case .entry(let entry):
                guard entry.operation == .put, let document = try? PipelineRunDocument.decode(entry.value, key: entry.key) else { continue }
                found.append(Entry(document: document, revision: entry.revision, key: entry.key))
            case .initialValuesDone:
                return found.sorted { ($0.document.run.createdAt, $0.document.run.id) < ($1.document.run.createdAt, $1.document.run.id) }
            }
        }
        return found
    }
}
