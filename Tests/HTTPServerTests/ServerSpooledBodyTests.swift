import Foundation
import Glibc
import Testing

@testable import HTTPServer

/// Live tests of routes that spool their bodies to disk (`Router.add(spoolsBody:)`), and of
/// per-request event-loop placement (`runsOnEventLoopWhen:`).
struct ServerSpooledBodyTests {
    /// `count` bytes of a fixed pseudo-random pattern.
    static func pattern(_ count: Int) -> [UInt8] {
        var state: UInt32 = 2_463_534_242
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 17
            state ^= state << 5
            return UInt8(truncatingIfNeeded: state)
        }
    }

    @Test func bodySplitOverManyReadsIsSpooledWholeAndRemovedAfterwards() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()
        // 1 MiB, more than one 64 KiB read: the file is written piece by piece.
        let body = Self.pattern(1 << 20)

        try client.send("POST /spool HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n")
        for start in stride(from: 0, to: body.count, by: 100_000) {
            try client.send(Array(body[start..<min(start + 100_000, body.count)]))
            usleep(2_000)
        }
        let response = try client.readResponse()

        #expect(response.status == 200)
        #expect(response.body == body)
        #expect(response.header("X-Memory-Body") == "0")
        #expect(response.header("X-Byte-Count") == "\(body.count)")
        #expect(response.header("X-Spool-Directory") == "true")
        // Nobody moved the file, so it goes with the request.
        #expect(Probe(0).wait(seconds: 2) { _ in server.spooledFiles.isEmpty })
    }

    @Test func bodyArrivingOneByteAtATimeIsSpooledWhole() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.sendByteByByte(
            "POST /spool HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world", delaySeconds: 0.001)
        let response = try client.readResponse()

        #expect(response.bodyText == "hello world")
        #expect(response.header("X-Byte-Count") == "11")
    }

    @Test func chunkedBodyIsSpooledDecoded() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("POST /spool HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for chunk in ["5;ext=1\r\nhello\r\n", "1\r\n \r\n", "5\r\nworld\r\n", "0\r\nX-Trailer: t\r\n\r\n"] {
            try client.send(chunk)
            usleep(5_000)
        }
        let response = try client.readResponse()

        #expect(response.status == 200)
        #expect(response.bodyText == "hello world")
        #expect(response.header("X-Byte-Count") == "11")
        // The connection stays usable for the next request.
        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try client.readResponse().bodyText == "hello")
    }

    @Test func declaredLengthOverTheLimitIs413NamingItAndSpoolsNothing() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("POST /spool HTTP/1.1\r\nHost: x\r\nContent-Length: \(TestServer.spoolLimit + 1)\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 413 Content Too Large")
        #expect(response.errorMessage == "request body exceeds the limit of \(TestServer.spoolLimit) bytes")
        #expect(client.isClosedByPeer())
        #expect(server.spooledFiles.isEmpty)
    }

    @Test func chunkedBodyGrowingOverTheLimitIs413AndItsFileIsRemoved() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()
        let piece = Self.pattern(1 << 20)

        try client.send("POST /spool HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        // Four 1 MiB chunks fit the 4 MiB limit exactly; the fifth goes over it.
        for _ in 0..<5 {
            guard (try? client.send(Array("100000\r\n".utf8) + piece + Array("\r\n".utf8))) != nil else { break }
        }
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 413 Content Too Large")
        #expect(response.errorMessage == "request body exceeds the limit of \(TestServer.spoolLimit) bytes")
        #expect(Probe(0).wait(seconds: 2) { _ in server.spooledFiles.isEmpty })
    }

    @Test func clientLeavingMidBodyLeavesNoFile() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("POST /spool HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        try client.send(Self.pattern(300_000))
        // The part received so far is on disk, not in memory.
        #expect(Probe(0).wait(seconds: 2) { _ in server.spooledFiles.count == 1 })
        client.close()

        #expect(Probe(0).wait(seconds: 2) { _ in server.spooledFiles.isEmpty })
    }

    @Test func bodyTimeoutMidSpoolIs408AndLeavesNoFile() throws {
        let server = try TestServer { $0.bodyTimeoutSeconds = 0.3 }
        defer { server.stop() }
        let client = try server.client()

        try client.send("POST /spool HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a part")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 408 Request Timeout")
        #expect(Probe(0).wait(seconds: 2) { _ in server.spooledFiles.isEmpty })
    }

    @Test func missingSpoolDirectoryIs503AndTheConnectionCloses() throws {
        let server = try TestServer { $0.spoolDirectory = "/nonexistent/saed-spool" }
        defer { server.stop() }
        let client = try server.client()

        try client.send("POST /spool HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 503 Service Unavailable")
        #expect(response.errorCode == "body_not_stored")
        #expect(client.isClosedByPeer())
    }

    @Test func conditionChoosesTheEventLoopPerRequest() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /loop-thread HTTP/1.1\r\nHost: x\r\n\r\n")
        let loop = try client.readResponse().bodyText
        try client.send("GET /loop-if-small?small HTTP/1.1\r\nHost: x\r\n\r\n")
        let small = try client.readResponse().bodyText
        try client.send("GET /loop-if-small HTTP/1.1\r\nHost: x\r\n\r\n")
        let large = try client.readResponse().bodyText

        #expect(!loop.isEmpty)
        #expect(small == loop)
        #expect(large != loop)
    }
}
