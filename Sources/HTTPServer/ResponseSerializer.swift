import Glibc
import Synchronization

/// Builds the bytes of response heads.
enum ResponseSerializer {
    /// How a response's content is delimited on the wire.
    enum Framing {
        /// `Content-Length: n` (also sent for HEAD, with no content following).
        case length(Int)
        /// `Transfer-Encoding: chunked`.
        case chunked
        /// No framing header: the content ends when the connection closes (HTTP/1.0 streams),
        /// or the status forbids content.
        case none
    }

    /// Headers the server always writes itself; a handler's values for them are dropped.
    private static let managedHeaders = [
        "Content-Length", "Transfer-Encoding", "Connection",
        "Date", "Keep-Alive",
    ]

    /// The status line and header section, ending with the empty line.
    ///
    /// - Parameters:
    ///   - closes: adds `Connection: close`.
    ///   - announcesKeepAlive: adds `Connection: keep-alive` (for HTTP/1.0 clients that asked).
    static func head(
        status: Int, headers: HTTPHeaders, framing: Framing, closes: Bool,
        announcesKeepAlive: Bool = false
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160)
        bytes.append(contentsOf: "HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(for: status))\r\n".utf8)
        bytes.append(contentsOf: Self.dateField())
        if !headers.contains("Server") { bytes.append(contentsOf: "Server: saed\r\n".utf8) }
        for (name, value) in headers where Self.isSendable(name) {
            bytes.append(contentsOf: name.utf8)
            bytes.append(contentsOf: ": ".utf8)
            Self.appendSanitized(value, to: &bytes)
            bytes.append(contentsOf: "\r\n".utf8)
        }
        switch framing {
        case .length(let count): bytes.append(contentsOf: "Content-Length: \(count)\r\n".utf8)
        case .chunked: bytes.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        case .none: break
        }
        if closes {
            bytes.append(contentsOf: "Connection: close\r\n".utf8)
        } else if announcesKeepAlive {
            bytes.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        bytes.append(contentsOf: "\r\n".utf8)
        return bytes
    }

    /// A complete response with a `.bytes` body (a stream counts as empty).
    ///
    /// - Parameter omitsBody: keeps `Content-Length` but leaves the body out (HEAD).
    static func complete(_ response: HTTPResponse, closes: Bool, omitsBody: Bool = false)
        -> [UInt8]
    {
        guard case .bytes(let body) = response.body else {
            return Self.head(
                status: response.status, headers: response.headers, framing: .length(0),
                closes: closes)
        }
        let head = Self.head(
            status: response.status, headers: response.headers, framing: .length(body.count),
            closes: closes)
        return omitsBody ? head : head + body
    }

    /// The `Date` field line for the current second, formatted once per second.
    private static let dateCache = Mutex((second: 0, line: [UInt8]()))

    /// `Date: <IMF-fixdate>\r\n` for now.
    static func dateField() -> [UInt8] {
        let now = time(nil)
        return Self.dateCache.withLock { cache in
            if cache.second != now {
                cache = (second: now, line: Array("Date: \(Self.imfFixdate(now))\r\n".utf8))
            }
            return cache.line
        }
    }

    /// The current time as an IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func imfFixdate(_ seconds: Int = time(nil)) -> String {
        var now = seconds
        var parts = tm()
        gmtime_r(&now, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
            "Dec",
        ]
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(twoDigits(parts.tm_mday)) "
            + "\(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) \(twoDigits(parts.tm_hour)):"
            + "\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT"
    }

    /// Whether a handler's header may be written: a valid token the server does not manage.
    private static func isSendable(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(Byte.isTokenCharacter)
            && !Self.managedHeaders.contains { $0.equalsIgnoringASCIICase(name) }
    }

    /// Appends `value` with each CR, LF, CRLF and NUL replaced by one space, so it cannot
    /// split the response.
    private static func appendSanitized(_ value: String, to bytes: inout [UInt8]) {
        var previous: UInt8 = 0
        for byte in value.utf8 {
            if byte == Byte.lf && previous == Byte.cr {
                previous = byte
                continue
            }
            bytes.append(byte == Byte.cr || byte == Byte.lf || byte == 0 ? Byte.space : byte)
            previous = byte
        }
    }
}
