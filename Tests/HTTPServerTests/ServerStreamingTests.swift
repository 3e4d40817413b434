import Foundation
import Testing

@testable import HTTPServer

/// Live tests of streamed (`HTTPBody.stream`) responses.
struct ServerStreamingTests {
    @Test func streamSendsEachWriteAsOneChunk() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 200 OK")
        #expect(response.header("Transfer-Encoding") == "chunked")
        #expect(response.header("Content-Length") == nil)
        #expect(response.header("Content-Type") == "text/event-stream")
        #expect(response.chunks.map { String(decoding: $0, as: UTF8.self) } == ["one", "two", "three"])
        #expect(client.isClosedByPeer())
    }

    @Test func producerNoticesClientDisconnectWithinASecond() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /follow HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try client.readUntilFirstChunk()
        client.close()
        let closedAt = Date().timeIntervalSince1970

        #expect(server.followClosedAt.wait(seconds: 3) { $0 > 0 })
        #expect(server.followClosedAt.get() - closedAt < 1.0)
        #expect(server.followReturned.wait(seconds: 1) { $0 })
    }

    @Test func shutdownClosesStreamsSoProducersEnd() throws {
        let server = try TestServer()
        let client = try server.client()
        try client.send("GET /follow HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try client.readUntilFirstChunk()

        let started = Date()
        server.stop(graceSeconds: 2)

        #expect(Date().timeIntervalSince(started) < 1.0)
        #expect(server.followReturned.get())
    }

    @Test func headOnAStreamSendsHeadersOnly() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        let head = try client.readResponse(isHead: true)
        #expect(head.statusLine == "HTTP/1.1 200 OK")
        #expect(head.header("Transfer-Encoding") == "chunked")

        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().bodyText == "hello")
    }

    @Test func http10StreamIsDelimitedByClose() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /stream HTTP/1.0\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.header("Transfer-Encoding") == nil)
        #expect(response.bodyText == "onetwothree")
    }
}

extension RawClient {
    /// Reads the head of a chunked response and its first chunk.
    func readUntilFirstChunk() throws -> String {
        var text = ""
        while !text.contains("first\r\n") {
            var byte: UInt8 = 0
            guard recv(self.descriptor, &byte, 1, 0) == 1 else {
                throw Failure(description: "connection ended before the first chunk")
            }
            text.unicodeScalars.append(Unicode.Scalar(byte))
        }
        return text
    }
}
