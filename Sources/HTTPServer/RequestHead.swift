/// The protocol version of a request; only 1.0 and 1.1 get past the parser.
package struct HTTPVersion: Sendable, Equatable, CustomStringConvertible {
    /// The digit before the dot.
    package var major: Int
    /// The digit after the dot.
    package var minor: Int

    /// HTTP/1.0.
    package static let http1_0 = HTTPVersion(major: 1, minor: 0)
    /// HTTP/1.1.
    package static let http1_1 = HTTPVersion(major: 1, minor: 1)

    /// The version as written in a start line, for example `HTTP/1.1`.
    package var description: String { "HTTP/\(self.major).\(self.minor)" }
}

/// How a request's body is delimited (RFC 9112 §6.3).
package enum BodyFraming: Sendable, Equatable {
    /// Exactly this many bytes follow the header section; 0 when no body was declared.
    case length(Int)
    /// The body arrives in chunks and ends with a zero-size chunk and optional trailers.
    case chunked

    /// Whether the body is known to be empty before reading anything.
    package var isEmpty: Bool { self == .length(0) }
}

/// The start line and header section of a request, syntax-checked.
package struct RequestHead: Sendable, Equatable {
    /// The method token, case preserved (methods are case-sensitive).
    package var method: String
    /// The request-target as received.
    package var target: String
    /// The protocol version.
    package var version: HTTPVersion
    /// The header fields in order, values stripped of surrounding whitespace.
    package var headers: HTTPHeaders

    /// Creates a head from parts that are already valid.
    package init(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    package static func == (lhs: RequestHead, rhs: RequestHead) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.version == rhs.version
            && Array(lhs.headers).elementsEqual(Array(rhs.headers)) { $0 == $1 }
    }

    /// Whether the connection may stay open after this request's response (RFC 9112 §9.3).
    ///
    /// HTTP/1.1 persists unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    package var wantsKeepAlive: Bool {
        let options = self.headers.tokens("Connection")
        if options.contains("close") { return false }
        return self.version == .http1_1 || options.contains("keep-alive")
    }
}

/// Byte limits a request must respect.
package struct RequestLimits: Sendable {
    /// The longest request-target accepted; longer gives 414.
    package var maxTargetLength: Int
    /// The longest header section (after the request line) or trailer section; longer gives 431.
    package var maxHeaderBytes: Int
    /// The longest body, counted after de-chunking; longer gives 413.
    package var maxBodyBytes: Int

    /// Creates limits from byte counts; each must be positive.
    package init(maxTargetLength: Int, maxHeaderBytes: Int, maxBodyBytes: Int) {
        self.maxTargetLength = maxTargetLength
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }
}

// MARK: - Framing

extension RequestHead {
    /// Checks `Host` and works out how the body is delimited.
    ///
    /// The declared length is not checked against the body limit here, since a route may allow
    /// more: `RequestDecoder.startBody(maxBodyBytes:)` does that.
    ///
    /// - Throws: `HTTPParseError` 400 for a missing (HTTP/1.1), repeated or malformed `Host`, an
    ///   invalid or inconsistent `Content-Length`, `Transfer-Encoding` together with
    ///   `Content-Length`, in HTTP/1.0, or not ending in `chunked`; 501 for a transfer coding
    ///   other than `chunked`; 413 for a declared length too large to represent.
    package func framing(limits: RequestLimits) throws(HTTPParseError) -> BodyFraming {
        let hosts = self.headers.values("Host")
        if hosts.count > 1 { throw .badRequest("repeated Host header") }
        if hosts.isEmpty && self.version == .http1_1 { throw .badRequest("missing Host header") }
        if let host = hosts.first, !host.utf8.allSatisfy(Self.isHostCharacter) {
            throw .badRequest("invalid Host header")
        }

        if self.headers.contains("Transfer-Encoding") {
            return try self.transferCodingFraming()
        }
        let lengths = self.headers.values("Content-Length")
            .flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingHTTPWhitespace() }
        guard let first = lengths.first else { return .length(0) }
        guard lengths.allSatisfy({ $0 == first }) else {
            throw .badRequest("conflicting Content-Length values")
        }
        guard !first.isEmpty, first.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw .badRequest("invalid Content-Length '\(first)'")
        }
        // Digits only, so a failed conversion can only mean a number too large for Int.
        guard let length = Int(first) else { throw .bodyTooLarge(limit: limits.maxBodyBytes) }
        return .length(length)
    }

    /// Whether `byte` may appear in a `Host` value: `uri-host [ ":" port ]` (RFC 3986 §3.2.2),
    /// that is unreserved, sub-delims, percent-encoding, `:` and the brackets of IPv6 literals.
    private static func isHostCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "-._~!$&'()*+,;=:[]%".utf8.contains(byte)
        }
    }

    private func transferCodingFraming() throws(HTTPParseError) -> BodyFraming {
        if self.headers.contains("Content-Length") {
            throw .badRequest("both Transfer-Encoding and Content-Length present")
        }
        if self.version == .http1_0 {
            throw .badRequest("Transfer-Encoding is not allowed in an HTTP/1.0 request")
        }
        let codings = self.headers.tokens("Transfer-Encoding")
        guard codings.last == "chunked", codings.filter({ $0 == "chunked" }).count == 1 else {
            throw .badRequest("Transfer-Encoding must end with a single 'chunked'")
        }
        if let other = codings.first(where: { $0 != "chunked" }) {
            throw .notImplemented("transfer coding '\(other)' is not supported")
        }
        return .chunked
    }
}
