/// One complete request as a handler sees it: head, decoded target and the whole body.
package struct HTTPRequest: Sendable {
    /// The method, for example `GET`. A HEAD request served by a GET route keeps `HEAD`.
    package var method: String
    /// The request-target exactly as received, for example `/v1/jobs?limit=5`.
    package var target: String
    /// The percent-decoded path without the query, for example `/v1/jobs`.
    package var path: String
    /// The percent-decoded query parameters, `+` read as a space; the last of repeated names wins.
    package var query: [String: String]
    /// Query names given more than once, each once (see `RequestTarget.repeatedQueryNames`).
    package var repeatedQueryNames: [String] = []
    /// The header fields in the order received.
    package var headers: HTTPHeaders
    /// The body, de-chunked when it arrived chunked; empty when there was none or when it was
    /// spooled to `bodyFile`.
    package var body: [UInt8]
    /// The body as a temporary file, for a route that spools it (`Router.add(spoolsBody:)`);
    /// nil otherwise.
    package var bodyFile: BodyFile?
    /// Values the router captured for `:name` segments, e.g. `["id": "abc"]`, decoded.
    package var pathParameters: [String: String]
    /// The protocol version, `HTTP/1.1` or `HTTP/1.0`.
    package var version: String
    /// The peer as `address:port` (`[address]:port` for IPv6); empty when unknown.
    package var remoteAddress: String

    /// Creates a request, deriving `path` and `query` from `target`.
    ///
    /// Meant for handler tests. When `target` cannot be decoded, `path` is its part before `?`
    /// unchanged and `query` is empty.
    package init(
        method: String,
        target: String,
        headers: HTTPHeaders = HTTPHeaders(),
        body: [UInt8] = [],
        pathParameters: [String: String] = [:],
        version: String = "HTTP/1.1",
        remoteAddress: String = "",
        bodyFile: BodyFile? = nil
    ) {
        let rawPath = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
        let decoded = (try? RequestTarget(parsing: target))
            ?? RequestTarget(path: rawPath, segments: [], query: [:])
        self.init(
            head: RequestHead(
                method: method, target: target, version: .http1_1, headers: headers),
            decoded: decoded, body: body, pathParameters: pathParameters, remoteAddress: remoteAddress)
        self.version = version
        self.bodyFile = bodyFile
    }

    /// Creates a request from what the decoder and router produced.
    init(
        head: RequestHead, decoded target: RequestTarget, body: [UInt8],
        bodyFile: BodyFile? = nil, pathParameters: [String: String], remoteAddress: String
    ) {
        self.method = head.method
        self.target = head.target
        self.path = target.path
        self.query = target.query
        self.repeatedQueryNames = target.repeatedQueryNames
        self.headers = head.headers
        self.body = body
        self.bodyFile = bodyFile
        self.pathParameters = pathParameters
        self.version = head.version.description
        self.remoteAddress = remoteAddress
    }
}
