import FactoryModel
import Foundation
import Pipelines

// MARK: - PipelineTable

/// `factoryctl get -t pipeline -w WORKSPACE`:
///
/// ```
///      NAME      | STATUS |        LAST RUN        |  RESULT   |      NEXT SCHEDULED
/// ---------------|--------|------------------------|-----------|---------------------------
///  daily-revenue | active | 20261121-020000-3fa2c1 | succeeded | 2026-11-22T02:00:00.000Z
/// ```
///
/// STATUS is the pipeline resource's (pending, active, error, deleted); LAST RUN and RESULT its
/// newest run's id and state (from the run documents); NEXT SCHEDULED the earliest next slot of
/// its schedule inputs (empty without one).
enum PipelineTable {
    static let headers = ["NAME", "STATUS", "LAST RUN", "RESULT", "NEXT SCHEDULED"]

    static func render(_ views: [ResourceStatusView], runs: [PipelineRunReader.Run], now: Date = Date()) -> String {
        let newest = Dictionary(runs.map { ($0.run.pipeline, $0) }, uniquingKeysWith: { first, second in
            (first.run.createdAt, first.run.id) >= (second.run.createdAt, second.run.id) ? first : second
        })
        let rows = views.sorted { $0.name < $1.name }.map { view -> [String] in
            let last = newest[view.name]
            return [view.name, view.status, last?.run.id ?? "", last?.run.state.rawValue ?? "", nextSlot(view, after: now).map(PipelineTime.format) ?? ""]
        }
        return StatusTable.render(headers: headers, rows: rows)
    }

    /// The earliest next slot of the pipeline's schedule inputs.
    static func nextSlot(_ view: ResourceStatusView, after now: Date) -> Date? {
        guard view.status != "deleted", let spec = view.spec,
            case .success(let pipeline) = PipelineSpec.decode(spec, context: .structural(pipelineName: view.name))
        else { return nil }
        return pipeline.inputs.compactMap { input -> Date? in
            guard case .schedule(let cron) = input.source else { return nil }
            return cron.next(after: now)
        }.min()
    }
}
