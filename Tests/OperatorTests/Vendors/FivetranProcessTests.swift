import FactoryModel
import FivetranSimulator
import Foundation
import SimulatedVendors
import JSONSchema
import NATSKit
import SimulatorKit
import Testing

/// The Fivetran actions end to end with two `factory-operator` replicas (the generic outcomes and
/// crashes are in ``VendorProcessTests``): STATUS, TEST with a failing setup test, FORCE_RESYNC of a
/// table and without one, a paused connector, the schedule made manual.
@Suite("Fivetran actions as processes", .serialized, .timeLimit(.minutes(5)))
struct FivetranProcessTests {
    @Test("STATUS, TEST, FORCE_RESYNC and START; a refused FORCE_RESYNC without a table; a paused connector refused, then unpaused when the spec says so")
    func actions() async throws {
        let vendor = SimulatedFivetran()
        let simulator = vendor.simulator
        try await VendorProcessTests.withStack(vendor) { stack in
            func spec(_ index: Int, _ fields: JSONObject) -> JSONValue {
                var spec: JSONObject = ["connectorId": .string(vendor.connector(index))]
                for member in fields { spec[member.key] = member.value }
                return .object(spec)
            }

            // START: the connector made manual (one PATCH), one sync, followed to its end.
            try vendor.prepare(21)
            try await stack.apply("start", spec: spec(21, ["action": "START"]))
            try await stack.waitForStatus("start", timeout: .seconds(60)) { $0.runtime == "succeeded" }
            #expect(simulator.counters().syncsStarted[vendor.connector(21)] == 1)
            #expect(simulator.counters().updates[vendor.connector(21)] == 1, "schedule_type set to manual once")

            // STATUS: read only, succeeded at once, nothing started or changed.
            try vendor.prepare(22)
            try await stack.apply("status", spec: spec(22, ["action": "STATUS"]))
            let status = try await stack.waitForStatus("status", timeout: .seconds(60)) { $0.runtime == "succeeded" }
            #expect(status.lastRun?.phase == "succeeded")
            #expect(simulator.counters().syncsStarted[vendor.connector(22)] == nil && simulator.counters().updates[vendor.connector(22)] == nil)

            // TEST with a failing setup test: the run fails, each test shown.
            try vendor.prepare(23)
            simulator.failSetupTest(.failed, message: "Cannot connect to the database", connector: vendor.connector(23))
            try await stack.apply("test", spec: spec(23, ["action": "TEST"]))
            let tested = try await stack.waitForStatus("test", timeout: .seconds(60)) { $0.lastRun?.phase == "failed" }
            #expect(tested.runtime == "failed" && simulator.counters().setupTests[vendor.connector(23)] == 1)
            let detail = try await stack.factoryctl(["get", "test", "-w", "public", "-d"])
            #expect(detail.output.contains("Setup test") && detail.output.contains("Cannot connect to the database"), "\(detail.output)")

            // FORCE_RESYNC of one table.
            try vendor.prepare(24)
            try await stack.apply("resync", spec: spec(24, ["action": "FORCE_RESYNC", "schema": "public", "table": "orders"]))
            try await stack.waitForStatus("resync", timeout: .seconds(60)) { $0.runtime == "succeeded" }
            #expect(simulator.counters().tableResyncs[vendor.connector(24)] == ["public.orders": 1])

            // FORCE_RESYNC without a table: refused before anything is sent, naming the field.
            let seen = stack.proxy.seen.count
            try await stack.apply("resync-no-table", spec: spec(25, ["action": "FORCE_RESYNC", "schema": "public"]))
            let reason = try await VendorProcessTests.waitForDeadLetter(stack) { $0.contains("resync-no-table") && $0.contains("table") }
            #expect(reason != nil, "no dead letter of resync-no-table names the table")
            #expect(stack.proxy.seen.count == seen)

            // A paused connector: refused with the remedy, nothing started; unpaused when the spec says so.
            simulator.addConnector(.init(id: vendor.connector(26), paused: true))
            try await stack.apply("paused", spec: spec(26, ["action": "START"]))
            let refused = try await stack.waitForStatus("paused", timeout: .seconds(60)) { $0.lastError?.reason == "connectorPaused" }
            #expect(refused.lastError?.message.contains("unpause: true") == true)
            #expect(simulator.counters().syncsStarted[vendor.connector(26)] == nil)
            try await stack.apply("paused", spec: spec(26, ["action": "START", "unpause": true]))
            try await stack.waitForStatus("paused", timeout: .seconds(60)) { $0.runtime == "succeeded" }
            #expect(simulator.counters().syncsStarted[vendor.connector(26)] == 1)
        }
    }
}
