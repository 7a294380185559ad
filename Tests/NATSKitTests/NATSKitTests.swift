// NATSKitTests
