// FactoryModelTests
