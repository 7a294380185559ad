import Foundation
import JSONSchema
@testable import NATSKit
@testable import FactoryEngine
import FactoryState
import Synchronization
import Testing

/// The read model keeps one resource's encoded answer until one of its documents changes.
@Suite("The read model's kept answers")
struct StatusReadModelTests {
    static let at = Date(timeIntervalSince1970: 1_795_000_000)

    func put(_ model: StatusReadModel, _ key: String, _ document: some StateDocument) throws {
        let bytes = StateCodec.encode(document)
        model.apply(.success(.entry(KeyValueEntry(bucket: "state", key: key, value: bytes, revision: 1, created: Self.at, delta: 0, operation: .put))))
    }

    func delete(_ model: StatusReadModel, _ key: String) {
        model.apply(.success(.entry(KeyValueEntry(bucket: "state", key: key, value: [], revision: 2, created: Self.at, delta: 0, operation: .delete))))
    }

    @Test("made once per change of the entity or the status, from the documents as they are; gone with them")
    func keptUntilAChange() throws {
        let model = StatusReadModel()
        model.apply(.success(.initialValuesDone))
        let renders = Mutex(0)
        func ask() -> String? {
            model.answer(workspace: "public", name: "pipeline-01") { entity, status in
                renders.withLock { $0 += 1 }
                return Array("\(entity?.generation ?? -1)/\(status?.phase.rawValue ?? "none")".utf8)
            }.map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(ask() == nil, "unknown resource")

        var status = StatusRecord(workspace: "public", name: "pipeline-01", type: "hightouch", phase: .pending, at: Self.at)
        try put(model, "status.public.pipeline-01", status)
        #expect(ask() == "-1/pending")
        #expect(ask() == "-1/pending")
        #expect(renders.withLock { $0 } == 1, "the second answer was the kept one")

        let entity = EntityRecord(
            workspace: "public", name: "pipeline-01", type: "hightouch", owner: nil, manifest: .null, specDigest: "d",
            generation: 3, deleted: false, lastCommand: nil, activeCommand: nil, createdAt: Self.at, updatedAt: Self.at
        )
        try put(model, "entity.public.pipeline-01", entity)
        #expect(ask() == "3/pending", "an entity change is seen")
        status.phase = .active
        try put(model, "status.public.pipeline-01", status)
        #expect(ask() == "3/active", "a status change is seen")
        #expect(ask() == "3/active")
        #expect(renders.withLock { $0 } == 3)

        // Another resource's change leaves this answer kept.
        try put(model, "status.public.other", status)
        #expect(ask() == "3/active")
        #expect(renders.withLock { $0 } == 3)

        delete(model, "status.public.pipeline-01")
        #expect(ask() == "3/none")
        delete(model, "entity.public.pipeline-01")
        #expect(ask() == nil, "deleted documents: no answer, none kept")
        #expect(model.keptAnswers == 0)
    }

    @Test("an answer made from documents that changed meanwhile is not given again")
    func staleAnswerRefused() throws {
        let model = StatusReadModel()
        model.apply(.success(.initialValuesDone))
        let status = StatusRecord(workspace: "public", name: "r", type: "hightouch", phase: .pending, at: Self.at)
        try put(model, "status.public.r", status)
        // The status changes while the first answer is being made.
        let first = model.answer(workspace: "public", name: "r") { _, status in
            var changed = status!
            changed.phase = .active
            try! put(model, "status.public.r", changed)
            return Array("\(status!.phase.rawValue)".utf8)
        }
        #expect(first.map { String(decoding: $0, as: UTF8.self) } == "pending")
        let second = model.answer(workspace: "public", name: "r") { _, status in Array("\(status!.phase.rawValue)".utf8) }
        #expect(second.map { String(decoding: $0, as: UTF8.self) } == "active")
    }
}
