import AsyncHTTPClient
import NIOSSL
import Synchronization

// MARK: - CensusTLSError

/// A CA file that cannot be used to verify Census (or the simulator).
public struct CensusTLSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file as configured.
    public var path: String
    /// What is wrong with it.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        "The CA file \(path) cannot be used to verify Census: \(reason). Give a readable PEM file holding one or more CA certificates."
    }
}

// MARK: - CensusHTTPClients

/// One AsyncHTTPClient per CA file, created on first use and kept for the life of the process,
/// as `HTTPClient.shared` is: a client that trusts a given CA cannot be the shared one, and an
/// operator's driver lives as long as the process, so there is no moment to shut it down.
/// (AsyncHTTPClient requires a client to be shut down before it is released; one that is never
/// released needs none.)
enum CensusHTTPClients {
    private static let clients = Mutex<[String: HTTPClient]>([:])

    /// The client trusting the CA certificates in the PEM file at `path` (only them, not the
    /// system's roots). The file is read once, on first use.
    static func client(trustingCAFile path: String) throws(CensusTLSError) -> HTTPClient {
        let result: Result<HTTPClient, CensusTLSError> = clients.withLock { clients in
            if let client = clients[path] { return .success(client) }
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(path)
            } catch {
                return .failure(CensusTLSError(path: path, reason: "not a readable PEM file (\(error))"))
            }
            guard !certificates.isEmpty else {
                return .failure(CensusTLSError(path: path, reason: "it holds no certificate"))
            }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(certificates)
            var configuration = HTTPClient.Configuration.singletonConfiguration
            configuration.tlsConfiguration = tls
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[path] = client
            return .success(client)
        }
        return try result.get()
    }
}
