import Testing

@testable import HTTPServer

/// Live tests of `Expect: 100-continue` and unknown expectations.
struct ServerExpectTests {
    @Test func continueIsSentBeforeTheBodyIsRead() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let interim = try client.readResponse()
        #expect(interim.statusLine == "HTTP/1.1 100 Continue")
        #expect(interim.headers.isEmpty)

        try client.send("ping")
        let response = try client.readResponse()
        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.bodyText == "ping")
        #expect(!client.isClosedByPeer(within: 0.2))
    }

    @Test func unknownPathIsAnsweredWithoutReadingTheBody() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "POST /nope HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 404 Not Found")
        #expect(response.errorCode == "not_found")
        #expect(response.header("Connection") == "close")
        #expect(client.isClosedByPeer())
    }

    @Test func wrongMethodIsAnsweredWithoutReadingTheBody() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "PUT /hello HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 405 Method Not Allowed")
        #expect(response.header("Allow") == "GET, HEAD")
        #expect(client.isClosedByPeer())
    }

    @Test func routeCheckOfTheHeadRefusesBeforeContinue() throws {
        let server = try TestServer()
        defer { server.stop() }
        let refused = try server.client()
        try refused.send(
            "POST /guarded HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let response = try refused.readResponse()
        #expect(response.statusLine == "HTTP/1.1 401 Unauthorized")
        #expect(response.errorCode == "unauthorized")
        #expect(response.header("Connection") == "close")
        #expect(refused.isClosedByPeer())

        // With the header, the route's check passes: 100, then the handler's answer.
        let admitted = try server.client()
        try admitted.send(
            "POST /guarded HTTP/1.1\r\nHost: x\r\nX-Key: open\r\nExpect: 100-continue\r\n"
                + "Content-Length: 4\r\n\r\n")
        #expect(try admitted.readResponse().statusLine == "HTTP/1.1 100 Continue")
        try admitted.send("ping")
        let echoed = try admitted.readResponse()
        #expect(echoed.statusLine == "HTTP/1.1 200 OK" && echoed.bodyText == "ping")

        // Without the expectation the check is not asked: the handler answers.
        let plain = try server.client()
        try plain.send("POST /guarded HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nping")
        #expect(try plain.readResponse().statusLine == "HTTP/1.1 200 OK")
    }

    @Test func declaredLengthOverTheLimitIs413AtOnce() throws {
        let server = try TestServer { $0.maxBodyBytes = 1_000 }
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1001\r\n\r\n"
        )
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 413 Content Too Large")
        #expect(response.errorMessage == "request body exceeds the limit of 1000 bytes")
        #expect(client.isClosedByPeer())
    }

    @Test func unknownExpectationIs417() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 4\r\n\r\nping")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 417 Expectation Failed")
        #expect(response.errorCode == "expectation_failed")
        #expect(client.isClosedByPeer())
    }

    @Test func http10IgnoresExpect() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "POST /echo HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nping")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.bodyText == "ping")
    }
}
