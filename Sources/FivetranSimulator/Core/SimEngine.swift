import Foundation
import SimulatorKit
import Synchronization

// MARK: - SimEngine

/// Holds the simulated account behind one lock. Every operation takes the lock once, does a short
/// synchronous piece of work and releases it; no `await` happens under the lock.
final class SimEngine: Sendable {
    let configuration: FivetranSimulator.Configuration
    private let state: Mutex<SimState>

    init(configuration: FivetranSimulator.Configuration) {
        self.configuration = configuration
        self.state = Mutex(SimState(configuration: configuration, now: Date().timeIntervalSince1970))
    }

    /// Runs `body` on the state with the simulated "now" (wall clock plus the admin offset, or
    /// the instant it was frozen at plus the offset).
    func withState<Result: Sendable>(_ body: (inout SimState, Double) -> Result) -> Result {
        let wall = Date().timeIntervalSince1970
        return self.state.withLock { state in body(&state, (state.frozenWall ?? wall) + state.clockOffset) }
    }

    /// Stops simulated time where it is (no-op if stopped already); returns the simulated "now".
    @discardableResult
    func freezeClock() -> Double {
        let wall = Date().timeIntervalSince1970
        return self.state.withLock { state in
            if state.frozenWall == nil { state.frozenWall = wall }
            return (state.frozenWall ?? wall) + state.clockOffset
        }
    }

    /// Lets simulated time run with the wall clock again from where it stopped: the offset
    /// absorbs the time it was frozen, so nothing jumps. Returns the simulated "now".
    @discardableResult
    func resumeClock() -> Double {
        let wall = Date().timeIntervalSince1970
        return self.state.withLock { state in
            if let frozen = state.frozenWall {
                state.clockOffset -= wall - frozen
                state.frozenWall = nil
            }
            return wall + state.clockOffset
        }
    }

    /// Runs an API operation that may fail with an API error answer.
    func perform(_ body: (inout SimState, Double) throws(SimFailure) -> SimJSON) -> Result<SimJSON, SimFailure> {
        self.withState { state, now in
            do throws(SimFailure) {
                return .success(try body(&state, now))
            } catch {
                return .failure(error)
            }
        }
    }

    func admit(authorization: String?, accept: String?) -> SimState.Admission {
        self.withState { state, now in state.admit(authorization: authorization, accept: accept, now: now) }
    }

    func count(route: String, status: Int) {
        self.withState { state, _ in state.count(route: route, status: status) }
    }
}
