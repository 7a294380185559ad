import Foundation

/// The JetStream wire protocol for the calls NATSKit makes without a blocked thread: publishing
/// (headers in, a PubAck JSON out) and direct gets of KV entries (ADR-8, ADR-31). These are the
/// same messages cnats' `js_PublishMsg` and `kvStore_Get` exchange.
enum JetStreamWire {
    // MARK: - Publish

    static func publishHeaders(_ headers: NATSHeaders, options: JetStreamPublishOptions) -> NATSHeaders {
        var headers = headers
        if let id = options.messageID { headers["Nats-Msg-Id"] = id }
        if let stream = options.expectedStream { headers["Nats-Expected-Stream"] = stream }
        if let id = options.expectedLastMessageID { headers["Nats-Expected-Last-Msg-Id"] = id }
        if let sequence = options.expectedLastSequence { headers["Nats-Expected-Last-Sequence"] = String(sequence) }
        if let sequence = options.expectedLastSubjectSequence { headers["Nats-Expected-Last-Subject-Sequence"] = String(sequence) }
        return headers
    }

    private struct PublishAckBody: Decodable {
        struct APIError: Decodable {
            var code: Int?
            var errCode: Int?
            var description: String?

            enum CodingKeys: String, CodingKey {
                case code
                case errCode = "err_code"
                case description
            }
        }

        var stream: String?
        var seq: UInt64?
        var duplicate: Bool?
        var domain: String?
        var error: APIError?
    }

    static func decodePublishAck(_ reply: NATSMessage, subject: String, operation: String) throws(NATSError) -> JetStreamPublishAck {
        if let ack = fastPublishAck(reply.payload) {
            return ack
        }
        let body: PublishAckBody
        do {
            body = try JSONDecoder().decode(PublishAckBody.self, from: Data(reply.payload))
        } catch {
            throw NATSError(code: .protocolError, operation: operation, message: "unreadable publish acknowledgement: \(reply.string.prefix(200))")
        }
        if let error = body.error {
            let code = error.errCode ?? 0
            let classified: NATSError.Code
            switch code {
            case 10071: classified = .revisionConflict
            case 10060: classified = .jetStream  // expected stream does not match
            default: classified = .jetStream
            }
            throw NATSError(
                code: classified,
                operation: operation,
                message: error.description ?? "the stream refused the message",
                status: error.code.map { "HTTP-like \($0)" },
                jetStreamErrorCode: code == 0 ? nil : code
            )
        }
        guard let stream = body.stream, let sequence = body.seq else {
            throw NATSError(code: .protocolError, operation: operation, message: "publish acknowledgement without stream or sequence: \(reply.string.prefix(200))")
        }
        return JetStreamPublishAck(stream: stream, sequence: sequence, duplicate: body.duplicate ?? false, domain: body.domain)
    }

    /// The server's success answer is compact and flat (`{"stream":"S","seq":5}`, maybe with
    /// `"domain"` and `"duplicate":true`): read it without a general decoder, which costs more
    /// than the rest of the call. Anything else (errors, other shapes) returns nil and goes
    /// through JSONDecoder.
    static func fastPublishAck(_ bytes: [UInt8]) -> JetStreamPublishAck? {
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "{"), bytes.last == UInt8(ascii: "}") else { return nil }
        var stream: String?
        var sequence: UInt64?
        var duplicate = false
        var domain: String?
        var index = 1
        func readString() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                if bytes[end] == UInt8(ascii: "\\") { return nil }  // escapes: leave to the full decoder
                end += 1
            }
            guard end < bytes.count else { return nil }
            index = end + 1
            return String(decoding: bytes[start..<end], as: UTF8.self)
        }
        while index < bytes.count - 1 {
            guard let key = readString(), index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            switch key {
            case "stream":
                guard let value = readString() else { return nil }
                stream = value
            case "domain":
                guard let value = readString() else { return nil }
                domain = value
            case "seq":
                var value: UInt64 = 0
                var digits = 0
                while index < bytes.count, (48...57).contains(bytes[index]) {
                    let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
                    let (added, overflow2) = shifted.addingReportingOverflow(UInt64(bytes[index] - 48))
                    guard !overflow1, !overflow2 else { return nil }
                    value = added
                    index += 1
                    digits += 1
                }
                guard digits > 0 else { return nil }
                sequence = value
            case "duplicate":
                if bytes[index...].starts(with: "true".utf8) {
                    duplicate = true
                    index += 4
                } else if bytes[index...].starts(with: "false".utf8) {
                    index += 5
                } else {
                    return nil
                }
            default:
                return nil  // "error" or anything unexpected
            }
            if index < bytes.count - 1 {
                guard bytes[index] == UInt8(ascii: ",") else { return nil }
                index += 1
            }
        }
        guard let stream, let sequence, sequence > 0 else { return nil }
        return JetStreamPublishAck(stream: stream, sequence: sequence, duplicate: duplicate, domain: domain)
    }

    /// A 503 answer to a publish means no stream stores the subject.
    static func noStream(for subject: String, operation: String) -> NATSError {
        NATSError(code: .noResponders, operation: operation, message: "no stream stores subject \(subject); create one (see streams/) or check the subject")
    }

    // MARK: - KV direct get

    /// Decodes a direct-get answer for a KV key: nil for "no such message" (404).
    static func decodeDirectGet(_ reply: NATSMessage, bucket: String, operation: String) throws(NATSError) -> KeyValueEntry? {
        if let status = reply.headers["Status"], reply.payload.isEmpty {
            if status == "404" { return nil }
            throw NATSError(code: .jetStream, operation: operation, message: "direct get failed: \(status) \(reply.headers["Description"] ?? "")")
        }
        guard let sequenceText = reply.headers["Nats-Sequence"], let sequence = UInt64(sequenceText) else {
            throw NATSError(code: .protocolError, operation: operation, message: "direct get answer without a sequence")
        }
        let subject = reply.headers["Nats-Subject"] ?? ""
        let prefix = "$KV.\(bucket)."
        let key = subject.hasPrefix(prefix) ? String(subject.dropFirst(prefix.count)) : subject
        let created = reply.headers["Nats-Time-Stamp"].flatMap(parseTimestamp) ?? Date(timeIntervalSince1970: 0)
        let operationName: KeyValueEntry.Operation
        switch reply.headers["KV-Operation"] {
        case "DEL": operationName = .delete
        case "PURGE": operationName = .purge
        default: operationName = .put
        }
        return KeyValueEntry(bucket: bucket, key: key, value: reply.payload, revision: sequence, created: created, delta: 0, operation: operationName)
    }

    /// Parses the server's RFC 3339 timestamps with up to nanosecond fractions, in UTC
    /// (`2026-11-21T09:31:40.123456789Z`).
    static func parseTimestamp(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard bytes.count >= 20, let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19)
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < bytes.count, (48...57).contains(bytes[index]) {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }
        var offsetSeconds = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            guard let offsetHours = number((index + 1)..<(index + 3)), let offsetMinutes = number((index + 4)..<(index + 6)) else { return nil }
            offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
        }
        // Days from civil (Howard Hinnant's algorithm), proleptic Gregorian calendar.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
