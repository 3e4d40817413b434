import Testing

@testable import HTTPServer

/// The request decoder on raw bytes, without sockets.
struct RequestDecoderTests {
    private let limits = RequestLimits(maxTargetLength: 64, maxHeaderBytes: 128, maxBodyBytes: 32)

    /// Feeds `input` in pieces of `pieceSize` bytes, starting each body at once, and collects
    /// every event.
    private func decode(_ input: String, pieceSize: Int = .max) throws(HTTPParseError)
        -> [RequestDecoder.Event]
    {
        var decoder = RequestDecoder(limits: self.limits)
        var events: [RequestDecoder.Event] = []
        let bytes = Array(input.utf8)
        var offset = 0
        repeat {
            let end = offset + min(pieceSize, bytes.count - offset)
            decoder.append(bytes[offset..<end])
            offset = end
            while let event = try decoder.next() {
                events.append(event)
                if case .head = event { try decoder.startBody() }
            }
        } while offset < bytes.count
        return events
    }

    private func heads(_ events: [RequestDecoder.Event]) -> [RequestHead] {
        events.compactMap { if case .head(let head, _) = $0 { head } else { nil } }
    }

    private func bodies(_ events: [RequestDecoder.Event]) -> [String] {
        events.compactMap {
            if case .body(let body) = $0 { String(decoding: body, as: UTF8.self) } else { nil }
        }
    }

    @Test func simpleRequestDecodesInOneRead() throws {
        let events = try self.decode("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Two:  two words \r\n\r\n")

        let head = try #require(self.heads(events).first)
        #expect(head.method == "GET")
        #expect(head.target == "/a?b=1")
        #expect(head.version == .http1_1)
        #expect(head.headers["x-two"] == "two words")
        #expect(self.bodies(events) == [""])
    }

    @Test func everySplitPointGivesTheSameResult() throws {
        let input =
            "POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            + "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n1\r\nc\r\n0\r\nT: 1\r\n\r\n"
        let whole = try self.decode(input)
        for pieceSize in 1...9 {
            #expect(
                try self.decode(input, pieceSize: pieceSize) == whole, "piece size \(pieceSize)")
        }
        #expect(self.bodies(whole) == ["hello", "abc"])
        #expect(self.heads(whole).map(\.target) == ["/e", "/c"])
    }

    @Test func leadingEmptyLinesAreSkipped() throws {
        let events = try self.decode("\r\n\nGET / HTTP/1.0\r\n\r\n")

        #expect(self.heads(events).first?.version == .http1_0)
    }

    @Test func bareLineFeedsAreAccepted() throws {
        let events = try self.decode("GET / HTTP/1.1\nHost: x\n\n")

        #expect(self.heads(events).first?.headers["Host"] == "x")
    }

    @Test func oversizedTargetIs414BeforeTheLineEnds() {
        #expect(throws: HTTPParseError.targetTooLong(limit: 64)) {
            _ = try self.decode("GET /" + String(repeating: "a", count: 200))
        }
    }

    @Test func oversizedHeaderSectionIs431BeforeItEnds() {
        #expect(throws: HTTPParseError.headersTooLarge(limit: 128)) {
            _ = try self.decode("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200))
        }
    }

    @Test func bodyLengthOverTheLimitIs413FromTheHeadAlone() {
        #expect(throws: HTTPParseError.bodyTooLarge(limit: 32)) {
            _ = try self.decode(
                "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n")
        }
    }

    @Test func repeatedEqualContentLengthsAreAccepted() throws {
        let events = try self.decode(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok")

        #expect(self.bodies(events) == ["ok"])
    }

    @Test func chunkedTrailersOverTheLimitAre431() {
        let trailer = "X: " + String(repeating: "t", count: 200) + "\r\n"
        #expect(throws: HTTPParseError.headersTooLarge(limit: 128)) {
            _ = try self.decode(
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailer
                    + "\r\n")
        }
    }

    @Test func chunkDataMustEndWithCRLF() {
        #expect(throws: HTTPParseError.badRequest("chunk data not followed by CRLF")) {
            _ = try self.decode(
                "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"
            )
        }
    }

    @Test func headWaitsForStartBodyBeforeReadingTheBody() throws {
        var decoder = RequestDecoder(limits: self.limits)
        decoder.append(Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok".utf8))

        guard case .head(_, .length(2))? = try decoder.next() else {
            Issue.record("expected a head with length 2")
            return
        }
        #expect(try decoder.next() == nil)
        try decoder.startBody()
        #expect(try decoder.next() == .body(Array("ok".utf8)))
        #expect(decoder.isIdle)
    }

    @Test func decoderIsSpentAfterAnError() throws {
        var decoder = RequestDecoder(limits: self.limits)
        decoder.append(
            Array("GET / HTTP/1.1\r\nBad Name: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))

        #expect(throws: HTTPParseError.self) { _ = try decoder.next() }
        #expect(try decoder.next() == nil)
    }
}
