import FactoryEngine

/// A pipeline run's own events: the job `pipeline.<name>`, no datasets (its tasks' runs carry
/// them, each with the pipeline run as `parent`). `FACTORY` `DAG`, as Airflow names its DAG runs
/// `AIRFLOW` `DAG`.
extension PipelineDriver {
    public var lineageIntegration: String { "FACTORY" }
    public var lineageJobType: String { "DAG" }
}
