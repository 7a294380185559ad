import Foundation

/// Throwaway TLS material made with openssl for tests: a CA, a server certificate for
/// 127.0.0.1/localhost signed by it, a client certificate signed by it, and a second, unrelated
/// CA (to show that a server is refused when it is not trusted).
public struct TestCertificates: Sendable {
    public let directory: String
    public var ca: String { directory + "/ca.pem" }
    public var serverCertificate: String { directory + "/server.pem" }
    public var serverKey: String { directory + "/server-key.pem" }
    public var clientCertificate: String { directory + "/client.pem" }
    public var clientKey: String { directory + "/client-key.pem" }
    public var otherCA: String { directory + "/other-ca.pem" }

    /// nats-server lines that require TLS and, with `verifyClients`, a client certificate.
    public func serverConfiguration(verifyClients: Bool) -> String {
        """
        tls {
          cert_file: "\(serverCertificate)"
          key_file: "\(serverKey)"
          ca_file: "\(ca)"
          verify: \(verifyClients)
          timeout: 2
        }
        """
    }

    public static func make(in directory: String) throws -> TestCertificates {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(["req", "-x509"] + key + ["-keyout", directory + "/ca-key.pem", "-out", certificates.ca, "-days", "2", "-subj", "/CN=FactoryOperator Test CA"])
        try openssl(["req", "-x509"] + key + ["-keyout", directory + "/other-ca-key.pem", "-out", certificates.otherCA, "-days", "2", "-subj", "/CN=Unrelated CA"])
        for (name, extensions) in [("server", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"), ("client", "extendedKeyUsage=clientAuth")] {
            try extensions.write(toFile: directory + "/\(name).ext", atomically: true, encoding: .utf8)
            try openssl(["req"] + key + ["-keyout", directory + "/\(name)-key.pem", "-out", directory + "/\(name).csr", "-subj", "/CN=\(name == "server" ? "localhost" : "operator")"])
            try openssl([
                "x509", "-req", "-in", directory + "/\(name).csr", "-CA", certificates.ca, "-CAkey", directory + "/ca-key.pem", "-CAcreateserial",
                "-out", directory + "/\(name).pem", "-days", "2", "-extfile", directory + "/\(name).ext",
            ])
        }
        return certificates
    }

    private static func openssl(_ arguments: [String]) throws {
        let result = try Shell.run("/usr/bin/openssl", arguments)
        guard result.status == 0 else {
            throw NATSServerProcess.Failure.didNotStart("openssl \(arguments.first ?? "") failed: \(result.output)")
        }
    }
}

/// Throwaway NATS decentralised-auth material (operator, account, user JWTs and a `.creds`
/// file), made by `scripts/testing/make_nats_creds.py` with the nkeys package of `.venv`.
public struct TestCredentials: Sendable {
    public let credentialsFile: String
    /// nats-server lines: operator mode trusting the generated operator, account preloaded.
    public let serverConfiguration: String

    public static func make(in directory: String, name: String = "user") throws -> TestCredentials {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        var script: URL?
        for _ in 0..<8 {
            let candidate = root.appendingPathComponent("scripts/testing/make_nats_creds.py")
            if FileManager.default.fileExists(atPath: candidate.path) {
                script = candidate
                break
            }
            root.deleteLastPathComponent()
        }
        guard let script else { throw NATSServerProcess.Failure.executableNotFound("scripts/testing/make_nats_creds.py") }
        let python = script.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".venv/bin/python").path
        let result = try Shell.run(python, [script.path, directory, name])
        guard result.status == 0 else {
            throw NATSServerProcess.Failure.didNotStart("making credentials failed (run scripts/bootstrap for nkeys): \(result.output)")
        }
        return TestCredentials(
            credentialsFile: directory + "/\(name).creds",
            serverConfiguration: try String(contentsOfFile: directory + "/\(name)-server.conf", encoding: .utf8)
        )
    }
}
