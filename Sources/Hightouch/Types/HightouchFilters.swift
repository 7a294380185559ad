import Foundation
import VendorHTTP

// MARK: - Orders

/// Sort field of the source, destination, model and sync lists (`orderBy`, default `id`).
public enum HightouchListOrder: String, Sendable, Hashable, CaseIterable {
    case id, name, slug, createdAt, updatedAt
}

/// Sort field of a sync's run list (`orderBy`, default `id`).
public enum HightouchSyncRunOrder: String, Sendable, Hashable, CaseIterable {
    case id, createdAt, startedAt, finishedAt
}

// MARK: - HightouchResourceFilter

/// Filters of `GET /sources` and `GET /destinations`.
public struct HightouchResourceFilter: Sendable, Hashable {
    public var name: String?
    public var slug: String?
    public var orderBy: HightouchListOrder?

    public init(name: String? = nil, slug: String? = nil, orderBy: HightouchListOrder? = nil) {
        self.name = name
        self.slug = slug
        self.orderBy = orderBy
    }

    var queryItems: [VendorRequest.QueryItem] {
        var items: [VendorRequest.QueryItem] = []
        if let name { items.append(.init("name", name)) }
        if let slug { items.append(.init("slug", slug)) }
        if let orderBy { items.append(.init("orderBy", orderBy.rawValue)) }
        return items
    }
}

// MARK: - HightouchModelFilter

/// Filters of `GET /models`.
public struct HightouchModelFilter: Sendable, Hashable {
    public var name: String?
    public var slug: String?
    /// Models carrying all these tags (sent as repeated `tags=key:value`).
    public var tags: [String: String]
    public var orderBy: HightouchListOrder?

    public init(name: String? = nil, slug: String? = nil, tags: [String: String] = [:], orderBy: HightouchListOrder? = nil) {
        self.name = name
        self.slug = slug
        self.tags = tags
        self.orderBy = orderBy
    }

    var queryItems: [VendorRequest.QueryItem] {
        var items: [VendorRequest.QueryItem] = []
        if let name { items.append(.init("name", name)) }
        if let slug { items.append(.init("slug", slug)) }
        for key in self.tags.keys.sorted() {
            items.append(.init("tags", "\(key):\(self.tags[key, default: ""])"))
        }
        if let orderBy { items.append(.init("orderBy", orderBy.rawValue)) }
        return items
    }
}

// MARK: - HightouchSyncFilter

/// Filters of `GET /syncs`. `after` and `before` select syncs by when they last *ran*.
public struct HightouchSyncFilter: Sendable, Hashable {
    public var slug: String?
    public var modelID: HightouchID?
    public var after: Date?
    public var before: Date?
    public var orderBy: HightouchListOrder?

    public init(
        slug: String? = nil,
        modelID: HightouchID? = nil,
        after: Date? = nil,
        before: Date? = nil,
        orderBy: HightouchListOrder? = nil
    ) {
        self.slug = slug
        self.modelID = modelID
        self.after = after
        self.before = before
        self.orderBy = orderBy
    }

    var queryItems: [VendorRequest.QueryItem] {
        var items: [VendorRequest.QueryItem] = []
        if let slug { items.append(.init("slug", slug)) }
        if let modelID { items.append(.init("modelId", modelID.rawValue)) }
        if let after { items.append(.init("after", HightouchTimestamp.format(after))) }
        if let before { items.append(.init("before", HightouchTimestamp.format(before))) }
        if let orderBy { items.append(.init("orderBy", orderBy.rawValue)) }
        return items
    }
}

// MARK: - HightouchSyncRunFilter

/// Filters of `GET /syncs/{syncId}/runs`.
///
/// The API documents `after`, `before` and `within` as filters on when runs *started*
/// ("select sync runs that are started after given ISO timestamp"). A run still queued behind
/// another has not started, so these filters can miss it; to find runs *created* since an
/// instant use ``HightouchClient/runs(syncID:createdAtOrAfter:)``.
public struct HightouchSyncRunFilter: Sendable, Hashable {
    public var runID: HightouchID?
    /// Runs started after this instant.
    public var after: Date?
    /// Runs started before this instant.
    public var before: Date?
    /// Runs started within this many minutes.
    public var withinMinutes: Int?
    public var orderBy: HightouchSyncRunOrder?

    public init(
        runID: HightouchID? = nil,
        after: Date? = nil,
        before: Date? = nil,
        withinMinutes: Int? = nil,
        orderBy: HightouchSyncRunOrder? = nil
    ) {
        self.runID = runID
        self.after = after
        self.before = before
        self.withinMinutes = withinMinutes
        self.orderBy = orderBy
    }

    var queryItems: [VendorRequest.QueryItem] {
        var items: [VendorRequest.QueryItem] = []
        if let runID { items.append(.init("runId", runID.rawValue)) }
        if let after { items.append(.init("after", HightouchTimestamp.format(after))) }
        if let before { items.append(.init("before", HightouchTimestamp.format(before))) }
        if let withinMinutes { items.append(.init("within", String(withinMinutes))) }
        if let orderBy { items.append(.init("orderBy", orderBy.rawValue)) }
        return items
    }
}
