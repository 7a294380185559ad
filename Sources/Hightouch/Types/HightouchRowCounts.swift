// MARK: - HightouchRowCounts

/// Rows added, changed and removed (`plannedRows`, `successfulRows`, `failedRows` of a run).
public struct HightouchRowCounts: Sendable, Hashable, Codable {
    public var addedCount: Int
    public var changedCount: Int
    public var removedCount: Int

    public init(addedCount: Int = 0, changedCount: Int = 0, removedCount: Int = 0) {
        self.addedCount = addedCount
        self.changedCount = changedCount
        self.removedCount = removedCount
    }

    public static let zero = HightouchRowCounts()

    /// Added + changed + removed.
    public var total: Int { self.addedCount + self.changedCount + self.removedCount }

    private enum CodingKeys: String, CodingKey { case addedCount, changedCount, removedCount }

    /// Counts are typed as JSON numbers (doubles) by the API; missing counts are zero.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int {
            guard let value = try container.decodeIfPresent(Double.self, forKey: key), value.isFinite else { return 0 }
            return Int(value)
        }
        self.addedCount = try count(.addedCount)
        self.changedCount = try count(.changedCount)
        self.removedCount = try count(.removedCount)
    }
}
