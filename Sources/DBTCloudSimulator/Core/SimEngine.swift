import Foundation
import JSONSchema
import Synchronization

// MARK: - SimEngine

/// Holds the simulated account behind one lock. Every operation takes the lock once, does a short
/// synchronous piece of work and releases it; no `await` happens under the lock.
final class SimEngine: Sendable {
    let configuration: DBTCloudSimulator.Configuration
    private let state: Mutex<SimState>

    init(configuration: DBTCloudSimulator.Configuration) {
        self.configuration = configuration
        self.state = Mutex(SimState(configuration: configuration, now: Date().timeIntervalSince1970))
    }

    /// Runs `body` on the state with the simulated "now" (wall clock plus the admin offset).
    func withState<Result: Sendable>(_ body: (inout SimState, Double) -> Result) -> Result {
        let wall = Date().timeIntervalSince1970
        return self.state.withLock { state in body(&state, wall + state.clockOffset) }
    }

    /// Runs an API operation that may fail with an API error answer.
    func perform<Value: Sendable>(_ body: (inout SimState, Double) throws(SimFailure) -> Value) -> Result<Value, SimFailure> {
        self.withState { state, now in
            do throws(SimFailure) {
                return .success(try body(&state, now))
            } catch {
                return .failure(error)
            }
        }
    }

    func admit(authorization: String?, account: String?) -> SimState.Admission {
        let instant = ContinuousClock.now
        return self.withState { state, _ in state.admit(authorization: authorization, account: account, instant: instant) }
    }

    func count(route: String, status: Int) {
        self.withState { state, _ in state.count(route: route, status: status) }
    }
}
