import Crypto
import FactoryState
import Foundation
import JSONSchema

/// How a driver reads its vendor's completion webhooks (Fivetran's `sync_end`, dbt Cloud's
/// `job.run.completed`): where they arrive, how their signature is checked, and which followed
/// run a notification is about. A notification only hastens the next look at the run: what is
/// recorded still comes from the vendor's API, so a forged or replayed notification that passed
/// the signature could at worst cost one API call.
public struct WebhookReceiver: Sendable {
    /// The path segment: notifications arrive on `POST /webhooks/<path>`.
    public var path: String
    /// The variable holding the signing secret; without it the route is not served.
    public var secretVariable: String
    /// Whether `body` carries a valid signature made with `secret`; `header` reads a request
    /// header by name (case-insensitive).
    public var verify: @Sendable (_ body: [UInt8], _ header: (String) -> String?, _ secret: String) -> Bool
    /// The runs the notification is about; nil for a notification about no run's end (a sync
    /// started, a test ping). Throws ``WebhookRefusal`` for a body that is not the vendor's.
    public var read: @Sendable (_ body: [UInt8]) throws(WebhookRefusal) -> WebhookNotice?

    public init(
        path: String, secretVariable: String,
        verify: @escaping @Sendable (_ body: [UInt8], _ header: (String) -> String?, _ secret: String) -> Bool,
        read: @escaping @Sendable (_ body: [UInt8]) throws(WebhookRefusal) -> WebhookNotice?
    ) {
        self.path = path
        self.secretVariable = secretVariable
        self.verify = verify
        self.read = read
    }
}

/// What a notification says: a description for the log, and which of the followed runs (with
/// their resource's vendor objects as stored) it concerns.
public struct WebhookNotice: Sendable {
    public var description: String
    public var concerns: @Sendable (_ run: RunRecord, _ objects: JSONValue?) -> Bool

    public init(description: String, concerns: @escaping @Sendable (_ run: RunRecord, _ objects: JSONValue?) -> Bool) {
        self.description = description
        self.concerns = concerns
    }
}

/// A notification body that is not what the vendor sends.
public struct WebhookRefusal: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// HMAC-SHA256 signatures as vendors send them: the hex digest of the raw body.
public enum WebhookSignature {
    /// The lower-case hex HMAC-SHA256 of `body` keyed with `secret`.
    public static func hmacSHA256Hex(_ body: [UInt8], secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `presented` (hex, either case, surrounding blanks ignored) is the body's signature;
    /// compared in constant time over the digest's length.
    public static func matches(_ presented: String?, body: [UInt8], secret: String) -> Bool {
        guard let presented else { return false }
        let given = Array(presented.trimmingCharacters(in: .whitespaces).lowercased().utf8)
        let expected = Array(hmacSHA256Hex(body, secret: secret).utf8)
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in expected.indices { difference |= given[index] ^ expected[index] }
        return difference == 0
    }
}
