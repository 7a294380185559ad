# syntax=docker/dockerfile:1
#
# The FactoryOperator image: hightouch-operator (the worker) and factoryctl (the client, which
# also serves the Hightouch simulator for docker-compose.yml).
#
#   docker build -t factoryoperator:local .
#   docker run --rm -e NATS_URL=nats://nats:4222 -e HIGHTOUCH_SERVICE_SECRET=… factoryoperator:local
#
# Binaries land where the seed operator manifest's component runs them: /opt/tmdc-io/hightouch-operator.

# MARK: - Build: release binaries, Swift standard library linked statically
FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libnats-dev libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: a change in Sources/ does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
# Package.swift declares the test targets; their folders must exist for the package to load.
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product hightouch-operator \
    && swift build -c release --static-swift-stdlib --product factoryctl \
    && mkdir -p /out \
    && cp "$(swift build -c release --show-bin-path)/hightouch-operator" "$(swift build -c release --show-bin-path)/factoryctl" /out/ \
    && cp -r "$(swift build -c release --show-bin-path)/FactoryOperator_FactoryConsole.resources" /out/

# MARK: - Run: slim Debian with the cnats runtime library
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libnats3.4 ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/*
# An unprivileged user; the election state file lives in its home directory.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/factoryoperator --create-home factory
COPY --from=build /out/hightouch-operator /opt/tmdc-io/hightouch-operator
COPY --from=build /out/factoryctl /usr/local/bin/factoryctl
# factoryctl console's web files (package resources), found beside the executable.
COPY --from=build /out/FactoryOperator_FactoryConsole.resources /usr/local/bin/FactoryOperator_FactoryConsole.resources
RUN ln -s /opt/tmdc-io/hightouch-operator /usr/local/bin/hightouch-operator
COPY streams /opt/factoryoperator/streams
COPY examples /opt/factoryoperator/examples
USER factory
WORKDIR /var/lib/factoryoperator
# METRIC_PORT (/metrics, /healthz, /readyz) and the simulator's default port.
EXPOSE 30001 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s CMD curl -fsS -o /dev/null "http://127.0.0.1:${METRIC_PORT:-30001}/readyz" || exit 1
CMD ["/opt/tmdc-io/hightouch-operator", "operator", "sync", "--electionStateFile", "/var/lib/factoryoperator/leader-election.log"]
