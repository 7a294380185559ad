import Foundation
import Synchronization

// MARK: - SimClock

/// A simulator's clock: the wall clock plus an offset that only grows (`/_admin/time/advance`),
/// or, while frozen (`/_admin/time/freeze`), the wall clock of the moment it froze plus the
/// offset. Simulated time is seconds since 1970.
public struct SimClock: Sendable, Hashable {
    /// Added to the wall clock.
    public var offset: Double
    /// The wall clock when simulated time was frozen, until it resumes: meanwhile simulated time
    /// moves only when advanced.
    public var frozenWall: Double?

    public init(offset: Double = 0, frozenWall: Double? = nil) {
        self.offset = offset
        self.frozenWall = frozenWall
    }

    /// Simulated "now" when the wall clock reads `wall`.
    public func now(wall: Double) -> Double {
        (self.frozenWall ?? wall) + self.offset
    }

    /// Stops simulated time where it is (nothing if stopped already).
    public mutating func freeze(wall: Double) {
        if self.frozenWall == nil { self.frozenWall = wall }
    }

    /// Lets simulated time run with the wall clock again from where it stopped: the offset absorbs
    /// the time it was frozen, so nothing jumps.
    public mutating func resume(wall: Double) {
        if let frozen = self.frozenWall {
            self.offset -= wall - frozen
            self.frozenWall = nil
        }
    }
}

// MARK: - SimulatedState

/// The state a simulator keeps behind its engine's lock: its objects, knobs, credentials,
/// counters, and the clock they are seen at.
public protocol SimulatedState: Sendable {
    var clock: SimClock { get set }
}

// MARK: - SimStateEngine

/// Holds a simulator's state behind one lock, with its configuration. Every operation takes the
/// lock once, does a short synchronous piece of work with the simulated "now" and releases it; no
/// `await` happens under the lock.
public final class SimStateEngine<State: SimulatedState, Configuration: Sendable>: Sendable {
    public let configuration: Configuration
    private let state: Mutex<State>

    /// - Parameter makeState: the state at start, from the configuration and the wall clock.
    public init(configuration: Configuration, makeState: (Configuration, _ now: Double) -> State) {
        self.configuration = configuration
        self.state = Mutex(makeState(configuration, Date().timeIntervalSince1970))
    }

    /// Runs `body` on the state with the simulated "now".
    public func withState<Result: Sendable>(_ body: (inout State, Double) -> Result) -> Result {
        let wall = Date().timeIntervalSince1970
        return self.state.withLock { state in body(&state, state.clock.now(wall: wall)) }
    }

    /// Runs an operation that may fail with a `Failure` (an API error answer, say) and returns its
    /// result. (The failure type is named: a closure's thrown type is not inferred.)
    public func perform<Value: Sendable, Failure: Error>(
        failing _: Failure.Type,
        _ body: (inout State, Double) throws(Failure) -> Value
    ) -> Result<Value, Failure> {
        self.withState { state, now in
            do throws(Failure) {
                return .success(try body(&state, now))
            } catch {
                return .failure(error)
            }
        }
    }

    /// Moves simulated time forward by `seconds` (negative values count as 0); returns the new "now".
    @discardableResult
    public func advanceClock(by seconds: Double) -> Double {
        self.withState { state, now in
            let step = max(0, seconds)
            state.clock.offset += step
            return now + step
        }
    }

    /// Stops simulated time where it is (no-op if stopped already); returns the simulated "now".
    @discardableResult
    public func freezeClock() -> Double {
        let wall = Date().timeIntervalSince1970
        return self.state.withLock { state in
            state.clock.freeze(wall: wall)
            return state.clock.now(wall: wall)
        }
    }

    /// Lets simulated time run with the wall clock again from where it stopped; returns the
    /// simulated "now".
    @discardableResult
    public func resumeClock() -> Double {
        let wall = Date().timeIntervalSince1970
        return self.state.withLock { state in
            state.clock.resume(wall: wall)
            return state.clock.now(wall: wall)
        }
    }
}
