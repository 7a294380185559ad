import Foundation

// MARK: - ProjectLayout

/// Where the running `factoryctl` sits, and the project checkout around it (when it runs from
/// `.build/…/debug`): its sibling `factory-operator`, the pinned `.venv/bin/nats-server`,
/// `streams/` and `examples/`.
struct ProjectLayout: Sendable {
    /// The directory of the running executable (symlinks resolved).
    let executableDirectory: URL
    /// The checkout that built it (a directory with Package.swift and streams/), if any.
    let projectRoot: URL?
    let currentDirectory: URL

    static func current() -> ProjectLayout {
        let fileManager = FileManager.default
        let executable = (try? fileManager.destinationOfSymbolicLink(atPath: "/proc/self/exe")).map(URL.init(fileURLWithPath:))
            ?? Bundle.main.executableURL
            ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "factoryctl")
        let directory = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        var root: URL?
        var candidate = directory
        for _ in 0..<6 {
            if fileManager.fileExists(atPath: candidate.appendingPathComponent("Package.swift").path),
                fileManager.fileExists(atPath: candidate.appendingPathComponent("streams").path)
            {
                root = candidate
                break
            }
            candidate.deleteLastPathComponent()
        }
        return ProjectLayout(executableDirectory: directory, projectRoot: root, currentDirectory: URL(fileURLWithPath: fileManager.currentDirectoryPath))
    }

    /// The first of `relativePath` under the current directory, then under the project root.
    func find(_ relativePath: String) -> URL? {
        [currentDirectory, projectRoot].compactMap { $0?.appendingPathComponent(relativePath) }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// `factory-operator` next to this executable.
    var siblingOperator: URL { executableDirectory.appendingPathComponent("factory-operator") }

    /// The pinned nats-server `scripts/bootstrap` installs, if this checkout has it.
    var projectNATSServer: URL? {
        guard let path = projectRoot?.appendingPathComponent(".venv/bin/nats-server").path,
            FileManager.default.isExecutableFile(atPath: path)
        else { return nil }
        return URL(fileURLWithPath: path)
    }

    /// How a user in the current directory runs this factoryctl: `factoryctl` when PATH finds
    /// this very binary, else its path (relative when under the current directory).
    var invocation: String {
        let me = executableDirectory.appendingPathComponent("factoryctl").resolvingSymlinksInPath().path
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("factoryctl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) {
                return candidate.resolvingSymlinksInPath().path == me ? "factoryctl" : display(URL(fileURLWithPath: me))
            }
        }
        if let root = projectRoot, currentDirectory.resolvingSymlinksInPath().path == root.resolvingSymlinksInPath().path {
            return ".build/debug/factoryctl"
        }
        return display(URL(fileURLWithPath: me))
    }

    /// A path relative to the current directory when it is inside it.
    func display(_ url: URL) -> String {
        let base = currentDirectory.resolvingSymlinksInPath().path + "/"
        let path = url.resolvingSymlinksInPath().path
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : url.path
    }
}
