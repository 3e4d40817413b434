import Glibc

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
        var text = "HTTP/1.1 \(status) \(HTTPStatus.reasonPhrase(for: status))\r\n"
        text += "Date: \(Self.imfFixdate())\r\n"
        if !headers.contains("Server") { text += "Server: saed\r\n" }
        for (name, value) in headers where Self.isSendable(name) {
            text += "\(name): \(Self.sanitized(value))\r\n"
        }
        switch framing {
        case .length(let count): text += "Content-Length: \(count)\r\n"
        case .chunked: text += "Transfer-Encoding: chunked\r\n"
        case .none: break
        }
        if closes {
            text += "Connection: close\r\n"
        } else if announcesKeepAlive {
            text += "Connection: keep-alive\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// A complete response with a `.bytes` body (a stream counts as empty).
    static func complete(_ response: HTTPResponse, closes: Bool) -> [UInt8] {
        guard case .bytes(let body) = response.body else {
            return Self.head(
                status: response.status, headers: response.headers, framing: .length(0),
                closes: closes)
        }
        return Self.head(
            status: response.status, headers: response.headers, framing: .length(body.count),
            closes: closes) + body
    }

    /// The current time as an IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func imfFixdate() -> String {
        var now = time(nil)
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

    /// `value` with CR, LF and NUL replaced by spaces, so it cannot split the response.
    private static func sanitized(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == Byte.cr || $0 == Byte.lf || $0 == 0 }) else {
            return value
        }
        return String(
            value.map { $0 == "\r" || $0 == "\n" || $0 == "\0" || $0 == "\r\n" ? " " : $0 })
    }
}
