/// Where the server listens and the limits and timeouts it enforces on every connection.
package struct ServerConfiguration: Sendable {
    /// The address to bind: a numeric IPv4 or IPv6 address or a host name.
    package var host: String = "127.0.0.1"
    /// The TCP port; 0 picks a free ephemeral port (read it back from `HTTPServer.port`).
    package var port: Int = 8080
    /// The longest header section after the request line, in bytes; beyond it the answer is 431.
    package var maxHeaderBytes: Int = 16_384
    /// The longest request body in bytes, after de-chunking; beyond it the answer is 413.
    package var maxBodyBytes: Int = 8 << 20
    /// The longest request-target in bytes; beyond it the answer is 414.
    package var maxTargetLength: Int = 8_192
    /// Seconds a request's header section may take to arrive, counted from the connection's
    /// start for its first request and from the first byte for later ones; then 408.
    package var headerTimeoutSeconds: Double = 10
    /// Seconds a request's body may take to arrive after its header section; then 408.
    package var bodyTimeoutSeconds: Double = 30
    /// Seconds a keep-alive connection may sit between requests before it is closed silently.
    package var idleTimeoutSeconds: Double = 60
    /// Seconds a response write may make no progress (the client stopped reading) before the
    /// connection is dropped and a stream's writer reports closed.
    package var writeTimeoutSeconds: Double = 30
    /// The most connections served at once; one more gets 503 with `Retry-After` and is closed.
    package var maxConnections: Int = 1024
    /// Where bodies of routes that spool them (`Router.add(spoolsBody:)`) are written while
    /// they arrive. A handler moving the file elsewhere renames it, so the directory is best
    /// on the same file system as the files' final place.
    package var spoolDirectory: String = "/tmp"

    /// The defaults above.
    package init() {}

    /// The byte limits handed to the request decoder.
    var requestLimits: RequestLimits {
        RequestLimits(
            maxTargetLength: self.maxTargetLength, maxHeaderBytes: self.maxHeaderBytes,
            maxBodyBytes: self.maxBodyBytes)
    }
}
