/// An error that knows the HTTP response it should become.
///
/// A handler that throws a conforming error gets the response
/// `HTTPResponse.error(status:code:message:headers:)` builds from it. Any other error thrown by a
/// handler becomes `500 {"error":{"code":"internal_error","message":"internal server error"}}`,
/// and its description goes only to the server's logger.
package protocol HTTPError: Error {
    /// The status code, for example 404.
    var status: Int { get }
    /// A stable snake_case identifier with no dynamic values, for example `not_found`.
    var code: String { get }
    /// A human-readable explanation; may name the offending value or limit.
    var message: String { get }
    /// Extra response headers such as `Allow` or `Retry-After`; empty by default.
    var headers: HTTPHeaders { get }
}

extension HTTPError {
    /// No extra headers.
    package var headers: HTTPHeaders { HTTPHeaders() }
}

/// A ready-made `HTTPError` for callers that do not need an error type of their own.
package struct HTTPStatusError: HTTPError, Equatable {
    /// The status code.
    package var status: Int
    /// A stable snake_case identifier.
    package var code: String
    /// A human-readable explanation.
    package var message: String
    /// Extra response headers.
    package var headers: HTTPHeaders

    /// Creates an error that answers with `status` and the JSON error body for `code`/`message`.
    package init(status: Int, code: String, message: String, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    package static func == (lhs: HTTPStatusError, rhs: HTTPStatusError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.message == rhs.message
            && Array(lhs.headers).elementsEqual(Array(rhs.headers)) { $0 == $1 }
    }
}
