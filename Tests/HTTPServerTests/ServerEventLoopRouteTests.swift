import Foundation
import Testing

@testable import HTTPServer

/// Live tests of routes whose handlers run on the event loop (`runsOnEventLoop`).
struct ServerEventLoopRouteTests {
    @Test func loopRouteAnswersAndKeepsTheConnection() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        for _ in 0..<3 {
            try client.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try client.readResponse()
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            #expect(response.bodyText == "pong")
            #expect(response.header("Date") != nil)
        }
        #expect(!client.isClosedByPeer(within: 0.2))
    }

    @Test func busyRoundSharesLoopRequestsWithTheHelperThread() throws {
        let server = try TestServer()
        defer { server.stop() }
        let first = try server.client()
        try first.send("GET /loop-thread HTTP/1.1\r\nHost: x\r\n\r\n")
        let loop = try first.readResponse().bodyText
        let clients = try (0..<8).map { _ in try server.client() }
        usleep(20_000)

        // The loop sleeps in a handler while eight requests arrive: its next round finds them
        // all ready and hands two in three to the helper.
        try first.send("GET /loop-sleep HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(20_000)
        for client in clients { try client.send("GET /loop-thread HTTP/1.1\r\nHost: x\r\n\r\n") }
        #expect(try first.readResponse().bodyText == loop)
        var threads: [String] = []
        for client in clients {
            let response = try client.readResponse()
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            threads.append(response.bodyText)
        }
        // Some on the loop, the others on the one helper thread.
        #expect(threads.contains(loop), "\(threads)")
        #expect(Set(threads).count == 2, "\(threads)")

        // Connections the helper answered are kept and serve their next request.
        for client in clients {
            try client.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try client.readResponse().bodyText == "pong")
        }
    }

    @Test func pipelinedLoopAndWorkerRequestsAreAnsweredInOrder() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "GET /ping HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /ping HTTP/1.1\r\nHost: x\r\n\r\nHEAD /ping HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")

        #expect(try client.readResponse().bodyText == "pong")
        #expect(try client.readResponse().bodyText == "slow")
        #expect(try client.readResponse().bodyText == "pong")
        let head = try client.readResponse(isHead: true)
        #expect(head.header("Content-Length") == "4")
        #expect(try client.readResponse().bodyText == "hello")
    }

    @Test func largeLoopResponseIsFlushedWithoutBlockingOthers() throws {
        let server = try TestServer()
        defer { server.stop() }
        let slowReader = try server.client()
        try slowReader.send("GET /loop-big HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(100_000)

        // The loop is not stuck writing 8 MiB to a client that reads nothing yet.
        let other = try server.client()
        try other.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try other.readResponse().bodyText == "pong")

        let big = try slowReader.readResponse()
        #expect(big.body.count == 8 << 20)
        try slowReader.send("GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try slowReader.readResponse().bodyText == "pong")
    }

    @Test func streamFromALoopRouteRunsOnAWorker() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /loop-stream HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.chunks.map { String(decoding: $0, as: UTF8.self) } == ["a", "b"])
        #expect(client.isClosedByPeer())
    }

    @Test func loopRouteWithConnectionCloseCloses() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send("GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.header("Connection") == "close")
        #expect(client.isClosedByPeer())
    }
}
