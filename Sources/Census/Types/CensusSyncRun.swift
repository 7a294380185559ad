import Foundation
import VendorHTTP

// MARK: - CensusSyncRun

/// One run of a sync (`GET /sync_runs/{id}`, `GET /syncs/{id}/sync_runs`).
///
/// Record counts are `nil` while Census has not reported them (a queued run, or a run that failed
/// before reading its source).
public struct CensusSyncRun: Sendable, Hashable, Decodable {
    /// Why the run happened (`{"ui_tag": "API", "ui_detail": "..."}`).
    public struct TriggerReason: Sendable, Hashable, Decodable {
        public var tag: String?
        public var detail: String?

        public init(tag: String?, detail: String?) {
            self.tag = tag
            self.detail = detail
        }

        private enum CodingKeys: String, CodingKey {
            case tag = "ui_tag"
            case detail = "ui_detail"
        }
    }

    public var id: CensusID
    public var syncID: CensusID?
    public var status: CensusSyncRunStatus
    /// Records in the source object when the run read it.
    public var sourceRecordCount: Int?
    /// New or updated records found in the source.
    public var sourceRecordUpdates: Int?
    /// Records deleted in the source.
    public var sourceRecordDeletes: Int?
    /// Source records skipped for data quality issues.
    public var sourceRecordInvalids: Int?
    /// New or updated records retrieved from the source (the run's work).
    public var recordsProcessed: Int?
    /// Records the destination accepted.
    public var recordsUpdated: Int?
    /// Records the destination rejected.
    public var recordsFailed: Int?
    /// Records Census skipped for data quality issues.
    public var recordsInvalid: Int?
    public var createdAt: Date?
    public var updatedAt: Date?
    /// When it completed; Census leaves it `null` for a failed or skipped run.
    public var completedAt: Date?
    public var scheduledExecutionTime: Date?
    public var errorCode: String?
    public var errorMessage: String?
    public var errorDetail: String?
    public var canceled: Bool?
    public var fullSync: Bool?
    /// What the run is doing (`Running Sync`); only while it has not completed.
    public var currentStep: String?
    public var triggerReason: TriggerReason?

    public init(id: CensusID, syncID: CensusID? = nil, status: CensusSyncRunStatus) {
        self.id = id
        self.syncID = syncID
        self.status = status
    }

    /// When the run ended: `completed_at`, or for a run that ended without one (failed, skipped)
    /// its last update.
    public var finishedAt: Date? {
        self.completedAt ?? (self.status.isTerminal ? self.updatedAt : nil)
    }

    private enum CodingKeys: String, CodingKey {
        case id, status, canceled
        case syncID = "sync_id"
        case sourceRecordCount = "source_record_count"
        case sourceRecordUpdates = "source_record_updates"
        case sourceRecordDeletes = "source_record_deletes"
        case sourceRecordInvalids = "source_record_invalids"
        case recordsProcessed = "records_processed"
        case recordsUpdated = "records_updated"
        case recordsFailed = "records_failed"
        case recordsInvalid = "records_invalid"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case completedAt = "completed_at"
        case scheduledExecutionTime = "scheduled_execution_time"
        case errorCode = "error_code"
        case errorMessage = "error_message"
        case errorDetail = "error_detail"
        case fullSync = "full_sync"
        case currentStep = "current_step"
        case triggerReason = "sync_trigger_reason"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(CensusID.self, forKey: .id)
        self.syncID = try container.decodeIfPresent(CensusID.self, forKey: .syncID)
        self.status = try container.decodeIfPresent(CensusSyncRunStatus.self, forKey: .status) ?? .unknown("")
        self.sourceRecordCount = try container.decodeCensusCount(forKey: .sourceRecordCount)
        self.sourceRecordUpdates = try container.decodeCensusCount(forKey: .sourceRecordUpdates)
        self.sourceRecordDeletes = try container.decodeCensusCount(forKey: .sourceRecordDeletes)
        self.sourceRecordInvalids = try container.decodeCensusCount(forKey: .sourceRecordInvalids)
        self.recordsProcessed = try container.decodeCensusCount(forKey: .recordsProcessed)
        self.recordsUpdated = try container.decodeCensusCount(forKey: .recordsUpdated)
        self.recordsFailed = try container.decodeCensusCount(forKey: .recordsFailed)
        self.recordsInvalid = try container.decodeCensusCount(forKey: .recordsInvalid)
        self.createdAt = try container.decodeCensusTimestamp(forKey: .createdAt)
        self.updatedAt = try container.decodeCensusTimestamp(forKey: .updatedAt)
        self.completedAt = try container.decodeCensusTimestamp(forKey: .completedAt)
        self.scheduledExecutionTime = try container.decodeCensusTimestamp(forKey: .scheduledExecutionTime)
        self.errorCode = try container.decodeCensusText(forKey: .errorCode)
        self.errorMessage = try container.decodeCensusText(forKey: .errorMessage)
        self.errorDetail = try container.decodeCensusText(forKey: .errorDetail)
        self.canceled = try? container.decodeIfPresent(Bool.self, forKey: .canceled)
        self.fullSync = try? container.decodeIfPresent(Bool.self, forKey: .fullSync)
        self.currentStep = try container.decodeCensusText(forKey: .currentStep)
        self.triggerReason = try? container.decodeIfPresent(TriggerReason.self, forKey: .triggerReason)
    }
}
