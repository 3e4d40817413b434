import Foundation

/// The content of a response.
package enum HTTPBody: Sendable {
    /// A complete body, sent with `Content-Length`.
    case bytes([UInt8])
    /// A body produced over time and sent with `Transfer-Encoding: chunked`.
    ///
    /// The closure runs on a worker thread of its own and may block for minutes (following a
    /// training job, say). Each `ResponseWriter.write` becomes one chunk, flushed at once; when
    /// the closure returns the server ends the chunked body and closes the connection. The
    /// closure should return soon after `write` returns false or `isClosed` turns true (after a
    /// final event when `isDraining`). For a HEAD request the closure is not run.
    case stream(@Sendable (ResponseWriter) -> Void)
}

/// A response a handler returns: status, headers and body.
///
/// The server adds `Date`, `Server` (unless set), `Content-Length` or `Transfer-Encoding` and,
/// when needed, `Connection`; any framing headers the handler sets are replaced.
package struct HTTPResponse: Sendable {
    /// The status code, for example 200.
    package var status: Int
    /// Headers to send, in order.
    package var headers: HTTPHeaders
    /// The content.
    package var body: HTTPBody

    /// Creates a response; by default with no headers of its own and an empty body.
    package init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: HTTPBody = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response whose body is `data`, already encoded JSON, with `Content-Type: application/json`.
    package static func json(
        _ status: Int, _ data: [UInt8], headers: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        var headers = headers
        headers.set("Content-Type", "application/json")
        return HTTPResponse(status: status, headers: headers, body: .bytes(data))
    }

    /// A response whose body is `data`, already encoded JSON, with `Content-Type: application/json`.
    package static func json(
        _ status: Int, _ data: Data, headers: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        Self.json(status, [UInt8](data), headers: headers)
    }

    /// The standard error response: `{"error":{"code":"<code>","message":"<message>"}}`.
    ///
    /// Both strings are JSON-escaped; the body has no whitespace. `Content-Type` is
    /// `application/json`.
    package static func error(
        status: Int, code: String, message: String, headers: HTTPHeaders = HTTPHeaders()
    ) -> HTTPResponse {
        let body = "{\"error\":{\"code\":\(jsonQuoted(code)),\"message\":\(jsonQuoted(message))}}"
        return Self.json(status, Array(body.utf8), headers: headers)
    }

    /// The standard error response for `error`, with its extra headers.
    package static func error(_ error: some HTTPError) -> HTTPResponse {
        Self.error(
            status: error.status, code: error.code, message: error.message, headers: error.headers)
    }
}

/// `text` as a JSON string literal, quotes included.
///
/// Escapes `"` and `\`, writes the usual short escapes for control characters and `\u00XX`
/// for the rest; everything else, non-ASCII included, passes through as UTF-8.
package func jsonQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        case "\u{00}"..."\u{1F}":
            let hex = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
