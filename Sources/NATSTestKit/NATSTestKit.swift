// NATSTestKit: module under construction.
