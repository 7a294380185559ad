import FactoryModel
import Fivetran
import FivetranDriver
import Foundation
import JSONSchema
import Testing
import VendorHTTP

/// examples/fivetran.yaml and examples/fivetran-operator.yaml stay true to the built-in type.
@Suite("Fivetran examples")
struct FivetranExampleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the example resource is valid against the example operator manifest, whose fivetran schema and subjects are the built-in ones")
    func examples() throws {
        let manifest = try OperatorManifest.load(fromFile: Self.root.appendingPathComponent("examples/fivetran-operator.yaml").path)
        let registry = ResourceTypeRegistry(operatorManifest: manifest)
        let declared = try #require(registry.definition(forType: "fivetran"))
        let builtIn = try ResourceTypeDefinition.fivetranDefault()
        #expect(try JSONValue(parsing: declared.specSchemaText) == JSONValue(parsing: builtIn.specSchemaText))
        #expect(declared.natsAPI == builtIn.natsAPI && declared.isRunnable)

        let text = try String(contentsOf: Self.root.appendingPathComponent("examples/fivetran.yaml"), encoding: .utf8)
        let resource = try ResourceManifest.load(from: text)
        #expect(resource.resource.type == "fivetran" && resource.resource.operator == "fivetran-factory")
        #expect(registry.validate(resource, workspace: try WorkspaceName("public")).isEmpty)
        let driver = FivetranDriver(client: try FivetranClient(configuration: .init(apiKey: VendorSecret("k"), apiSecret: VendorSecret("s")), logger: silentLogger))
        let spec = try driver.decodeSpec(resource.resource.spec)
        #expect(spec == FivetranDriver.Spec(connectorID: "shrank_paparazzi", action: .start, timeout: .seconds(600)))
    }
}
