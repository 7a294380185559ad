import FactoryEngine
import FactoryModel
import JSONSchema

/// Reads a `dbtcloud` spec that passed its JSON schema. It still refuses what is missing or
/// malformed clearly, because an operator manifest may supply a looser schema.
enum DBTCloudSpec {
    static func decode(_ spec: JSONValue, defaultAccountID: Int?) throws(VendorFailure) -> DBTCloudDriver.Spec {
        guard spec.objectValue != nil else { throw refuse("/spec must be an object") }
        let account: Int
        if let value = spec["accountId"] {
            account = try id(value, "/spec/accountId")
        } else if let defaultAccountID {
            account = defaultAccountID
        } else {
            throw refuse("/spec/accountId is missing and DBT_CLOUD_ACCOUNT_ID is not set: name the dbt Cloud account in the spec or in the operator's environment")
        }
        guard let jobValue = spec["jobId"] else { throw refuse("/spec/jobId is required: the dbt Cloud job to run") }
        let job = try id(jobValue, "/spec/jobId")

        var steps: [String]?
        if let value = spec["stepsOverride"] {
            guard let elements = value.arrayValue, !elements.isEmpty else { throw refuse("/spec/stepsOverride must be a non-empty list of dbt commands") }
            steps = try elements.enumerated().map { (index, element) throws(VendorFailure) -> String in
                guard let text = element.stringValue, text.trimmingCharacters() == "dbt" || text.trimmingCharacters().hasPrefix("dbt ") else {
                    throw refuse("/spec/stepsOverride/\(index) must be a dbt command starting with \"dbt \"")
                }
                return text
            }
        }
        var threads: Int?
        if let value = spec["threadsOverride"] {
            guard let number = value.numberValue?.intValue, number >= 1 else { throw refuse("/spec/threadsOverride must be a whole number of at least 1") }
            threads = number
        }
        var timeout: Duration?
        if let value = spec["timeout"] {
            guard let text = value.stringValue, let duration = DurationParser.parse(text), duration > .zero else {
                throw refuse("/spec/timeout must be \(DurationParser.expectation), more than zero")
            }
            timeout = duration
        }
        let retry: Bool
        switch spec["retryFromFailure"] {
        case nil: retry = false
        case .bool(let value)?: retry = value
        default: throw refuse("/spec/retryFromFailure must be true or false")
        }
        return DBTCloudDriver.Spec(
            accountID: account, jobID: job, cause: try text(spec["cause"], "/spec/cause"), gitBranch: try text(spec["gitBranch"], "/spec/gitBranch"),
            stepsOverride: steps, threadsOverride: threads, retryFromFailure: retry, timeout: timeout
        )
    }

    /// An id given as an integer or a string of digits.
    static func id(_ value: JSONValue, _ pointer: String) throws(VendorFailure) -> Int {
        switch value {
        case .number(let number):
            if let id = number.intValue, number.isInteger, id > 0 { return id }
        case .string(let text):
            if let id = Int(text.trimmingCharacters()), id > 0 { return id }
        default:
            break
        }
        throw refuse("\(pointer) must be a positive whole number or a string of digits, got \(value)")
    }

    private static func text(_ value: JSONValue?, _ pointer: String) throws(VendorFailure) -> String? {
        guard let value else { return nil }
        guard let text = value.stringValue, !text.trimmingCharacters().isEmpty else { throw refuse("\(pointer) must be a non-empty string") }
        return text
    }

    private static func refuse(_ message: String) -> VendorFailure {
        VendorFailure(kind: .rejected, reason: "schemaViolation", message: message)
    }
}
