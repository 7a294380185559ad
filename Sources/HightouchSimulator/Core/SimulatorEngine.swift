import Foundation
import SimulatorKit
import Synchronization

// MARK: - SimulatorEngine

/// Holds the simulated workspace behind one lock. Every operation takes the lock once, does a
/// short synchronous piece of work and releases it; no `await` happens under the lock.
final class SimulatorEngine: Sendable {
    let configuration: HightouchSimulator.Configuration
    private let state: Mutex<SimulatorState>

    init(configuration: HightouchSimulator.Configuration) {
        self.configuration = configuration
        self.state = Mutex(SimulatorState(configuration: configuration, now: Date().timeIntervalSince1970))
    }

    /// Runs `body` on the state with the simulated "now" (wall clock plus the admin offset).
    func withState<Result: Sendable>(_ body: (inout SimulatorState, Double) -> Result) -> Result {
        let wall = Date().timeIntervalSince1970
        return self.state.withLock { state in body(&state, wall + state.clockOffset) }
    }

    /// Runs an API operation that may fail with an API error answer.
    func perform(_ body: (inout SimulatorState, Double) throws(SimFailure) -> SimJSON) -> Result<SimJSON, SimFailure> {
        self.withState { state, now in
            do throws(SimFailure) {
                return .success(try body(&state, now))
            } catch {
                return .failure(error)
            }
        }
    }

    func admit(authorization: String?) -> SimulatorState.Admission {
        let instant = ContinuousClock.now
        return self.withState { state, _ in state.admit(authorization: authorization, instant: instant) }
    }

    func count(route: String, status: Int) {
        self.withState { state, _ in state.count(route: route, status: status) }
    }
}
