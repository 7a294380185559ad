import Foundation
import NIOSSL

// MARK: - VendorTLS

/// TLS of a vendor client that trusts a private CA (a simulator's self-signed certificate, an
/// on-premises endpoint): one client TLS configuration, set per request through
/// ``VendorHTTPExecutor/Configuration/tlsConfiguration`` so that one shared `HTTPClient` serves
/// every vendor and nothing has to be shut down.
public enum VendorTLS {
    /// Which roots verify the server besides the given certificates.
    public enum Roots: Sendable, Hashable {
        /// Only the given certificates (a private endpoint, a simulator).
        case onlyGiven
        /// The given certificates and the system's roots (the same operator may reach the public
        /// host and a private endpoint).
        case givenAndSystem
    }

    /// Why certificates cannot be trusted; `reason` is a clause a caller puts after what it read
    /// ("The CA file /x/ca.pem cannot be used: <reason>").
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public enum Kind: Sendable, Hashable {
            /// The file cannot be read.
            case unreadable
            /// The text is not PEM certificates.
            case notPEM
            /// The text holds no `-----BEGIN CERTIFICATE-----` block.
            case noCertificate
        }

        public var kind: Kind
        /// What is wrong, as a clause.
        public var reason: String

        public var description: String { self.reason }
    }

    /// A client TLS configuration trusting the PEM certificates in `pem`.
    ///
    /// - Throws: ``Failure`` when `pem` is not PEM or holds no certificate.
    public static func trusting(pem: String, roots: Roots) throws(Failure) -> TLSConfiguration {
        try self.trusting(bytes: Array(pem.utf8), roots: roots)
    }

    /// A client TLS configuration trusting the PEM certificates of the file at `path`.
    ///
    /// - Throws: ``Failure`` when the file cannot be read, is not PEM or holds no certificate.
    public static func trusting(caFile path: String, roots: Roots) throws(Failure) -> TLSConfiguration {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw Failure(kind: .unreadable, reason: "it cannot be read (\(error.localizedDescription))")
        }
        return try self.trusting(bytes: Array(bytes), roots: roots)
    }

    private static func trusting(bytes: [UInt8], roots: Roots) throws(Failure) -> TLSConfiguration {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw Failure(kind: .notPEM, reason: "it is not readable PEM (\(error))")
        }
        guard !certificates.isEmpty else {
            throw Failure(kind: .noCertificate, reason: "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        switch roots {
        case .onlyGiven: tls.trustRoots = .certificates(certificates)
        case .givenAndSystem: tls.additionalTrustRoots = [.certificates(certificates)]
        }
        return tls
    }
}
