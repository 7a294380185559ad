import AsyncHTTPClient
import FactoryEngine
import FactoryModel
import FactoryState
import Foundation
import JSONSchema
import Logging
import NIOCore
import NIOHTTP1

/// The `http` resource type: one HTTP request to any endpoint, and optionally a status endpoint
/// polled until it says the work has ended (the Orchestra pipelines' `http` task).
///
/// Exactly once only where the target honours an idempotency key: every attempt carries
/// `Idempotency-Key: <command id>`. An attempt whose answer is lost (a timeout, a dropped
/// connection, a 5xx or 429) is sent again with the same key; a target that keeps the key's first
/// answer does the work once, one that ignores the key may do it again. There is no way to ask an
/// arbitrary endpoint what it did, so the resume check finds nothing (docs/http.md).
public struct HTTPTaskDriver: ResourceDriver {
    public struct Configuration: Sendable {
        /// HTTP_TASK_SECRET_ENV: the variables a spec may name in `secretEnv` headers, and their
        /// values as the operator started with them.
        public var secrets: [String: String] = [:]
        /// HTTP_TASK_MAX_RESPONSE_BYTES: answers are read up to this much, then refused.
        public var maxResponseBytes = 1 << 20
        /// HTTP_TASK_ATTEMPT_TIMEOUT: the longest one request may take (the spec's timeout bounds
        /// the whole run).
        public var attemptTimeout: Duration = .seconds(30)

        public init(secrets: [String: String] = [:], maxResponseBytes: Int = 1 << 20, attemptTimeout: Duration = .seconds(30)) {
            self.secrets = secrets
            self.maxResponseBytes = maxResponseBytes
            self.attemptTimeout = attemptTimeout
        }

        public init(environment: [String: String]) throws(ConfigurationError) {
            let reader = EnvironmentReader(environment: environment)
            let list = reader.optionalString("HTTP_TASK_SECRET_ENV") ?? ""
            for name in list.split(separator: ",") {
                let variable = String(name).trimmingCharacters()
                guard !variable.isEmpty else { continue }
                guard variable.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber || $0 == "_") }) else {
                    throw ConfigurationError(variable: "HTTP_TASK_SECRET_ENV", value: list, expected: "comma-separated variable names (A-Z, 0-9, _)")
                }
                // Allowed but not set is still allowed: a spec naming it is refused saying so.
                if let value = reader.optionalString(variable) { secrets[variable] = value } else { unset.insert(variable) }
            }
            maxResponseBytes = try reader.integer("HTTP_TASK_MAX_RESPONSE_BYTES", default: maxResponseBytes, range: 1024...(256 << 20))
            attemptTimeout = try reader.duration("HTTP_TASK_ATTEMPT_TIMEOUT", default: attemptTimeout, minimum: .milliseconds(100))
        }

        /// Allowed variables that are not set.
        public var unset: Set<String> = []

        var allowed: Set<String> { Set(secrets.keys).union(unset) }
    }

    public let configuration: Configuration
    let httpClient: HTTPClient

    public init(configuration: Configuration, httpClient: HTTPClient = .shared) {
        self.configuration = configuration
        self.httpClient = httpClient
    }

    public var descriptor: DriverDescriptor { Self.descriptor }
    public var summary: String {
        "HTTP tasks (secret variables: \(configuration.allowed.sorted().joined(separator: ", ")), answers up to \(configuration.maxResponseBytes) bytes)"
    }

    // MARK: - Associated values

    public typealias Spec = HTTPTaskSpec

    /// Nothing is created at the target: the objects say where requests go.
    public struct Objects: DriverValue, Codable, Hashable {
        public var baseURL: String
    }

    /// A run that polls: what to ask, and how to read the answer. Header values that are secrets
    /// stay references (`secretEnv`), resolved at each look.
    public struct RunReference: DriverValue, Codable, Hashable {
        public var url: String
        public var headers: [String: HeaderReference]
        public var successPointer: String
        public var successEquals: JSONValue
        public var failurePointer: String?
        public var failureEquals: JSONValue?
    }

    public struct HeaderReference: Codable, Hashable, Sendable {
        public var text: String?
        public var secretEnv: String?
    }

    public func decodeSpec(_ spec: JSONValue) throws(VendorFailure) -> Spec {
        let decoded = try HTTPTaskSpec.decode(spec, allowedSecrets: configuration.allowed)
        for header in decoded.headers {
            if case .secretEnv(let name) = header.value, configuration.secrets[name] == nil {
                throw VendorFailure(
                    kind: .rejected, reason: "schemaViolation",
                    message: "/spec/headers/\(header.name)/secretEnv: \(name) is allowed in HTTP_TASK_SECRET_ENV but not set in the operator's environment"
                )
            }
        }
        return decoded
    }

    public func runTimeout(_ spec: Spec) -> Duration? { spec.timeout }

    public func ensure(_ spec: Spec, known: Objects?) async throws(VendorFailure) -> Objects {
        Objects(baseURL: spec.baseURL.absoluteString)
    }

    // MARK: - The request

    public func trigger(_ spec: Spec, objects: Objects, context: TriggerContext) async throws(VendorFailure) -> TriggeredRun<RunReference> {
        guard let url = HTTPTaskSpec.url(base: spec.baseURL, endpoint: spec.endpoint, query: spec.query) else {
            throw VendorFailure(kind: .rejected, reason: "schemaViolation", message: "/spec: baseUrl and endpoint do not make a URL")
        }
        var headers = resolve(spec.headers.map { ($0.name, $0.value) })
        headers.add(name: "Idempotency-Key", value: context.commandID)
        var body: [UInt8]?
        if let value = spec.body {
            body = value.serializedBytes()
            if !headers.contains(name: "Content-Type") { headers.add(name: "Content-Type", value: "application/json") }
        }
        let timeout = min(configuration.attemptTimeout, spec.timeout ?? configuration.attemptTimeout)
        let answer = try await send(url: url, method: spec.method.rawValue, headers: headers, body: body, timeout: timeout)
        let label = "\(spec.method.rawValue) \(url.path)"
        guard spec.expectStatus.contains(answer.status) else {
            if answer.status == 429 || (500...599).contains(answer.status) {
                // Retried with the same Idempotency-Key: the target may have done the work.
                throw VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "\(label) answered \(answer.status): \(answer.excerpt)")
            }
            return TriggeredRun(
                reference: RunReference(url: url.absoluteString, headers: [:], successPointer: "", successEquals: .null),
                observation: observation(
                    .failed, answer: answer, summary: "HTTP \(answer.status)",
                    error: "\(label) answered \(answer.status), expected \(Self.describe(spec.expectStatus)): \(answer.excerpt)"
                )
            )
        }
        guard let poll = spec.poll else {
            return TriggeredRun(
                reference: RunReference(url: url.absoluteString, headers: [:], successPointer: "", successEquals: .null),
                observation: observation(.succeeded, answer: answer, summary: "HTTP \(answer.status)", error: nil)
            )
        }
        guard let pollURL = HTTPTaskSpec.url(base: spec.baseURL, endpoint: poll.endpoint, query: [], response: answer.json) else {
            throw VendorFailure(kind: .rejected, reason: "schemaViolation", message: "/spec/poll/endpoint: does not make a URL with the answer")
        }
        var references: [String: HeaderReference] = [:]
        for header in spec.headers {
            switch header.value {
            case .text(let text): references[header.name] = HeaderReference(text: text)
            case .secretEnv(let name): references[header.name] = HeaderReference(secretEnv: name)
            }
        }
        return TriggeredRun(
            reference: RunReference(
                url: pollURL.absoluteString, headers: references, successPointer: poll.successWhen.pointer.description,
                successEquals: poll.successWhen.equals, failurePointer: poll.failureWhen?.pointer.description, failureEquals: poll.failureWhen?.equals
            ),
            observation: observation(.running, answer: answer, summary: "HTTP \(answer.status), polling", error: nil)
        )
    }

    /// There is no way to ask an arbitrary endpoint what it did: a resumed command sends again,
    /// with the same Idempotency-Key.
    public func runs(since point: ResumePoint<NoBaseline>, spec: Spec, objects: Objects) async throws(VendorFailure) -> [TriggeredRun<RunReference>] {
        []
    }

    public func observe(_ run: RunReference, objects: Objects) async throws(VendorFailure) -> RunObservation? {
        guard let url = URL(string: run.url), !run.successPointer.isEmpty else { return nil }
        let headers = resolve(run.headers.sorted { $0.key < $1.key }.map { name, reference in
            (name, reference.secretEnv.map(HTTPTaskSpec.HeaderValue.secretEnv) ?? .text(reference.text ?? ""))
        })
        let answer = try await send(url: url, method: "GET", headers: headers, body: nil, timeout: configuration.attemptTimeout)
        guard (200...299).contains(answer.status) else {
            if answer.status == 429 || (500...599).contains(answer.status) {
                throw VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "polling \(url.path) answered \(answer.status)")
            }
            return observation(.failed, answer: answer, summary: "poll HTTP \(answer.status)", error: "polling \(url.path) answered \(answer.status): \(answer.excerpt)")
        }
        guard let json = answer.json else {
            return observation(.running, answer: answer, summary: "poll answer is not JSON", error: nil)
        }
        if let pointer = try? JSONPointer(parsing: run.successPointer), json.value(at: pointer) == run.successEquals {
            return observation(.succeeded, answer: answer, summary: "\(run.successPointer) = \(run.successEquals.serialized())", error: nil, matched: "success")
        }
        if let failurePointer = run.failurePointer, let pointer = try? JSONPointer(parsing: failurePointer), let expected = run.failureEquals,
            json.value(at: pointer) == expected
        {
            return observation(
                .failed, answer: answer, summary: "\(failurePointer) = \(expected.serialized())",
                error: "the status endpoint says the work failed (\(failurePointer) = \(expected.serialized())): \(answer.excerpt)", matched: "failure"
            )
        }
        let now = (try? JSONPointer(parsing: run.successPointer)).flatMap { json.value(at: $0) }
        return observation(.running, answer: answer, summary: "\(run.successPointer) = \(now?.serialized() ?? "nothing")", error: nil)
    }

    public func retire(_ objects: Objects, spec: Spec?) async throws(VendorFailure) {}

    // MARK: - Detail

    public func objectRows(_ objects: Objects) -> [DetailRow] {
        [DetailRow("Base URL", objects.baseURL)]
    }

    public func runRows(_ run: RunRecord) -> [DetailRow] {
        var rows: [DetailRow] = []
        if let status = run.details?["statusCode"]?.numberValue?.intValue { rows.append(DetailRow("Status code", "\(status)")) }
        if let matched = run.details?["matched"]?.stringValue { rows.append(DetailRow("Matched", matched)) }
        if let body = run.details?["body"]?.stringValue { rows.append(DetailRow("Answer", body)) }
        return rows
    }

    // MARK: - Sending

    struct Answer {
        var status: Int
        var body: [UInt8]

        var json: JSONValue? { try? JSONValue(parsing: body) }

        /// The start of the answer, one line, for errors and the detail.
        var excerpt: String {
            let text = String(decoding: body.prefix(300), as: UTF8.self).map { $0.isNewline ? " " : $0 }
            return String(text) + (body.count > 300 ? "…" : "")
        }
    }

    private func resolve(_ headers: [(String, HTTPTaskSpec.HeaderValue)]) -> HTTPHeaders {
        var resolved = HTTPHeaders()
        resolved.add(name: "User-Agent", value: "FactoryOperator-HTTPTask")
        for (name, value) in headers {
            switch value {
            case .text(let text): resolved.replaceOrAdd(name: name, value: text)
            case .secretEnv(let variable): resolved.replaceOrAdd(name: name, value: configuration.secrets[variable] ?? "")
            }
        }
        return resolved
    }

    /// One request; the answer read up to the configured size. Transport failures and timeouts
    /// are transient (the engine sends again with the same Idempotency-Key); a redirect loop or an
    /// answer too large is the run's failure, said plainly.
    private func send(url: URL, method: String, headers: HTTPHeaders, body: [UInt8]?, timeout: Duration) async throws(VendorFailure) -> Answer {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = HTTPMethod(rawValue: method)
        request.headers = headers
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        // Host, port and path name the target; the query is left out (it may carry a secret).
        let where_ = "\(method) \(url.scheme ?? "http")://\(url.host ?? "?")\(url.port.map { ":\($0)" } ?? "")\(url.path)"
        do {
            let response = try await httpClient.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000))
            var collected: [UInt8] = []
            for try await chunk in response.body {
                guard collected.count + chunk.readableBytes <= configuration.maxResponseBytes else {
                    throw VendorFailure(
                        kind: .rejected, reason: "responseTooLarge",
                        message: "\(where_) answered more than \(configuration.maxResponseBytes) bytes; the rest was not read (HTTP_TASK_MAX_RESPONSE_BYTES)"
                    )
                }
                collected += chunk.readableBytesView
            }
            return Answer(status: Int(response.status.code), body: collected)
        } catch let failure as VendorFailure {
            throw failure
        } catch let error as HTTPClientError where error == .redirectCycleDetected || error == .redirectLimitReached {
            throw VendorFailure(kind: .rejected, reason: "redirectLoop", message: "\(where_): \(error == .redirectCycleDetected ? "the redirects go round in a cycle" : "more than 5 redirects")")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw VendorFailure(kind: .transient, reason: "timeout", message: "\(where_): no complete answer within \(DurationParser.format(timeout))")
        } catch {
            throw VendorFailure(kind: .transient, reason: "vendorUnavailable", message: "\(where_): \(error)")
        }
    }

    private func observation(_ phase: RunPhase, answer: Answer, summary: String, error: String?, matched: String? = nil) -> RunObservation {
        var details: JSONObject = ["statusCode": .number(JSONNumber(answer.status)), "body": .string(answer.excerpt)]
        if let matched { details["matched"] = .string(matched) }
        return RunObservation(
            phase: phase, vendorStatus: "HTTP \(answer.status)", createdAt: nil, startedAt: nil, finishedAt: phase.isFinished ? Date() : nil,
            progress: phase.isFinished ? 1 : nil, summary: summary, error: error, details: .object(details)
        )
    }

    static func describe(_ codes: Set<Int>) -> String {
        for hundreds in 1...5 where codes == Set((hundreds * 100)...(hundreds * 100 + 99)) { return "\(hundreds)xx" }
        return codes.sorted().map(String.init).joined(separator: ", ")
    }
}
