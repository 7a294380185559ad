import FactoryModel

// MARK: - FollowCommands

/// `--watch` of apply, run and delete: follows each published command, one after the other,
/// until its run ends; fails (exit 1) if any ended badly.
enum FollowCommands {
    static func follow(_ targets: [(CommandEnvelope, CommandTarget)], client: FactoryClient) async throws(CLIError) {
        var failures = 0
        for (envelope, target) in targets {
            let session = WatchSession(
                client: client,
                scope: .resource(workspace: envelope.workspace, name: envelope.resource.name),
                target: target,
                renderer: WatchRenderer(),
                type: envelope.resource.type)
            let outcome = try await session.run()
            session.renderer.finish(outcome.text)
            if !outcome.isSuccess { failures += 1 }
        }
        if failures > 0 {
            throw .failed("\(failures) of \(targets.count) command\(targets.count == 1 ? "" : "s") did not succeed")
        }
    }
}
