import Testing

/// The suites that start processes (nats-server, the dev stack, the compose services) run one
/// after the other: on a two-core machine, overlapping them would slow every other suite's
/// timing-sensitive tests.
@Suite("factoryctl and the stack as processes", .serialized)
enum BinaryTests {}
