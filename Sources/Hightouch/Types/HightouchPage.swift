// MARK: - HightouchPage

/// One page of a list answer: `{"data": [...], "hasMore": ...}`.
public struct HightouchPage<Element: Sendable & Decodable>: Sendable, Decodable {
    public var data: [Element]
    /// `nil` when the endpoint does not report it (sources, destinations, models).
    public var hasMore: Bool?

    public init(data: [Element], hasMore: Bool?) {
        self.data = data
        self.hasMore = hasMore
    }

    private enum CodingKeys: String, CodingKey { case data, hasMore }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.data = try container.decodeIfPresent([Element].self, forKey: .data) ?? []
        self.hasMore = try container.decodeIfPresent(Bool.self, forKey: .hasMore)
    }
}

extension HightouchPage: Equatable where Element: Equatable {}
