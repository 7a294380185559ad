import JSONSchema
import SimulatorKit

// MARK: - Webhooks

extension SimState {
    /// The `job.run.completed` bodies of runs that have ended since the last call, as dbt Cloud
    /// sends them (ids as strings, the status word and code): one per run, once.
    mutating func endedRunWebhooks(now: Double) -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        for run in self.runs where run.end <= now && !self.webhookNotified.contains(run.id) {
            self.webhookNotified.insert(run.id)
            let status = run.status(at: now)
            let job = self.jobs[run.jobID]
            let data: JSONObject = [
                "jobId": .string(String(run.jobID)),
                "jobName": .string(job?.name ?? ""),
                "runId": .string(String(run.id)),
                "environmentId": .string(job.map { String($0.environmentID) } ?? ""),
                "environmentName": .string(job?.environmentName ?? ""),
                "projectId": .string(job.map { String($0.projectID) } ?? ""),
                "projectName": .string(job?.projectName ?? ""),
                "runStatus": .string(SimRun.humanized(status)),
                "runStatusCode": .number(JSONNumber(status)),
                "runStatusMessage": .string(run.statusMessage ?? "None"),
                "runReason": .string(run.trigger.cause),
                "runStartedAt": .string(SimTimestamp.format(run.startedAt, .microseconds)),
                "runFinishedAt": .string(SimTimestamp.format(run.end, .microseconds)),
            ]
            let event: JSONObject = [
                "accountId": .number(JSONNumber(self.accountID)),
                "webhooksID": .string("wsu_factorysimulator"),
                "eventId": .string("wev_\(run.id)"),
                "timestamp": .string(SimTimestamp.format(now, .microseconds)),
                "eventType": .string("job.run.completed"),
                "webhookName": .string("factory simulator"),
                "data": .object(data),
            ]
            bodies.append(JSONValue.object(event).serializedBytes())
        }
        return bodies
    }
}
