// OperatorCore: module under construction.
