import Foundation
import Testing

@testable import HTTPServer

/// Live tests of connection limits and timeouts.
struct ServerLimitsTests {
    @Test func connectionBeyondTheLimitGets503WithRetryAfter() throws {
        let server = try TestServer { $0.maxConnections = 2 }
        defer { server.stop() }
        let first = try server.client()
        let second = try server.client()
        for client in [first, second] {
            try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse().status == 200)
        }

        let third = try server.client()
        try third.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let refused = try third.readResponse()
        #expect(refused.statusLine == "HTTP/1.1 503 Service Unavailable")
        #expect(refused.errorCode == "too_many_connections")
        #expect(refused.header("Retry-After") == "1")
        #expect(third.isClosedByPeer())

        // Once a slot frees up, new connections are served again.
        first.close()
        usleep(100_000)
        let fourth = try server.client()
        try fourth.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try fourth.readResponse().status == 200)
    }

    @Test func incompleteHeadersGet408AfterTheHeaderTimeout() throws {
        let server = try TestServer { $0.headerTimeoutSeconds = 0.3 }
        defer { server.stop() }
        let client = try server.client()
        let started = Date()

        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 408 Request Timeout")
        #expect(response.errorCode == "request_timeout")
        #expect(Date().timeIntervalSince(started) < 1.0)
        #expect(client.isClosedByPeer())
    }

    @Test func slowlorisCannotHoldAConnectionPastTheHeaderTimeout() throws {
        let server = try TestServer { $0.headerTimeoutSeconds = 0.3 }
        defer { server.stop() }
        let client = try server.client()
        let started = Date()

        // One header byte every 50 ms would take 1.5 s to finish; the timeout ends it first.
        let request = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Drip: abc\r\n\r\n"
        var response: TestResponse?
        for byte in request.utf8 {
            guard (try? client.send([byte])) != nil else { break }
            usleep(50_000)
            if Date().timeIntervalSince(started) > 0.5 {
                response = try client.readResponse()
                break
            }
        }

        #expect(response?.statusLine == "HTTP/1.1 408 Request Timeout")
        #expect(client.isClosedByPeer())
    }

    @Test func stalledBodyGets408AfterTheBodyTimeout() throws {
        let server = try TestServer { $0.bodyTimeoutSeconds = 0.3 }
        defer { server.stop() }
        let client = try server.client()

        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 408 Request Timeout")
        #expect(response.errorMessage == "request body not received within 0.3 seconds")
        #expect(client.isClosedByPeer())
    }

    @Test func idleKeepAliveConnectionIsClosedSilently() throws {
        let server = try TestServer { $0.idleTimeoutSeconds = 0.3 }
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().status == 200)

        #expect(client.isClosedByPeer(within: 2))
    }

    @Test func thousandIdleKeepAliveConnectionsDoNotStarveANewOne() throws {
        let server = try TestServer { $0.maxConnections = 1_100 }
        defer { server.stop(graceSeconds: 2) }
        var clients: [RawClient] = []
        for _ in 0..<1_000 {
            let client = try server.client()
            try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            clients.append(client)
        }
        for client in clients {
            #expect(try client.readResponse().status == 200)
        }

        let started = Date()
        let fresh = try server.client()
        try fresh.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try fresh.readResponse().bodyText == "hello")
        #expect(Date().timeIntervalSince(started) < 0.5)
        try clients[0].send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try clients[0].readResponse().status == 200)
    }
}
