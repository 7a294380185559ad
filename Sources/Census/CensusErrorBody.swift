import Foundation
import NIOCore
import VendorHTTP

// MARK: - CensusErrorBody

/// Reads Census's error answers, which come in several shapes:
/// - the envelope `{"status": "error", "message": "..."}` (and `"data"` or `"errors"` beside it),
/// - `{"status": 404, "message": "..."}` (the status as a number, as newer API versions answer),
/// - `{"error": "..."}` or `{"error": {"message": "..."}}`,
/// - a JSON string, or plain text and HTML from a proxy in front of the API (502, 503, 504).
enum CensusErrorBody {
    /// Longest text kept from a body that is not JSON.
    static let maxTextLength = 300

    static func parse(status: Int, body: ByteBuffer) -> VendorErrorBody {
        guard body.readableBytes > 0 else { return VendorErrorBody() }
        let bytes = Data(body.readableBytesView)
        guard let json = try? JSONDecoder().decode(VendorJSON.self, from: bytes) else {
            return VendorErrorBody(message: Self.text(String(decoding: bytes, as: UTF8.self)))
        }
        switch json {
        case .string(let text):
            return VendorErrorBody(message: text.censusTrimmed.isEmpty ? nil : text)
        case .object(let members):
            var message = members["message"]?.stringValue
            if message == nil, let error = members["error"] {
                message = error.stringValue ?? error["message"]?.stringValue
            }
            var details = members["errors"] ?? members["details"] ?? members["data"]
            if let text = details?.stringValue {
                message = message.map { "\($0): \(text)" } ?? text
                details = nil
            }
            if details?.isNull == true { details = nil }
            if message == nil, details == nil {
                details = json
            }
            return VendorErrorBody(message: message, details: details)
        default:
            return VendorErrorBody(details: json)
        }
    }

    /// A non-JSON body as one short line: an HTML page's `<title>`, else its text.
    private static func text(_ body: String) -> String? {
        var text = body
        if let start = body.range(of: "<title>", options: .caseInsensitive),
            let end = body.range(of: "</title>", options: .caseInsensitive, range: start.upperBound..<body.endIndex)
        {
            text = String(body[start.upperBound..<end.lowerBound])
        }
        let line = text.split(whereSeparator: \.isNewline).map { $0.censusTrimmedSubstring }.filter { !$0.isEmpty }.joined(separator: " ")
        guard !line.isEmpty else { return nil }
        return line.count > Self.maxTextLength ? String(line.prefix(Self.maxTextLength)) + "…" : line
    }
}

extension Substring {
    fileprivate var censusTrimmedSubstring: String { String(self).censusTrimmed }
}
