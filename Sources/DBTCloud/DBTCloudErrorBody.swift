import Foundation
import NIOCore
import VendorHTTP

// MARK: - DBTCloudErrorBody

/// Reads dbt Cloud's error answers:
/// - the envelope `{"status": {"code": 401, "is_success": false, "user_message": "Invalid token.",
///   "developer_message": null}, "data": null}`, where `data` carries field errors of a 400
///   (`{"cause": ["Ensure this field has no more than 255 characters."]}`);
/// - Django REST framework's bare `{"detail": "Method \"POST\" not allowed."}` (405 and friends);
/// - anything else (a proxy's HTML page, plain text), kept as a short text.
enum DBTCloudErrorBody {
    /// Longest text kept from a body that is not JSON.
    static let maxTextLength = 300

    static func parse(status: Int, body: ByteBuffer) -> VendorErrorBody {
        guard body.readableBytes > 0 else { return VendorErrorBody() }
        let bytes = Data(body.readableBytesView)
        guard let json = try? JSONDecoder().decode(VendorJSON.self, from: bytes) else {
            let text = String(decoding: bytes.prefix(Self.maxTextLength), as: UTF8.self)
                .split(whereSeparator: \.isNewline).joined(separator: " ")
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            return VendorErrorBody(message: trimmed.isEmpty ? nil : trimmed)
        }
        return Self.read(json)
    }

    /// What an envelope (or a bare DRF error) says.
    static func read(_ json: VendorJSON) -> VendorErrorBody {
        guard case .object(let members) = json else {
            if case .string(let text) = json { return VendorErrorBody(message: text) }
            return VendorErrorBody(details: json)
        }
        if let status = members["status"]?.objectValue {
            var message = status["user_message"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            if let developer = status["developer_message"]?.stringValue, !developer.isEmpty, developer != message {
                message = message.map { "\($0) (\(developer))" } ?? developer
            }
            let data = members["data"]
            return VendorErrorBody(message: message, details: (data?.isNull ?? true) ? nil : data)
        }
        if let detail = members["detail"]?.stringValue {
            return VendorErrorBody(message: detail)
        }
        return VendorErrorBody(details: json)
    }
}
