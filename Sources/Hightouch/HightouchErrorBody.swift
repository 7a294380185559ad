import Foundation
import NIOCore
import VendorHTTP

// MARK: - HightouchErrorBody

/// Reads Hightouch's error answers, which come in several shapes:
/// - `{"message": "Validation failed", "details": {...}}` (`ValidateErrorJSON`, 409 and 422),
/// - `{"message": "Authentication error", "details": "Token is invalid"}` (401),
/// - `{"error": "..."}` (`TriggerErrorResponse`, trigger family and 429),
/// - `"Internal Server Error"` (500, a JSON string), or plain text.
enum HightouchErrorBody {
    /// Longest text kept from a body that is not JSON.
    static let maxTextLength = 500

    static func parse(status: Int, body: ByteBuffer) -> VendorErrorBody {
        guard body.readableBytes > 0 else { return VendorErrorBody() }
        let bytes = Data(body.readableBytesView)
        guard let json = try? JSONDecoder().decode(VendorJSON.self, from: bytes) else {
            let text = String(decoding: bytes.prefix(Self.maxTextLength), as: UTF8.self)
            return VendorErrorBody(message: text.trimmingSpaces.isEmpty ? nil : text.trimmingSpaces)
        }
        switch json {
        case .string(let text):
            return VendorErrorBody(message: text)
        case .object(let members):
            var message = members["message"]?.stringValue ?? members["error"]?.stringValue
            var details = members["details"]
            if let text = details?.stringValue {
                // 401: {"message": "Authentication error", "details": "Token is invalid"}
                message = message.map { "\($0): \(text)" } ?? text
                details = nil
            }
            if message == nil, details == nil {
                details = json
            }
            return VendorErrorBody(message: message, details: details)
        default:
            return VendorErrorBody(details: json)
        }
    }
}
