// FactoryModel: module under construction.
