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
        #expect(
            response.chunks.map { String(decoding: $0, as: UTF8.self) } == ["one", "two", "three"])
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

/// Live tests of a stream whose client stops reading or leaves while the producer writes.
struct ServerStreamWriteTests {
    /// A server whose `/flood` route writes 64 KiB chunks until `write` fails (at most 4,000),
    /// recording how many writes succeeded and whether one failed.
    private func floodServer(
        writeTimeoutSeconds: Double
    ) throws -> (HTTPServer, Probe<(writes: Int, failed: Bool)>) {
        let outcome = Probe((writes: 0, failed: false))
        let router = Router()
        router.add("GET", "/flood") { _ in
            HTTPResponse(
                status: 200,
                body: .stream { writer in
                    let chunk = [UInt8](repeating: UInt8(ascii: "f"), count: 65_536)
                    var writes = 0
                    for _ in 0..<4_000 {
                        guard writer.write(chunk) else {
                            outcome.set((writes, true))
                            return
                        }
                        writes += 1
                    }
                    outcome.set((writes, false))
                })
        }
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.writeTimeoutSeconds = writeTimeoutSeconds
        let server = HTTPServer(configuration: configuration, router: router)
        try server.start()
        return (server, outcome)
    }

    @Test func clientThatStopsReadingTimesTheWriterOut() throws {
        let (server, outcome) = try self.floodServer(writeTimeoutSeconds: 0.3)
        defer { server.shutdown(graceSeconds: 1) }
        let client = try RawClient(port: server.port)

        try client.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")

        #expect(outcome.wait(seconds: 5) { $0.failed })
        #expect(outcome.get().writes < 4_000)
    }

    @Test func writingAfterTheClientLeftFailsWithoutSIGPIPE() throws {
        let (server, outcome) = try self.floodServer(writeTimeoutSeconds: 5)
        defer { server.shutdown(graceSeconds: 1) }
        let client = try RawClient(port: server.port)

        try client.send("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try client.readResponse(isHead: true)
        client.close()

        // Reaching this point at all means the write to a closed socket raised no SIGPIPE.
        #expect(outcome.wait(seconds: 5) { $0.failed })
    }

    @Test func halfClosedClientStillGetsItsResponse() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        client.shutdownWrite()

        #expect(try client.readResponse().bodyText == "slow")
        #expect(client.isClosedByPeer())
    }
}
