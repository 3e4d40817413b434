import Testing

@testable import HTTPServer

/// Live tests of requests the server itself refuses: each gets its exact status line and JSON
/// error code, `Connection: close`, and a closed connection.
struct ServerParseErrorTests {
    /// One malformed request and the answer it must get.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let request: String
        let statusLine: String
        let code: String

        var testDescription: String { self.name }
    }

    static let cases: [Case] = [
        Case(
            name: "malformed request line", request: "GET /hello\r\nHost: x\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "double space in request line",
            request: "GET  /hello HTTP/1.1\r\nHost: x\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "whitespace before colon", request: "GET /hello HTTP/1.1\r\nHost : x\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "obsolete line folding",
            request: "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "bare CR", request: "GET /hello HTTP/1.1\r\nHost: x\rX-A: 1\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "negative Content-Length",
            request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "non-numeric Content-Length",
            request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "differing Content-Length duplicates",
            request:
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "Transfer-Encoding with Content-Length",
            request: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                + "Content-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "unsupported transfer coding",
            request: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            statusLine: "HTTP/1.1 501 Not Implemented", code: "not_implemented"),
        Case(
            name: "missing Host", request: "GET /hello HTTP/1.1\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "repeated Host", request: "GET /hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "invalid Host", request: "GET /hello HTTP/1.1\r\nHost: a b\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "Host with userinfo", request: "GET /hello HTTP/1.1\r\nHost: u@x\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "Transfer-Encoding in HTTP/1.0",
            request: "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "repeated chunked coding",
            request:
                "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "empty Content-Length",
            request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "NUL in a header value",
            request: "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "header without a colon",
            request: "GET /hello HTTP/1.1\r\nHost: x\r\nX-A\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "fragment in the target",
            request: "GET /hello#top HTTP/1.1\r\nHost: x\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
        Case(
            name: "target too long",
            request: "GET /\(String(repeating: "a", count: 300)) HTTP/1.1\r\nHost: x\r\n\r\n",
            statusLine: "HTTP/1.1 414 URI Too Long", code: "uri_too_long"),
        Case(
            name: "header section too large",
            request:
                "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 600))\r\n\r\n",
            statusLine: "HTTP/1.1 431 Request Header Fields Too Large", code: "headers_too_large"),
        Case(
            name: "body too large",
            request: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n",
            statusLine: "HTTP/1.1 413 Content Too Large", code: "content_too_large"),
        Case(
            name: "unknown method", request: "BREW /hello HTTP/1.1\r\nHost: x\r\n\r\n",
            statusLine: "HTTP/1.1 501 Not Implemented", code: "not_implemented"),
        Case(
            name: "unsupported version", request: "GET /hello HTTP/2.0\r\nHost: x\r\n\r\n",
            statusLine: "HTTP/1.1 505 HTTP Version Not Supported",
            code: "http_version_not_supported"),
        Case(
            name: "bad percent-encoding", request: "GET /files/%zz HTTP/1.1\r\nHost: x\r\n\r\n",
            statusLine: "HTTP/1.1 400 Bad Request", code: "bad_request"),
    ]

    @Test(arguments: Self.cases)
    func refusedRequestGetsErrorAndClose(_ testCase: Case) throws {
        let server = try TestServer { configuration in
            configuration.maxTargetLength = 256
            configuration.maxHeaderBytes = 512
            configuration.maxBodyBytes = 1_024
        }
        defer { server.stop() }
        let client = try server.client()

        try client.send(testCase.request)
        let response = try client.readResponse()

        #expect(response.statusLine == testCase.statusLine)
        #expect(response.errorCode == testCase.code)
        #expect(response.header("Connection") == "close")
        #expect(response.header("Content-Type") == "application/json")
        #expect(client.isClosedByPeer())
    }

    @Test func bodyTooLargeMessageNamesTheLimit() throws {
        let server = try TestServer { $0.maxBodyBytes = 1_024 }
        defer { server.stop() }
        let client = try server.client()

        try client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
        let response = try client.readResponse()

        #expect(response.statusLine == "HTTP/1.1 413 Content Too Large")
        #expect(response.errorMessage == "request body exceeds the limit of 1024 bytes")
        #expect(client.isClosedByPeer())
    }

    @Test func errorAfterKeptAliveRequestStillAnswersTheFirst() throws {
        let server = try TestServer()
        defer { server.stop() }
        let client = try server.client()

        try client.send(
            "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost : x\r\n\r\n")

        #expect(try client.readResponse().statusLine == "HTTP/1.1 200 OK")
        #expect(try client.readResponse().statusLine == "HTTP/1.1 400 Bad Request")
        #expect(client.isClosedByPeer())
    }
}
