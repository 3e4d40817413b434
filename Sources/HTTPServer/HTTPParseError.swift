/// A request the server refuses before any handler sees it: bad syntax, a broken limit, a timeout.
///
/// The server answers each with its status and JSON error body, adds `Connection: close`, and
/// closes the connection, because after such an error it cannot tell where the next request
/// would begin. `code` is one stable value per status; `message` says what was wrong and, for
/// limits, names the limit.
package struct HTTPParseError: HTTPError, Equatable, CustomStringConvertible {
    /// The status code: 400, 408, 413, 414, 417, 431, 501 or 505.
    package let status: Int
    /// The stable code for `status`, for example `bad_request`.
    package let code: String
    /// What was wrong, naming the limit for size errors.
    package let message: String

    private init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    package var description: String { "\(self.status) \(self.code): \(self.message)" }

    /// 400: the request breaks HTTP/1.1 syntax or framing; `detail` says how.
    package static func badRequest(_ detail: String) -> HTTPParseError {
        HTTPParseError(400, "bad_request", detail)
    }

    /// 408: the header section or body did not arrive in time.
    package static func timeout(_ part: String, seconds: Double) -> HTTPParseError {
        HTTPParseError(408, "request_timeout", "\(part) not received within \(seconds) seconds")
    }

    /// 413: the body is longer than `limit` bytes.
    package static func bodyTooLarge(limit: Int) -> HTTPParseError {
        HTTPParseError(413, "content_too_large", "request body exceeds the limit of \(limit) bytes")
    }

    /// 414: the request-target is longer than `limit` bytes.
    package static func targetTooLong(limit: Int) -> HTTPParseError {
        HTTPParseError(414, "uri_too_long", "request target exceeds the limit of \(limit) bytes")
    }

    /// 417: the `Expect` header asks for something other than `100-continue`.
    package static func expectationFailed(_ value: String) -> HTTPParseError {
        HTTPParseError(417, "expectation_failed", "unsupported expectation '\(value)'")
    }

    /// 431: the header section (or a chunked body's trailers) is longer than `limit` bytes.
    package static func headersTooLarge(limit: Int) -> HTTPParseError {
        HTTPParseError(
            431, "headers_too_large", "header section exceeds the limit of \(limit) bytes")
    }

    /// 501: the method or transfer coding is well-formed but not one this server implements.
    package static func notImplemented(_ detail: String) -> HTTPParseError {
        HTTPParseError(501, "not_implemented", detail)
    }

    /// 505: the request names an HTTP version other than 1.0 or 1.1.
    package static func versionNotSupported(_ version: String) -> HTTPParseError {
        HTTPParseError(
            505, "http_version_not_supported", "HTTP version '\(version)' is not supported")
    }
}
