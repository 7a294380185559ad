import Foundation
import VendorHTTP

// MARK: - HightouchSyncRun

/// One run of a sync (`SyncRun`).
public struct HightouchSyncRun: Sendable, Hashable, Decodable {
    public var id: HightouchID
    /// When the run was requested. Earlier than `startedAt` when it was queued behind a running one.
    public var createdAt: Date?
    /// When it started; `nil` while queued.
    public var startedAt: Date?
    /// When it ended; `nil` while running.
    public var finishedAt: Date?
    /// Rows returned by the model's query.
    public var querySize: Int?
    public var status: HightouchSyncRunStatus
    /// Progress from 0 to 1.
    public var completionRatio: Double?
    /// Rows the run set out to sync.
    public var plannedRows: HightouchRowCounts?
    /// Rows the destination accepted.
    public var successfulRows: HightouchRowCounts?
    /// Rows the destination rejected (not counting rows skipped by a cancellation).
    public var failedRows: HightouchRowCounts?
    /// Why the run did not finish successfully; `nil` on success. (Some workspaces send an object;
    /// it is kept as compact JSON text.)
    public var error: String?

    private enum CodingKeys: String, CodingKey {
        case id, createdAt, startedAt, finishedAt, querySize, status, completionRatio
        case plannedRows, successfulRows, failedRows, error
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(HightouchID.self, forKey: .id)
        self.createdAt = try container.decodeTimestampIfPresent(forKey: .createdAt)
        self.startedAt = try container.decodeTimestampIfPresent(forKey: .startedAt)
        self.finishedAt = try container.decodeTimestampIfPresent(forKey: .finishedAt)
        self.querySize = try container.decodeIfPresent(Double.self, forKey: .querySize).flatMap { $0.isFinite ? Int($0) : nil }
        self.status = try container.decodeIfPresent(HightouchSyncRunStatus.self, forKey: .status) ?? .unknown("")
        self.completionRatio = try container.decodeIfPresent(Double.self, forKey: .completionRatio)
        self.plannedRows = try container.decodeIfPresent(HightouchRowCounts.self, forKey: .plannedRows)
        self.successfulRows = try container.decodeIfPresent(HightouchRowCounts.self, forKey: .successfulRows)
        self.failedRows = try container.decodeIfPresent(HightouchRowCounts.self, forKey: .failedRows)
        switch try container.decodeIfPresent(VendorJSON.self, forKey: .error) {
        case nil, .null?: self.error = nil
        case .string(let message)?: self.error = message
        case let other?: self.error = other.description
        }
    }
}
