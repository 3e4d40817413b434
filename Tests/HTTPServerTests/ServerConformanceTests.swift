import Foundation
import Testing

@testable import HTTPServer

/// Live tests of rules the basic suites leave out: per-route body limits, HEAD on errors,
/// `Expect` with larger routes, and a response the client never reads.
struct ServerConformanceTests {
    @Test func uploadRouteAcceptsMoreThanTheServerLimit() throws {
        let server = try TestServer { $0.maxBodyBytes = 1_024 }
        defer { server.stop() }
        let client = try server.client()
        let body = String(repeating: "u", count: 3_000)

        try client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n" + body)
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.bodyText == "3000")
        #expect(!client.isClosedByPeer(within: 0.2))
    }

    @Test func uploadRouteLimitIsNamedInIts413() throws {
        let server = try TestServer { $0.maxBodyBytes = 1_024 }
        defer { server.stop() }
        let client = try server.client()

        try client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 413 Content Too Large")
        #expect(response.errorMessage == "request body exceeds the limit of 4096 bytes")
        #expect(response.header("Connection") == "close")
        #expect(client.isClosedByPeer())
    }

    @Test func chunkedUploadOverTheRouteLimitIs413() throws {
        let server = try TestServer { $0.maxBodyBytes = 1_024 }
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1001\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 413 Content Too Large")
        #expect(response.errorMessage == "request body exceeds the limit of 4096 bytes")
        #expect(client.isClosedByPeer())
    }

    @Test func expectOnAnUploadRouteWithinItsLimitGets100() throws {
        let server = try TestServer { $0.maxBodyBytes = 1_024 }
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "POST /upload HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2000\r\n\r\n")
        #expect(try client.readResponse().statusLine == "HTTP/1.1 100 Continue")
        try client.send(String(repeating: "e", count: 2_000))

        let response = try client.readResponse()
        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.bodyText == "2000")
    }

    @Test func expectWithChunkedBodyGets100BeforeTheChunks() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n")
        #expect(try client.readResponse().statusLine == "HTTP/1.1 100 Continue")
        try client.send("4\r\nping\r\n0\r\n\r\n")

        #expect(try client.readResponse().bodyText == "ping")
        #expect(!client.isClosedByPeer(within: 0.2))
    }

    @Test func headOnAnUnknownPathHasNoBodyAndKeepsTheConnection() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try client.readResponse(isHead: true)
        #expect(head.statusLine == "HTTP/1.1 404 Not Found")
        #expect(Int(head.header("Content-Length") ?? "") ?? 0 > 0)

        // Had a body followed, it would be read as the next status line.
        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().statusLine == "HTTP/1.1 200 OK")
    }

    @Test func headRefusedByTheLoopHasNoBody() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("HEAD /files/%zz HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try client.readResponse(isHead: true)

        #expect(head.statusLine == "HTTP/1.1 400 Bad Request")
        #expect(client.isClosedByPeer())
    }

    @Test func emptyLinesBeforeARequestAreIgnored() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")

        #expect(try client.readResponse().statusLine == "HTTP/1.1 200 OK")
    }

    @Test func absoluteFormTargetIsRouted() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET http://x/hello HTTP/1.1\r\nHost: x\r\n\r\n")

        #expect(try client.readResponse().bodyText == "hello")
    }

    @Test func clientThatNeverReadsALargeResponseIsDropped() throws {
        let server = try TestServer { $0.writeTimeoutSeconds = 0.3 }
        defer { server.stop() }
        let stuck = try server.client()
        try stuck.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")

        // The worker gives up after the write timeout; meanwhile others are served.
        let other = try server.client()
        try other.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try other.readResponse().status == 200)
        usleep(800_000)

        // The stuck client gets at most what the buffers held, then the end of the connection.
        #expect(throws: (any Error).self) { _ = try stuck.readResponse() }
    }
}
