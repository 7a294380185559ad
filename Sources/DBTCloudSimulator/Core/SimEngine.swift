import Foundation
import JSONSchema
import SimulatorKit

// MARK: - SimEngine

/// Holds the simulated account behind one lock: SimulatorKit's engine (every operation takes the
/// lock once with the simulated "now", the clock's offset, freeze and resume), with this
/// simulator's own operations below.
typealias SimEngine = SimStateEngine<SimState, DBTCloudSimulator.Configuration>

extension SimStateEngine where State == SimState, Configuration == DBTCloudSimulator.Configuration {
    convenience init(configuration: DBTCloudSimulator.Configuration) {
        self.init(configuration: configuration) { configuration, now in SimState(configuration: configuration, now: now) }
    }

    /// Runs an API operation that may fail with an API error answer.
    func perform<Value: Sendable>(_ body: (inout SimState, Double) throws(SimFailure) -> Value) -> Result<Value, SimFailure> {
        self.perform(failing: SimFailure.self, body)
    }

    func admit(authorization: String?, account: String?) -> SimState.Admission {
        self.withState { state, now in state.admit(authorization: authorization, account: account, now: now) }
    }

    func count(route: String, status: Int) {
        self.withState { state, _ in state.count(route: route, status: status) }
    }
}
