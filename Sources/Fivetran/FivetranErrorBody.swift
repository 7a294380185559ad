import Foundation
import NIOCore
import VendorHTTP

// MARK: - FivetranErrorBody

/// Reads Fivetran's error answers: `{"code": "NotFound_Connector", "message": "Connector with id
/// 'abc123' does not exist."}` (every status), or text from a proxy in front of it.
enum FivetranErrorBody {
    /// Longest text kept from a body that is not JSON.
    static let maxTextLength = 500

    static func parse(status: Int, body: ByteBuffer) -> VendorErrorBody {
        guard body.readableBytes > 0 else { return VendorErrorBody() }
        let bytes = Data(body.readableBytesView)
        guard let json = try? JSONDecoder().decode(VendorJSON.self, from: bytes) else {
            let text = String(decoding: bytes.prefix(Self.maxTextLength), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return VendorErrorBody(message: text.isEmpty ? nil : text)
        }
        guard case .object(let members) = json else {
            return VendorErrorBody(message: json.stringValue, details: json.stringValue == nil ? json : nil)
        }
        let code = members["code"]?.stringValue
        let message = members["message"]?.stringValue
        switch (code, message) {
        case (let code?, let message?): return VendorErrorBody(message: "\(code): \(message)")
        case (nil, let message?): return VendorErrorBody(message: message)
        case (let code?, nil): return VendorErrorBody(message: code)
        case (nil, nil): return VendorErrorBody(details: json)
        }
    }
}
