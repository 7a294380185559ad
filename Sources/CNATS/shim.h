// The cnats 3.4.1 C client (Debian libnats-dev). Only NATSKit imports this module.
#include <nats/nats.h>
