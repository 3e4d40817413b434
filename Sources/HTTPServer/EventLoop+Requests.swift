import Glibc

// Request flow on the event loop: decode, check the head, answer `Expect`, hand the complete
// request to a worker, and take the connection back when the worker is done.

extension EventLoop {
    /// The methods the server implements; any other well-formed method gets 501.
    static let knownMethods: Set<String> = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
    ]

    /// The interim response sent before reading a body the client held back.
    static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Decodes whatever is buffered until a request is dispatched, more input is needed, or
    /// the connection is closed.
    func advance(_ connection: LoopConnection, now: Double) {
        while connection.isAwaitingHead || connection.isReadingBody {
            let event: RequestDecoder.Event?
            do {
                event = try connection.decoder.next()
            } catch {
                self.respondAndClose(connection, error, now: now)
                return
            }
            switch event {
            case .head(let head, let framing)?:
                self.begin(connection, head: head, framing: framing, now: now)
            case .bodyPart(let part)?:
                guard self.spool(part, on: connection, now: now) else { return }
            case .body(let body)?:
                var bodyFile: BodyFile?
                if let spool = connection.spool {
                    guard self.spool(body, on: connection, now: now) else { return }
                    bodyFile = spool.finish()
                    connection.spool = nil
                }
                // Go on only when the loop answered the request itself and may read the next.
                let inMemory = bodyFile == nil ? body : []
                guard self.dispatch(connection, body: inMemory, bodyFile: bodyFile, now: now) else { return }
            case nil:
                // Waiting for input that can no longer come.
                if connection.isInputClosed { self.drop(connection) }
                return
            }
        }
    }

    /// Checks a new head (method, target, route, body limit, expectation) and starts reading
    /// its body.
    private func begin(
        _ connection: LoopConnection, head: RequestHead, framing: BodyFraming, now: Double
    ) {
        let isHead = head.method == "HEAD"
        guard Self.knownMethods.contains(head.method) else {
            let error = HTTPParseError.notImplemented("method '\(head.method)' is not implemented")
            self.respondAndClose(connection, error, now: now)
            return
        }
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: head.target)
        } catch {
            self.respondAndClose(connection, .error(error), omitsBody: isHead, now: now)
            return
        }
        let lookup = self.core.router.lookup(method: head.method, segments: target.segments)
        let route = lookup.match
        // Only a request its route will see spools its body; a 404 or 405 body is discarded.
        let spools = lookup.spoolsBody && !framing.isEmpty
        do {
            try connection.decoder.startBody(maxBodyBytes: lookup.maxBodyBytes, streams: spools)
        } catch {
            self.respondAndClose(connection, .error(error), omitsBody: isHead, now: now)
            return
        }

        // Expectations are an HTTP/1.1 feature; HTTP/1.0 clients never wait for 100.
        if head.version == .http1_1 && head.headers.contains("Expect") {
            guard head.headers.tokens("Expect") == ["100-continue"] else {
                let value = head.headers.values("Expect").joined(separator: ", ")
                let error = HTTPParseError.expectationFailed(value)
                self.respondAndClose(connection, .error(error), omitsBody: isHead, now: now)
                return
            }
            if !framing.isEmpty {
                // The head alone decides a failed route: answer now instead of reading the body.
                let refusal = route.errorResponse(method: head.method, path: target.path)
                if let failure = refusal ?? lookup.headCheck?(head.headers) {
                    self.respondAndClose(connection, failure, omitsBody: isHead, now: now)
                    return
                }
                guard self.sendInterim(connection) else { return }
            }
        }

        if spools {
            do {
                connection.spool = try SpoolFile(directory: self.configuration.spoolDirectory)
            } catch {
                self.core.log("http: cannot spool a request body: \(error)")
                self.respondAndClose(connection, Self.spoolFailure, omitsBody: isHead, now: now)
                return
            }
        }
        connection.phase = .readingBody(
            PendingRequest(
                head: head, target: target, route: route,
                eventLoopCondition: lookup.eventLoopCondition))
        connection.deadline = now + self.configuration.bodyTimeoutSeconds
    }

    /// The answer when a body to spool cannot be written to disk.
    static let spoolFailure = HTTPResponse.error(
        status: 503, code: "body_not_stored",
        message: "the request body could not be written to the server's spool directory")

    /// Appends a piece of a spooled body to its file; answers 503 and closes the connection
    /// when the write fails. Returns whether the connection goes on.
    private func spool(_ bytes: [UInt8], on connection: LoopConnection, now: Double) -> Bool {
        guard let spool = connection.spool else { return true }
        do {
            try spool.write(bytes)
            return true
        } catch {
            self.core.log("http: cannot spool a request body: \(error)")
            connection.spool = nil
            self.respondAndClose(connection, Self.spoolFailure, now: now)
            return false
        }
    }

    /// Sends `100 Continue`; drops the connection when the socket will not take it at once
    /// (only possible for a client that has stopped reading).
    private func sendInterim(_ connection: LoopConnection) -> Bool {
        let sent = Self.continueResponse.withUnsafeBytes { bytes in
            send(
                connection.connection.fd, bytes.baseAddress, bytes.count,
                Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
        }
        guard sent == Self.continueResponse.count else {
            self.drop(connection)
            return false
        }
        return true
    }

    /// Hands the complete request to a worker thread (the connection is busy until it
    /// reports), or answers it here for a route that runs on the event loop.
    ///
    /// - Returns: whether the connection is ready for its next request right away (answered
    ///   here, fully sent, kept open).
    private func dispatch(
        _ connection: LoopConnection, body: [UInt8], bodyFile: BodyFile?, now: Double
    ) -> Bool {
        guard case .readingBody(let pending) = connection.phase else {
            preconditionFailure("dispatch in phase \(connection.phase)")
        }
        var parameters: [String: String] = [:]
        if case .matched(_, let captured) = pending.route { parameters = captured }
        let request = HTTPRequest(
            head: pending.head, decoded: pending.target, body: body,
            bodyFile: bodyFile, pathParameters: parameters,
            remoteAddress: connection.connection.remoteAddress)

        connection.phase = .busy
        connection.deadline = .infinity
        self.dispatchCount &+= 1
        connection.dispatchOrder = self.dispatchCount
        if self.isDraining { connection.connection.markDraining() }
        let exchange = Exchange(
            connection: connection.connection, request: request, route: pending.route,
            wantsKeepAlive: pending.head.wantsKeepAlive,
            hasBufferedInput: !connection.decoder.isIdle)
        guard let condition = pending.eventLoopCondition, condition(request) else {
            RequestWorker.start(exchange, core: self.core)
            return false
        }
        // In a busy round, two in three such requests go to the helper thread while its queue
        // is short, so that both cores answer them (the loop has read and parsed them all).
        if self.readyCount > 1 {
            self.sharedRequests &+= 1
            if self.sharedRequests % 3 != 0 && self.core.helper.offer(exchange) { return false }
        }

        let response = RequestWorker.response(for: exchange, core: self.core)
        guard let (bytes, keepOpen) = RequestWorker.serialized(response, for: exchange) else {
            // A stream: its producer may block, so it runs on a worker thread after all.
            let core = self.core
            core.workers.submit {
                let keepOpen = RequestWorker.write(response, for: exchange, core: core)
                core.finished(connection: exchange.connection.id, keepOpen: keepOpen)
            }
            return false
        }
        connection.outbox = bytes
        connection.outboxOffset = 0
        connection.phase = .flushing(keepOpen: keepOpen)
        connection.deadline = now + self.configuration.writeTimeoutSeconds
        return self.flush(connection, now: now) && connection.isAwaitingHead
    }

    /// Takes a connection back from its worker: reuse it for the next request, or close it.
    func finish(_ id: UInt64, keepOpen: Bool, now: Double) {
        guard let connection = self.connections[id], case .busy = connection.phase else { return }
        // Pipelined requests may already be buffered.
        if self.reuse(connection, keepOpen: keepOpen, now: now) { self.advance(connection, now: now) }
    }

    /// Moves a connection whose response is complete to its next request, or closes it;
    /// returns whether it now awaits a head.
    func reuse(_ connection: LoopConnection, keepOpen: Bool, now: Double) -> Bool {
        connection.hasServedRequest = true
        if connection.isInputPending {
            connection.isInputPending = false
            connection.connection.markInputPending(false)
        }
        if keepOpen && self.isDraining && connection.decoder.isIdle {
            // Idle now, like the connections draining closed at once.
            self.drop(connection)
            return false
        }
        guard keepOpen && !self.isDraining else {
            self.startLingering(connection, now: now)
            return false
        }
        let configuration = self.configuration
        let waitSeconds =
            connection.decoder.isIdle
            ? configuration.idleTimeoutSeconds : configuration.headerTimeoutSeconds
        connection.phase = .awaitingHead
        connection.deadline = now + waitSeconds
        return true
    }
}

extension LoopConnection {
    /// Whether the connection is reading a request body.
    var isReadingBody: Bool {
        if case .readingBody = self.phase { return true }
        return false
    }
}
