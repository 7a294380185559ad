import FactoryModel

/// The command's marker in a run's cause: `Nightly refresh [factory:<command id>]`.
///
/// dbt Cloud takes no idempotency key, but it keeps the free-text `cause` of every run and lists
/// it with the run (`include_related=trigger`). The marker lets the resume check find the run a
/// crashed trigger created, and tell it from any other command's run. dbt Cloud refuses a cause
/// over 255 characters, so the human part is truncated to fit, never the marker.
public enum DBTCloudMarker {
    /// The cause of a run nobody described.
    public static let defaultCause = "Triggered by FactoryOperator"

    static let prefix = "[factory:"
    /// Longest command id written as it is; a longer or unusual one is written as its digest.
    static let maxPlainIDLength = 128

    /// `[factory:<id>]`, or `[factory:sha256-<digest>]` for an id that is long or holds
    /// characters other than letters, digits and `._:-` (a `]` would end the marker early).
    public static func marker(for commandID: String) -> String {
        let plain = !commandID.isEmpty && commandID.count <= maxPlainIDLength
            && commandID.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "._:-".unicodeScalars.contains(scalar))
            }
        let id = plain ? commandID : "sha256-" + SHA256.hexDigest(Array(commandID.utf8))
        return prefix + id + "]"
    }

    /// The human part (or the default), a space and the marker, within `limit` code points (as
    /// dbt Cloud counts): the human part loses its end, marked with `…`, when it does not fit.
    public static func cause(_ human: String?, commandID: String, limit: Int = 255) -> String {
        let marker = self.marker(for: commandID)
        var text = (human ?? defaultCause).trimmingCharacters()
        if text.isEmpty { text = defaultCause }
        let budget = limit - marker.unicodeScalars.count - 1
        guard budget > 0 else { return marker }
        if text.unicodeScalars.count > budget {
            // Cut whole characters, leaving room for the ellipsis.
            var cut = ""
            for character in text {
                if cut.unicodeScalars.count + character.unicodeScalars.count > budget - 1 { break }
                cut.append(character)
            }
            text = cut.trimmingCharacters() + "…"
        }
        return text + " " + marker
    }

    /// Whether `cause` carries this command's marker.
    public static func carries(_ cause: String?, commandID: String) -> Bool {
        cause?.contains(self.marker(for: commandID)) ?? false
    }

    /// Whether `cause` carries any command's marker.
    public static func carriesAnyMarker(_ cause: String?) -> Bool {
        cause?.contains(prefix) ?? false
    }
}
