import Foundation
import NATSKit
import NATSTestKit
import Testing

@Suite("Core NATS", .timeLimit(.minutes(2)))
struct CoreNATSTests {
    @Test("publish with headers reaches a subscriber, copied out whole")
    func publishSubscribeWithHeaders() async throws {
        try await withConnection { connection, _ in
            let subscription = try await connection.subscribe(to: "orders.*")
            var headers = NATSHeaders()
            headers.add("Trace", "one")
            headers.add("Trace", "two")
            headers["Nats-Msg-Id"] = "abc"
            try connection.publish(.text("hello"), to: "orders.created", headers: headers)
            try connection.publish([], to: "orders.empty")
            try await connection.flush()

            var iterator = subscription.makeAsyncIterator()
            let first = try #require(await iterator.next())
            #expect(first.subject == "orders.created")
            #expect(first.string == "hello")
            #expect(first.headers.values("Trace") == ["one", "two"])
            #expect(first.headers["Nats-Msg-Id"] == "abc")
            let second = try #require(await iterator.next())
            #expect(second.subject == "orders.empty")
            #expect(second.payload.isEmpty)
            #expect(second.headers.isEmpty)
        }
    }

    @Test("queue subscribers in one group split the messages; each message goes to one")
    func queueGroupSplitsWork() async throws {
        try await withConnection { connection, server in
            let other = try await connect(to: server, name: "second")
            defer { Task { await other.close() } }
            let first = try await connection.subscribe(to: "work", queue: "workers")
            let second = try await other.subscribe(to: "work", queue: "workers")
            let total = 400
            for index in 0..<total { try connection.publish(.text("\(index)"), to: "work") }
            try await connection.flush()

            let counts = try await withThrowingTaskGroup(of: [String].self) { group in
                for subscription in [first, second] {
                    group.addTask {
                        var seen: [String] = []
                        for await message in subscription {
                            seen.append(message.string)
                            if seen.count == total { break }
                        }
                        return seen
                    }
                }
                // Both drain what they got, then stop.
                try await Task.sleep(for: .milliseconds(500))
                try first.unsubscribe()
                try second.unsubscribe()
                var all: [[String]] = []
                for try await seen in group { all.append(seen) }
                return all
            }
            let received = counts.flatMap { $0 }
            #expect(received.count == total, "every message delivered exactly once across the group")
            #expect(Set(received).count == total)
            #expect(counts.allSatisfy { !$0.isEmpty }, "both members received work: \(counts.map(\.count))")
        }
    }

    @Test("request-reply: an answer comes back; no responders and timeouts are their own errors")
    func requestReply() async throws {
        try await withNATSServer { server in
            let responderConnection = try await connect(to: server, sendAsap: true, name: "responder")
            let requester = try await connect(to: server, name: "requester")
            let responses = try await responderConnection.subscribe(to: "echo", queue: "echoers")
            let responder = Task {
                for await request in responses {
                    var headers = NATSHeaders()
                    headers["Echoed"] = "yes"
                    try? responderConnection.respond(to: request, with: .text("echo: " + request.string), headers: headers)
                }
            }
            let answer = try await requester.request(.text("ping"), to: "echo", timeout: .seconds(2))
            #expect(answer.string == "echo: ping")
            #expect(answer.headers["Echoed"] == "yes")

            let noResponders = await expectNATSError { _ = try await requester.request(.text("x"), to: "nobody.listens", timeout: .seconds(2)) }
            #expect(noResponders?.code == .noResponders)

            let silent = try await requester.subscribe(to: "silent")
            let started = ContinuousClock.now
            let timeout = await expectNATSError { _ = try await requester.request(.text("x"), to: "silent", timeout: .milliseconds(300)) }
            #expect(timeout?.code == .timeout)
            #expect(ContinuousClock.now - started < .seconds(2))
            try silent.unsubscribe()

            responder.cancel()
            try responses.unsubscribe()
            await requester.close()
            await responderConnection.close()
        }
    }

    @Test("a dead server fails the connect with a clear error within the timeout, with or without retry")
    func deadServerFailsFast() async throws {
        // A port nothing listens on: start a server, note its port, stop it.
        let server = try await NATSServerProcess.start()
        let url = server.url
        await server.stop()

        let started = ContinuousClock.now
        let withoutRetry = await expectNATSError {
            _ = try await NATSConnection.connect(NATSConfiguration(servers: [url], connectTimeout: .milliseconds(500), retryOnFailedConnect: false))
        }
        #expect(withoutRetry?.code == .connectionFailed)
        #expect(withoutRetry?.description.contains("nats-server is running") == true)
        #expect(ContinuousClock.now - started < .seconds(3))

        let retryStarted = ContinuousClock.now
        let withRetry = await expectNATSError {
            _ = try await NATSConnection.connect(
                NATSConfiguration(servers: [url], connectTimeout: .milliseconds(200), retryOnFailedConnect: true, initialConnectTimeout: .seconds(1))
            )
        }
        #expect(withRetry?.code == .connectionFailed)
        let elapsed = ContinuousClock.now - retryStarted
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(4), "gave up after the initial connect timeout, took \(elapsed)")
    }

    @Test("a first connect that is retried succeeds once the server comes up")
    func retriedConnectSucceedsLater() async throws {
        let server = try await NATSServerProcess.start()
        await server.shutdown()
        let connecting = Task {
            try await NATSConnection.connect(
                NATSConfiguration(servers: [server.url], connectTimeout: .milliseconds(200), initialConnectTimeout: .seconds(10),
                                  reconnect: .init(wait: .milliseconds(100)))
            )
        }
        try await Task.sleep(for: .milliseconds(700))
        try await server.restart()
        let connection = try await connecting.value
        #expect(connection.isConnected)
        await connection.close()
        await server.stop()
    }

    @Test("bad subjects, queue names and server URLs are refused before reaching C")
    func badNamesRefused() async throws {
        try await withConnection { connection, _ in
            for subject in ["", "a b", "a..b", ".a", "a.", "a.*", "a.>", "a\tb", "a\nb", "wild*card"] {
                let error = await expectNATSError { try connection.publish([], to: subject) }
                #expect(error?.code == .invalidName, "publish subject \(subject.debugDescription)")
            }
            for subject in ["", "a.>.b", "a b", "a..b", "x*"] {
                let error = await expectNATSError { _ = try await connection.subscribe(to: subject) }
                #expect(error?.code == .invalidName, "subscribe subject \(subject.debugDescription)")
            }
            let queueError = await expectNATSError { _ = try await connection.subscribe(to: "ok", queue: "has space") }
            #expect(queueError?.code == .invalidName)
            // Wildcards are fine for subscribing.
            _ = try await connection.subscribe(to: "a.*.c.>")
        }
        let badURL = await expectNATSError { _ = try await NATSConnection.connect(NATSConfiguration(servers: ["localhost 4222"])) }
        #expect(badURL?.code == .invalidArgument)
        let noServers = await expectNATSError { _ = try await NATSConnection.connect(NATSConfiguration(servers: [])) }
        #expect(noServers?.code == .invalidArgument)
    }

    @Test("closing twice is fine; using a closed connection is an error value")
    func closedConnection() async throws {
        try await withNATSServer { server in
            let connection = try await connect(to: server)
            let events = connection.events()
            await connection.close()
            await connection.close()
            #expect(connection.isClosed)
            let publishError = await expectNATSError { try connection.publish([], to: "x") }
            #expect(publishError?.code == .connectionClosed)
            let requestError = await expectNATSError { _ = try await connection.request([], to: "x") }
            #expect(requestError?.code == .connectionClosed)
            let subscribeError = await expectNATSError { _ = try await connection.subscribe(to: "x") }
            #expect(subscribeError?.code == .connectionClosed)
            let jetStreamError = await expectNATSError { _ = try await connection.jetStream() }
            #expect(jetStreamError?.code == .connectionClosed)
            let drainError = await expectNATSError { try await connection.drain() }
            #expect(drainError?.code == .connectionClosed)
            var sawClosed = false
            for await event in events where event == .closed { sawClosed = true }
            #expect(sawClosed)
        }
    }

    @Test("drain delivers what the subscription holds, then closes")
    func drainDeliversPending() async throws {
        try await withNATSServer { server in
            let connection = try await connect(to: server)
            let publisher = try await connect(to: server, name: "publisher")
            let subscription = try await connection.subscribe(to: "drain.me")
            for index in 0..<100 { try publisher.publish(.text("\(index)"), to: "drain.me") }
            try await publisher.flush()
            try await Task.sleep(for: .milliseconds(200))
            try await connection.drain(timeout: .seconds(5))
            var received = 0
            for await _ in subscription { received += 1 }
            #expect(received == 100)
            #expect(connection.isClosed)
            await publisher.close()
        }
    }

    @Test("drain completes promptly with a bound pull consumer, which survives it")
    func drainWithPullConsumer() async throws {
        try await withNATSServer { server in
            let connection = try await connect(to: server)
            let jetStream = try await connection.jetStream()
            try await jetStream.createOrUpdateStream(StreamConfiguration(name: "drainable", subjects: ["drainable"]))
            try await jetStream.createOrUpdateConsumer(stream: "drainable", ConsumerConfiguration(durableName: "durable"))
            let consumer = try await jetStream.pullConsumer(stream: "drainable", consumer: "durable")
            _ = try await consumer.fetch(timeout: .milliseconds(100))
            let started = ContinuousClock.now
            try await connection.drain(timeout: .seconds(5))
            #expect(ContinuousClock.now - started < .seconds(1), "drain took \(ContinuousClock.now - started)")
            #expect(connection.isClosed)
            let other = try await connect(to: server)
            let info = try await other.jetStream().consumerInfo(stream: "drainable", consumer: "durable")
            #expect(info.name == "durable", "the durable consumer outlives its subscribers")
            await other.close()
        }
    }

    @Test("events report disconnect and reconnect when the server restarts")
    func reconnectEvents() async throws {
        try await withNATSServer { server in
            let connection = try await connect(to: server)
            var events = connection.events().makeAsyncIterator()
            await server.kill()
            #expect(await events.next() == .disconnected)
            try await server.restart()
            let next = await events.next()
            guard case .reconnected(let url) = next else {
                Issue.record("expected reconnected, got \(String(describing: next))")
                return
            }
            #expect(url?.contains("\(server.port)") == true)
            #expect(connection.isConnected)
            await connection.close()
        }
    }
}

@Suite("Request bursts", .timeLimit(.minutes(2)))
struct RequestBurstTests {
    @Test("a connection's first requests may all come at once: none fails, the connection stays usable")
    func concurrentFirstRequests() async throws {
        // Regression: the response inbox used to be subscribed lazily by the first request; many
        // first requests at once subscribed several times, and a losing subscription's completion
        // closed the mux ("the connection is closed").
        for _ in 0..<5 {
            try await withNATSServer { server in
                let responder = try await connect(to: server, name: "responder")
                let requests = try await responder.subscribe(to: "burst.echo")
                let echo = Task { for await request in requests { try? responder.respond(to: request, with: request.payload) } }
                let connection = try await connect(to: server, name: "burst")
                let answers = try await withThrowingTaskGroup(of: Int.self) { group in
                    for lane in 0..<64 {
                        group.addTask { try await connection.request(Array("\(lane)".utf8), to: "burst.echo").payload.count }
                    }
                    var total = 0
                    for try await _ in group { total += 1 }
                    return total
                }
                #expect(answers == 64)
                #expect(!connection.isClosed)
                _ = try await connection.request(Array("after".utf8), to: "burst.echo")
                echo.cancel()
                await connection.close()
                await responder.close()
            }
        }
    }
}
