import Foundation

/// A complete request handed from the event loop to a worker thread.
struct Exchange: Sendable {
    let connection: Connection
    let request: HTTPRequest
    let route: RouteMatch
    /// Whether the request allows the connection to persist (RFC 9112 §9.3).
    let wantsKeepAlive: Bool
    /// Whether bytes of a next (pipelined) request were already read when this one went out.
    let hasBufferedInput: Bool
}

/// Runs handlers and writes their responses on the server's `WorkerPool`.
///
/// The pool hands each exchange to an idle thread, or to a new one when all are busy, so a
/// handler or stream producer that blocks for minutes never starves anyone else. Threads exist
/// only while requests are in flight (plus a few parked ones); idle connections cost none.
enum RequestWorker {
    /// Bodies up to this size are copied behind the head and sent in one write.
    static let coalescedBodyBytes = 65_536

    /// Answers `exchange` on a pool thread and then reports back to the event loop.
    static func start(_ exchange: Exchange, core: ServerCore) {
        core.workers.submit {
            let keepOpen = Self.answer(exchange, core: core)
            // A kept-open connection with nothing buffered needs the loop only when input
            // arrives, and the loop polls for that itself; everything else needs it now.
            core.finished(connection: exchange.connection.id, keepOpen: keepOpen) {
                !keepOpen || exchange.hasBufferedInput || exchange.connection.isInputPending
            }
        }
    }

    /// Runs the handler and writes its response; returns whether the connection may be reused.
    static func answer(_ exchange: Exchange, core: ServerCore) -> Bool {
        Self.write(Self.response(for: exchange, core: core), for: exchange, core: core)
    }

    /// Whether the connection may be reused after `response`.
    static func keepsOpen(after response: HTTPResponse, for exchange: Exchange) -> Bool {
        exchange.wantsKeepAlive && !exchange.connection.isDraining
            && !response.headers.tokens("Connection").contains("close")
    }

    /// The bytes of a complete response with a `.bytes` body, as `write` would send them, and
    /// whether the connection stays open; nil for a stream. For the event loop's own sends.
    static func serialized(
        _ response: HTTPResponse, for exchange: Exchange
    ) -> (bytes: [UInt8], keepOpen: Bool)? {
        guard case .bytes(let bytes) = response.body else { return nil }
        let keepOpen = Self.keepsOpen(after: response, for: exchange)
        let isHTTP10 = exchange.request.version == HTTPVersion.http1_0.description
        let hasContent = !HTTPStatus.forbidsContent(response.status)
        let head = ResponseSerializer.head(
            status: response.status, headers: response.headers,
            framing: hasContent ? .length(bytes.count) : .none, closes: !keepOpen,
            announcesKeepAlive: isHTTP10 && keepOpen)
        let sendsBody = hasContent && exchange.request.method != "HEAD"
        return (sendsBody ? head + bytes : head, keepOpen)
    }

    /// Writes `response` (blocking, within the write timeout) and, for a stream, runs its
    /// producer; returns whether the connection may be reused.
    static func write(_ response: HTTPResponse, for exchange: Exchange, core: ServerCore) -> Bool {
        let request = exchange.request
        let connection = exchange.connection
        let isHTTP10 = request.version == HTTPVersion.http1_0.description
        let keepOpen = Self.keepsOpen(after: response, for: exchange)
        let timeout = core.configuration.writeTimeoutSeconds

        switch response.body {
        case .bytes(let bytes):
            let hasContent = !HTTPStatus.forbidsContent(response.status)
            var head = ResponseSerializer.head(
                status: response.status, headers: response.headers,
                framing: hasContent ? .length(bytes.count) : .none, closes: !keepOpen,
                announcesKeepAlive: isHTTP10 && keepOpen)
            guard hasContent && request.method != "HEAD" && !bytes.isEmpty else {
                return connection.send(head, timeoutSeconds: timeout) && keepOpen
            }
            // One write for small bodies (one segment on the wire); no copy of large ones.
            if bytes.count <= Self.coalescedBodyBytes {
                head += bytes
                return connection.send(head, timeoutSeconds: timeout) && keepOpen
            }
            return connection.send(head, timeoutSeconds: timeout)
                && connection.send(bytes, timeoutSeconds: timeout) && keepOpen

        case .stream(let produce):
            if request.method == "HEAD" {
                let head = ResponseSerializer.head(
                    status: response.status, headers: response.headers,
                    framing: isHTTP10 ? .none : .chunked, closes: !keepOpen,
                    announcesKeepAlive: isHTTP10 && keepOpen)
                return connection.send(head, timeoutSeconds: timeout) && keepOpen
            }
            // A stream always ends its connection: simpler than tracking a producer that
            // outlives its client, and event streams are long-lived anyway.
            let head = ResponseSerializer.head(
                status: response.status, headers: response.headers,
                framing: isHTTP10 ? .none : .chunked, closes: true)
            guard connection.send(head, timeoutSeconds: timeout) else { return false }
            let writer = ResponseWriter(
                connection: connection, isChunked: !isHTTP10, writeTimeoutSeconds: timeout,
                core: core)
            produce(writer)
            writer.finish()
            return false
        }
    }

    /// The answer to a handler that threw an error other than an `HTTPError`.
    private static let internalError = HTTPResponse.error(
        status: 500, code: "internal_error", message: "internal server error")

    /// The handler's response, or the error response for what it threw or for a failed match.
    static func response(for exchange: Exchange, core: ServerCore) -> HTTPResponse {
        let request = exchange.request
        let internalError = Self.internalError
        switch exchange.route {
        case .notFound, .methodNotAllowed:
            return exchange.route.errorResponse(method: request.method, path: request.path)
                ?? internalError
        case .matched(let handler, _):
            do {
                return try handler(request)
            } catch let error as any HTTPError {
                return .error(error)
            } catch {
                core.log("handler for \(request.method) \(request.path) failed: \(error)")
                return internalError
            }
        }
    }
}
