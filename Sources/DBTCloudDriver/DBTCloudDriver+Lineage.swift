import FactoryEngine

/// A dbt Cloud job run's lineage is the job's alone: the models a run builds are in its
/// artifacts (`manifest.json`, `run_results.json`), which the driver does not read, so the
/// events name no datasets (docs/lineage.md). ABORT follows a cancelled run like any other.
extension DBTCloudDriver {
    public var lineageIntegration: String { "DBT_CLOUD" }
    public var lineageJobType: String { "JOB" }
}
