import FactoryModel

/// The OpenLineage run id of the run a command caused: a UUID derived from the command id alone
/// (RFC 9562 version 8, "custom": the first 128 bits of SHA-256 over a fixed prefix and the id,
/// with the version and variant bits set). Every replica, and any later look, derives the same id
/// for the same command, so the events of one run share it however often they are built; and a
/// pipeline's task can name its pipeline run's id from the pipeline run id alone.
public enum LineageRunID {
    /// Keeps these ids apart from any other UUID derived from the same text.
    static let prefix = "factory-operator/openlineage/run/"

    public static func make(commandID: String) -> String {
        let digest = SHA256.hexDigest(Array((prefix + commandID).utf8))
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        var index = digest.startIndex
        while bytes.count < 16 {
            let next = digest.index(index, offsetBy: 2)
            bytes.append(UInt8(digest[index..<next], radix: 16) ?? 0)
            index = next
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x80  // version 8
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // variant 10
        let hex = bytes.map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
        let characters = Array(hex)
        let groups = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }
        return groups.joined(separator: "-")
    }
}
