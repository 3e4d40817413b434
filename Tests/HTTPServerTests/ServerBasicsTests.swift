import Foundation
import Testing

@testable import HTTPServer

/// Live tests of ordinary exchanges: framing headers, keep-alive, pipelining, HEAD, routing.
struct ServerBasicsTests {
    @Test func getReturns200WithDateServerAndContentLength() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.bodyText == "hello")
        #expect(response.header("Content-Length") == "5")
        #expect(response.header("Server") == "saed")
        #expect(response.header("Content-Type") == "text/plain")
        let date = try #require(response.header("Date"))
        #expect(date.hasSuffix(" GMT") && date.count == 29, "not an IMF-fixdate: \(date)")
    }

    @Test func keepAliveReusesTheConnection() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        for _ in 0..<3 {
            try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            #expect(response.header("Connection") == nil)
        }
        #expect(!client.isClosedByPeer(within: 0.2))
    }

    @Test func connectionCloseIsHonoured() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.header("Connection") == "close")
        #expect(client.isClosedByPeer())
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() throws {
        let server = try TestServer()
        defer { server.stop() }

        let plain = try server.client()
        try plain.send("GET /hello HTTP/1.0\r\n\r\n")
        let closed = try plain.readResponse()
        #expect(closed.statusLine == "HTTP/1.1 200 OK")
        #expect(closed.header("Connection") == "close")
        #expect(plain.isClosedByPeer())

        let keeping = try server.client()
        try keeping.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let kept = try keeping.readResponse()
        #expect(kept.header("Connection") == "keep-alive")
        try keeping.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(try keeping.readResponse().bodyText == "hello")
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        // The slow one first: its answer must still come first.
        try client.send(
            "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /v1/jobs/j7 HTTP/1.1\r\nHost: x\r\n\r\n")

        #expect(try client.readResponse().bodyText == "slow")
        #expect(try client.readResponse().bodyText == "abc")
        #expect(try client.readResponse().bodyText == "{\"id\":\"j7\"}")
        #expect(!client.isClosedByPeer(within: 0.2))
    }

    @Test func requestSentOneByteAtATimeIsParsed() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.sendByteByByte(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.bodyText == "hello world")
    }

    @Test func bodySplitOverManyWritesIsReassembled() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()
        let body = (0..<200_000).map { UInt8($0 % 251) }

        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n")
        for start in stride(from: 0, to: body.count, by: 7_001) {
            try client.send(Array(body[start..<min(start + 7_001, body.count)]))
        }
        let response = try client.readResponse()

        #expect(response.status == 200)
        #expect(response.body == body)
    }

    @Test func headReturnsTheGetHeadersWithoutABody() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try client.readResponse(isHead: true)
        #expect(head.statusLine == "HTTP/1.1 200 OK")
        #expect(head.header("Content-Length") == "5")
        #expect(head.header("Content-Type") == "text/plain")

        // No body bytes may follow: the next response must start right away.
        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().bodyText == "hello")
    }

    @Test func pathAndQueryArePercentDecoded() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /inspect?name=a%20b&x=1+2&x=3&flag HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().bodyText == "GET /inspect [flag=&name=a b&x=3] HTTP/1.1")

        try client.send("GET /files/report%2F2024%20final HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().bodyText == "report/2024 final")

        try client.send("GET /v1/jobs/%E2%9C%93 HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().bodyText == "{\"id\":\"✓\"}")
    }

    @Test func literalSegmentWithColonIsRouted() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("POST /v1/jobs:validate HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        #expect(try client.readResponse().bodyText == "{\"valid\":true}")
    }

    @Test func unknownPathIs404AndKeepsTheConnection() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 404 Not Found")
        #expect(response.errorCode == "not_found")
        #expect(response.header("Content-Type") == "application/json")
        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().status == 200)
    }

    @Test func wrongMethodIs405WithAllow() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("PATCH /v1/jobs/j1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 405 Method Not Allowed")
        #expect(response.errorCode == "method_not_allowed")
        #expect(response.header("Allow") == "GET, HEAD, DELETE")
        try client.send("DELETE /v1/jobs/j1 HTTP/1.1\r\nHost: x\r\n\r\n")
        let deleted = try client.readResponse()
        #expect(deleted.statusLine == "HTTP/1.1 204 No Content")
        #expect(deleted.header("Content-Length") == nil)
    }

    @Test func handlerErrorsBecomeJSONErrors() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /conflict HTTP/1.1\r\nHost: x\r\n\r\n")
        let conflict = try client.readResponse()
        #expect(conflict.statusLine == "HTTP/1.1 409 Conflict")
        #expect(
            conflict.bodyText
                == #"{"error":{"code":"job_conflict","message":"job \"j1\" is running"}}"#)
        #expect(conflict.header("Retry-After") == "3")

        try client.send("GET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
        let failure = try client.readResponse()
        #expect(failure.statusLine == "HTTP/1.1 500 Internal Server Error")
        #expect(
            failure.bodyText
                == #"{"error":{"code":"internal_error","message":"internal server error"}}"#)
        #expect(!client.isClosedByPeer(within: 0.2))
    }

    @Test func slowHandlerDoesNotBlockOtherConnections() throws {
        let server = try TestServer()
        defer { server.stop() }
        let slow = try server.client()
        try slow.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")

        let started = Date()
        let fast = try server.client()
        try fast.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try fast.readResponse().status == 200)
        #expect(Date().timeIntervalSince(started) < 0.25)
        #expect(try slow.readResponse().bodyText == "slow")
    }

    @Test func serverListensOnIPv6Loopback() throws {
        var configuration = ServerConfiguration()
        configuration.host = "::1"
        configuration.port = 0
        let router = Router()
        router.add("GET", "/") { request in
            HTTPResponse(status: 200, body: .bytes(Array(request.remoteAddress.utf8)))
        }
        let server = HTTPServer(configuration: configuration, router: router)
        do {
            try server.start()
        } catch {
            return  // No IPv6 loopback on this machine; nothing to test.
        }
        defer { server.shutdown(graceSeconds: 1) }
        let client = try RawClient(port: server.port, host: "::1")

        try client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().bodyText.hasPrefix("[::1]:"))
    }
}
