import Foundation
import Testing

@testable import HTTPServer

/// Headers, targets, responses and status phrases, without sockets.
struct ValueTypeTests {
    @Test func headersKeepOrderAndCompareNamesWithoutCase() {
        var headers: HTTPHeaders = ["Accept": "a", "X-Id": "1"]
        headers.add("accept", "b")

        #expect(headers["ACCEPT"] == "a")
        #expect(headers.values("Accept") == ["a", "b"])
        headers.set("Accept", "c")
        #expect(headers.map { "\($0.name)=\($0.value)" } == ["Accept=c", "X-Id=1"])
        headers.remove("x-id")
        #expect(headers.count == 1)
        #expect(headers["X-Id"] == nil)
    }

    @Test func headerTokensSplitCommaLists() {
        let headers = HTTPHeaders([
            ("Connection", "Keep-Alive, Upgrade"), ("connection", " close ,"),
        ])

        #expect(headers.tokens("Connection") == ["keep-alive", "upgrade", "close"])
    }

    @Test func targetIsSplitAndDecoded() throws {
        let target = try RequestTarget(parsing: "/a%2Fb/c+d?q=x+y&e=%C3%A9&q=last&empty=&flag")

        #expect(target.path == "/a/b/c+d")
        #expect(target.segments == ["a/b", "c+d"])
        #expect(target.query == ["q": "last", "e": "é", "empty": "", "flag": ""])
        #expect(target.repeatedQueryNames == ["q"])
        #expect(try RequestTarget(parsing: "/a?x=1&y=2").repeatedQueryNames.isEmpty)
        #expect(try RequestTarget(parsing: "/a?b=1&a=1&b=2&a=2&b=3").repeatedQueryNames == ["b", "a"])
    }

    @Test func absoluteFormTargetDropsTheAuthority() throws {
        #expect(
            try RequestTarget(parsing: "http://example.com:8080/v1/jobs?x=1").path == "/v1/jobs")
        #expect(try RequestTarget(parsing: "HTTP://example.com").path == "/")
        #expect(try RequestTarget(parsing: "http://example.com?x=1").query == ["x": "1"])
    }

    @Test func badTargetsAreRejected() {
        for target in ["/a%2", "/a%zz", "/a%FF", "relative", "/a#frag", "/q?x=%"] {
            #expect(throws: HTTPParseError.self, "\(target)") {
                _ = try RequestTarget(parsing: target)
            }
        }
    }

    @Test func errorBodyIsExactAndEscaped() {
        let response = HTTPResponse.error(
            status: 422, code: "bad_config", message: "field \"lr\" \\ <0\n\u{01}")

        guard case .bytes(let body) = response.body else {
            Issue.record("expected a bytes body")
            return
        }
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"error":{"code":"bad_config","message":"field \"lr\" \\ <0\n\u0001"}}"#)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(response.status == 422)
    }

    @Test func jsonResponseAcceptsData() {
        let response = HTTPResponse.json(201, Data("{}".utf8), headers: ["Location": "/v1/jobs/1"])

        #expect(response.headers["Location"] == "/v1/jobs/1")
        #expect(response.headers["Content-Type"] == "application/json")
    }

    @Test func requestInitDerivesPathAndQuery() {
        let request = HTTPRequest(method: "GET", target: "/v1/jobs/a%20b?limit=5")

        #expect(request.path == "/v1/jobs/a b")
        #expect(request.query == ["limit": "5"])
        #expect(request.version == "HTTP/1.1")
    }

    @Test func responseHeadHasDateServerAndFraming() {
        let head = String(
            decoding: ResponseSerializer.head(
                status: 200, headers: ["X-A": "1\r\nInjected: yes", "Content-Length": "99"],
                framing: .length(3), closes: true), as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")

        #expect(lines[0] == "HTTP/1.1 200 OK")
        #expect(lines[1].hasPrefix("Date: ") && lines[1].hasSuffix(" GMT"))
        #expect(lines[2] == "Server: saed")
        #expect(lines[3] == "X-A: 1 Injected: yes")
        #expect(lines[4] == "Content-Length: 3")
        #expect(lines[5] == "Connection: close")
        #expect(head.hasSuffix("\r\n\r\n"))
    }

    @Test func reasonPhrasesCoverTheServersOwnStatuses() {
        let expected = [
            400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 408: "Request Timeout",
            413: "Content Too Large", 414: "URI Too Long", 417: "Expectation Failed",
            431: "Request Header Fields Too Large", 501: "Not Implemented",
            503: "Service Unavailable", 505: "HTTP Version Not Supported", 299: "Success",
        ]
        for (status, phrase) in expected {
            #expect(HTTPStatus.reasonPhrase(for: status) == phrase)
        }
    }
}
