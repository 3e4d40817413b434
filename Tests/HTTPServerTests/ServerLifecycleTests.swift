import Foundation
import Testing

@testable import HTTPServer

/// Live tests of `start()` and `shutdown(graceSeconds:)`.
struct ServerLifecycleTests {
    @Test func startOnABusyPortThrowsAddressInUse() throws {
        let server = try TestServer()
        defer { server.stop() }
        var configuration = ServerConfiguration()
        configuration.port = server.port
        let second = HTTPServer(configuration: configuration, router: Router())

        #expect {
            try second.start()
        } throws: { error in
            let error = error as? HTTPServerError
            return error?.isAddressInUse == true
                && error?.description
                    == "cannot listen on 127.0.0.1:\(server.port): address already in use"
        }
    }

    @Test func startTwiceThrows() throws {
        let server = try TestServer()
        defer { server.stop() }

        #expect(throws: HTTPServerError.self) { try server.server.start() }
    }

    @Test func ephemeralPortIsReported() throws {
        let server = try TestServer()
        defer { server.stop() }

        #expect(server.port > 0)
    }

    @Test func shutdownLetsAnInFlightRequestFinish() throws {
        let server = try TestServer()
        let client = try server.client()
        try client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(50_000)

        server.stop(graceSeconds: 2)
        let response = try client.readResponse()

        #expect(response.bodyText == "slow")
        #expect(response.header("Connection") == "close")
        #expect(throws: (any Error).self) { _ = try server.client() }
    }

    @Test func shutdownClosesIdleConnectionsPromptly() throws {
        let server = try TestServer()
        let client = try server.client()
        try client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = try client.readResponse()

        let started = Date()
        server.stop(graceSeconds: 2)

        #expect(Date().timeIntervalSince(started) < 0.3)
        #expect(client.isClosedByPeer())
    }

    @Test func shutdownReturnsWithinTheGracePeriodDespiteAStuckHandler() throws {
        let router = Router()
        router.add("GET", "/stuck") { _ in
            usleep(1_500_000)
            return HTTPResponse(status: 200)
        }
        var configuration = ServerConfiguration()
        configuration.port = 0
        let server = HTTPServer(configuration: configuration, router: router)
        try server.start()
        let client = try RawClient(port: server.port)
        try client.send("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(50_000)

        let started = Date()
        server.shutdown(graceSeconds: 0.3)

        #expect(Date().timeIntervalSince(started) < 0.4)
        #expect(client.isClosedByPeer())
    }
}
