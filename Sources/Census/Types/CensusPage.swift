// MARK: - CensusPagination

/// The `pagination` object of a list answer.
public struct CensusPagination: Sendable, Hashable, Decodable {
    public var totalRecords: Int?
    public var perPage: Int?
    public var previousPage: Int?
    public var page: Int?
    /// The next page's number; `nil` on the last page.
    public var nextPage: Int?
    public var lastPage: Int?

    public init(totalRecords: Int?, perPage: Int?, previousPage: Int?, page: Int?, nextPage: Int?, lastPage: Int?) {
        self.totalRecords = totalRecords
        self.perPage = perPage
        self.previousPage = previousPage
        self.page = page
        self.nextPage = nextPage
        self.lastPage = lastPage
    }

    private enum CodingKeys: String, CodingKey {
        case totalRecords = "total_records"
        case perPage = "per_page"
        case previousPage = "prev_page"
        case page
        case nextPage = "next_page"
        case lastPage = "last_page"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.totalRecords = try container.decodeCensusCount(forKey: .totalRecords)
        self.perPage = try container.decodeCensusCount(forKey: .perPage)
        self.previousPage = try container.decodeCensusCount(forKey: .previousPage)
        self.page = try container.decodeCensusCount(forKey: .page)
        self.nextPage = try container.decodeCensusCount(forKey: .nextPage)
        self.lastPage = try container.decodeCensusCount(forKey: .lastPage)
    }
}

// MARK: - CensusPage

/// One page of a list: `{"status": "success", "data": [...], "pagination": {...}, "next": "..."}`.
public struct CensusPage<Element: Sendable & Decodable>: Sendable, Decodable {
    public var data: [Element]
    /// `nil` when the answer carries none (older API versions sent only `next`).
    public var pagination: CensusPagination?
    /// The URL of the next page, being phased out in favour of `pagination`.
    public var next: String?

    public init(data: [Element], pagination: CensusPagination?, next: String? = nil) {
        self.data = data
        self.pagination = pagination
        self.next = next
    }

    private enum CodingKeys: String, CodingKey { case data, pagination, next }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.data = try container.decodeIfPresent([Element].self, forKey: .data) ?? []
        self.pagination = try container.decodeIfPresent(CensusPagination.self, forKey: .pagination)
        self.next = try? container.decodeIfPresent(String.self, forKey: .next)
    }

    /// Whether another page follows: `pagination.next_page` when the answer has it, else a full page.
    func hasMore(requested perPage: Int) -> Bool {
        guard !self.data.isEmpty else { return false }
        if let pagination { return pagination.nextPage != nil }
        return self.data.count >= perPage
    }
}

extension CensusPage: Equatable where Element: Equatable {}

// MARK: - CensusOrder

/// `order`: by creation time, `desc` (the API's default) or `asc`.
public enum CensusOrder: String, Sendable, Hashable, CaseIterable {
    case ascending = "asc"
    case descending = "desc"
}
