import Foundation

// MARK: - SimAuthorization

/// Reads the credential of a request, in both forms Census's clients send:
/// - `Authorization: Bearer secret-token:<token>` (Census's Airflow provider, curl examples);
/// - `Authorization: Basic base64("bearer:secret-token:<token>")` (dagster-census, and URLs like
///   `https://bearer:<token>@app.getcensus.com`).
enum SimAuthorization {
    static func credential(from header: String?) -> Result<String, SimFailure> {
        guard let header, !header.trimmingCharacters(in: .whitespaces).isEmpty else {
            return .failure(.unauthorized("Unauthorized: no API token was sent; send Authorization: Bearer secret-token:<token>"))
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            return .failure(.unauthorized("Unauthorized: the Authorization header is not Bearer <token> or Basic <credentials>"))
        }
        let value = parts[1].trimmingCharacters(in: .whitespaces)
        let presented: String
        switch parts[0].lowercased() {
        case "bearer":
            presented = value
        case "basic":
            guard let data = Data(base64Encoded: value), let decoded = String(data: data, encoding: .utf8),
                let colon = decoded.firstIndex(of: ":")
            else {
                return .failure(.unauthorized("Unauthorized: the Basic credentials are not base64 of user:password"))
            }
            guard decoded[..<colon].lowercased() == "bearer" else {
                return .failure(.unauthorized("Unauthorized: Basic authentication takes the user name bearer and the API token as the password"))
            }
            presented = String(decoded[decoded.index(after: colon)...])
        default:
            return .failure(.unauthorized("Unauthorized: the Authorization header is not Bearer <token> or Basic <credentials>"))
        }
        guard presented.hasPrefix("secret-token:") else {
            return .failure(.unauthorized("Unauthorized: the API token must be sent with its secret-token: prefix"))
        }
        return .success(presented)
    }
}
