import FactoryEngine

/// An HTTP task's lineage is the job's alone: what an endpoint reads and writes is not said.
extension HTTPTaskDriver {
    public var lineageIntegration: String { "HTTP" }
    public var lineageJobType: String { "TASK" }
}
