import Foundation
import Glibc
import Testing

@testable import HTTPServer

/// Live tests of heartbeats on idle streams, of a drain that lets producers say goodbye, and
/// of handlers that block.
struct ServerDrainAndHeartbeatTests {
    @Test func idleStreamGetsHeartbeats() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /beats HTTP/1.1\r\nHost: x\r\n\r\n")
        let frame = "6\r\n: hb\n\n\r\n"
        var text = ""
        let deadline = Date().addingTimeInterval(3)
        while text.components(separatedBy: frame).count < 4 && Date() < deadline {
            var byte: UInt8 = 0
            guard recv(client.descriptor, &byte, 1, 0) == 1 else { break }
            text.unicodeScalars.append(Unicode.Scalar(byte))
        }

        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("5\r\nstart\r\n"))
        // Each heartbeat is a chunk of its own: size line, the comment, CRLF.
        #expect(text.components(separatedBy: frame).count >= 4)
    }

    @Test func heartbeatsStopWithTheStream() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()
        try client.send("GET /beats HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try client.readResponse(isHead: true)

        client.close()

        let registry = server.server.heartbeatRegistryForTests
        #expect(Probe(0).wait(seconds: 2) { _ in registry?.isEmpty == true })
    }

    @Test func drainLetsAStreamWriteItsFinalEvent() throws {
        let server = try TestServer()
        let client = try server.client()
        try client.send("GET /farewell HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try client.readUntilFirstChunk()

        let started = Date()
        server.stop(graceSeconds: 2)
        // The rest of the body: the final event, then the zero-size chunk.
        var rest = ""
        while !rest.hasSuffix("0\r\n\r\n") {
            var byte: UInt8 = 0
            guard recv(client.descriptor, &byte, 1, 0) == 1 else { break }
            rest.unicodeScalars.append(Unicode.Scalar(byte))
        }

        #expect(rest == "3\r\nbye\r\n0\r\n\r\n")
        #expect(server.farewellSawDraining.get())
        #expect(Date().timeIntervalSince(started) < 1.0)
        #expect(client.isClosedByPeer())
    }

    @Test func writerWhoseClientLeftIsClosedButNotDraining() throws {
        let router = Router()
        let seen = Probe<(closed: Bool, draining: Bool, wrote: Bool)?>(nil)
        router.add("GET", "/watch") { _ in
            HTTPResponse(
                status: 200,
                body: .stream { writer in
                    writer.write(Array("first".utf8))
                    for _ in 0..<500 where !writer.isClosed { usleep(10_000) }
                    seen.set((writer.isClosed, writer.isDraining, writer.write([1])))
                })
        }
        var configuration = ServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, router: router)
        try server.start()
        defer { server.shutdown(graceSeconds: 1) }
        let client = try RawClient(port: server.port)

        try client.send("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try client.readUntilFirstChunk()
        client.close()

        #expect(seen.wait(seconds: 3) { $0 != nil })
        let outcome = try #require(seen.get())
        #expect(outcome.closed && !outcome.draining && !outcome.wrote)
    }

    @Test func manyBlockedHandlersDoNotStallANewRequest() throws {
        let server = try TestServer()
        defer {
            server.release()
            server.stop()
        }
        var blocked: [RawClient] = []
        for _ in 0..<24 {
            let client = try server.client()
            try client.send("GET /block HTTP/1.1\r\nHost: x\r\n\r\n")
            blocked.append(client)
        }
        usleep(100_000)

        let started = Date()
        let fresh = try server.client()
        try fresh.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try fresh.readResponse().bodyText == "hello")
        #expect(Date().timeIntervalSince(started) < 0.25)

        server.release()
        for client in blocked {
            #expect(try client.readResponse().bodyText == "released")
        }
    }
}

extension HTTPServer {
    /// The running server's heartbeat registry, or nil when it is not running.
    var heartbeatRegistryForTests: HeartbeatRegistry? { self.runningCore?.heartbeats }
}
