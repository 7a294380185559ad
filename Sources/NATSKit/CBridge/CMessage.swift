import CNATS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Copies between cnats `natsMsg` and Swift values.
enum CMessage {
    /// Copies subject, reply, headers and payload out of `message`. Does not destroy it.
    static func copy(_ message: OpaquePointer) -> NATSMessage {
        let subject = natsMsg_GetSubject(message).map { String(cString: $0) } ?? ""
        let reply = natsMsg_GetReply(message).map { String(cString: $0) }
        return NATSMessage(
            subject: subject,
            reply: (reply?.isEmpty ?? true) ? nil : reply,
            headers: headers(of: message),
            payload: payload(of: message)
        )
    }

    static func payload(of message: OpaquePointer) -> [UInt8] {
        let length = Int(natsMsg_GetDataLength(message))
        guard length > 0, let data = natsMsg_GetData(message) else { return [] }
        return data.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    static func headers(of message: OpaquePointer) -> NATSHeaders {
        var headers = NATSHeaders()
        var keys: UnsafeMutablePointer<UnsafePointer<CChar>?>? = nil
        var keyCount: Int32 = 0
        // NATS_NOT_FOUND means no headers: not an error.
        guard natsMsgHeader_Keys(message, &keys, &keyCount) == NATS_OK, let keys else { return headers }
        defer { free(keys) }  // the array is ours, the strings are the message's
        for index in 0..<Int(keyCount) {
            guard let key = keys[index] else { continue }
            var values: UnsafeMutablePointer<UnsafePointer<CChar>?>? = nil
            var valueCount: Int32 = 0
            guard natsMsgHeader_Values(message, key, &values, &valueCount) == NATS_OK, let values else { continue }
            let name = String(cString: key)
            for valueIndex in 0..<Int(valueCount) {
                if let value = values[valueIndex] { headers.add(name, String(cString: value)) }
            }
            free(values)
        }
        return headers
    }

    /// Builds a temporary `natsMsg` (for publishing with headers), passes it to `body` and
    /// destroys it afterwards.
    static func withMessage<T>(
        subject: String,
        reply: String?,
        headers: NATSHeaders,
        payload: [UInt8],
        operation: String,
        _ body: (OpaquePointer) throws(NATSError) -> T
    ) throws(NATSError) -> T {
        var message: OpaquePointer? = nil
        let status = payload.withUnsafeBytes { bytes in
            natsMsg_Create(&message, subject, reply, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        }
        try CError.check(status, operation)
        guard let message else { throw NATSError(code: .unknown, operation: operation, message: "natsMsg_Create returned no message") }
        defer { natsMsg_Destroy(message) }
        for (name, value) in headers {
            try CError.check(natsMsgHeader_Add(message, name, value), operation + " (header \(name))")
        }
        return try body(message)
    }
}

/// A C pointer that may cross to another thread. Only used for handles cnats documents as
/// thread-safe, and only to carry them to the blocking executor (e.g. for destruction).
struct SendablePointer: @unchecked Sendable {
    let pointer: OpaquePointer
}
