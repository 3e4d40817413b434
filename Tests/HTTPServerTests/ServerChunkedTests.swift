import Testing

@testable import HTTPServer

/// Live tests of chunked request bodies.
struct ServerChunkedTests {
    @Test func chunkedBodyWithExtensionsAndTrailersIsDecoded() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n1 ; x\r\n \r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.bodyText == "hello 0123456789")
        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().bodyText == "hello")
    }

    @Test func chunkedBodySentOneByteAtATimeIsDecoded() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.sendByteByByte(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", delaySeconds: 0)

        #expect(try client.readResponse().bodyText == "abcde")
    }

    @Test func chunkedBodyOverTheLimitIs413() throws {
        let server = try TestServer { $0.maxBodyBytes = 8 }
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 413 Content Too Large")
        #expect(response.errorMessage == "request body exceeds the limit of 8 bytes")
        #expect(client.isClosedByPeer())
    }

    @Test func malformedChunkSizeIs400() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
        )
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 400 Bad Request")
        #expect(response.errorCode == "bad_request")
        #expect(client.isClosedByPeer())
    }
}
