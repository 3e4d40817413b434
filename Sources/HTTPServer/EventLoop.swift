import Glibc

/// The single thread that accepts connections and reads every socket, using `poll`.
///
/// It owns the listening socket and all `LoopConnection` state; nothing here is touched from
/// another thread. Requests are decoded here and handed, complete, to `RequestWorker` threads,
/// which write the responses and report back through `ServerCore`'s mailbox and wake pipe.
/// Idle keep-alive connections therefore cost a `pollfd` and a small buffer, not a thread.
final class EventLoop {
    /// Bytes read per `recv`.
    static let readBufferSize = 65_536
    /// The longest a closing connection's input is read and discarded.
    static let lingerSeconds = 2.0
    /// Lingering ends early once the peer has sent nothing for this long.
    static let lingerQuietSeconds = 0.2
    /// Connections accepted per wake-up before other sockets get a turn.
    static let maxAcceptsPerWake = 128

    let core: ServerCore
    private var listener: Int32?
    private(set) var connections: [UInt64: LoopConnection] = [:]
    private var nextID: UInt64 = 0
    private var acceptPausedUntil = 0.0
    /// When the earliest registered stream heartbeat is due.
    private var nextHeartbeat = Double.infinity
    private(set) var isDraining = false
    /// How many sockets the last `poll` found ready: above one, requests the loop would answer
    /// itself are shared with `core.helper`.
    private(set) var readyCount = 0
    /// Counts the requests of busy rounds that the loop would answer itself: two in three are
    /// offered to the helper, as the loop also reads and parses every request.
    var sharedRequests = 0
    /// Counts dispatched requests; see `LoopConnection.dispatchOrder`.
    var dispatchCount: UInt64 = 0
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(
        byteCount: EventLoop.readBufferSize, alignment: 1)

    /// Creates a loop serving `listener`, which it closes when draining starts.
    init(core: ServerCore, listener: Int32) {
        self.core = core
        self.listener = listener
    }

    deinit {
        self.readBuffer.deallocate()
        self.closeListener()
    }

    var configuration: ServerConfiguration { self.core.configuration }

    /// Runs until the server has drained (or was forced) and every connection is gone.
    func run() {
        while self.runOnce() {}
        self.closeListener()
        self.connections.removeAll()
    }

    // MARK: - One iteration

    /// Waits for and handles one round of events; false when the loop should end.
    private func runOnce() -> Bool {
        var descriptors = [pollfd(fd: self.core.wakePipe.readFD, events: Int16(POLLIN), revents: 0)]
        var owners: [LoopConnection?] = [nil]
        var listenerIndex: Int?
        let start = monotonicSeconds()
        if let listener, start >= self.acceptPausedUntil {
            listenerIndex = descriptors.count
            descriptors.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0))
            owners.append(nil)
        }
        for connection in self.connections.values {
            guard let events = connection.pollEvents else { continue }
            descriptors.append(pollfd(fd: connection.connection.fd, events: events, revents: 0))
            owners.append(connection)
        }

        let timeout = self.core.mayPoll() ? self.pollTimeout(now: start) : 0
        let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
        if ready < 0 && errno != EINTR {
            self.core.log("http: poll failed: \(String(cString: strerror(errno)))")
        }
        if descriptors[0].revents != 0 { self.core.wakePipe.drain() }
        self.readyCount = max(0, Int(ready))

        let now = monotonicSeconds()
        let messages = self.core.takeMessages()
        if messages.isForcing {
            self.forceCloseAll()
            return false
        }
        for finished in messages.finished {
            self.finish(finished.id, keepOpen: finished.keepOpen, now: now)
        }
        if messages.isDraining && !self.isDraining { self.beginDraining(now: now) }

        if let listenerIndex, descriptors[listenerIndex].revents != 0 {
            self.acceptConnections(now: now)
        }
        // Oldest request first: the connections are polled in no particular order, and a
        // connection handled last in every round would wait up to two rounds each time (its
        // next request comes in after the following poll), which is the latency tail under
        // load. The one whose previous request went out earliest most likely sent its next
        // one earliest.
        var readyConnections: [(connection: LoopConnection, revents: Int16)] = []
        readyConnections.reserveCapacity(max(0, Int(ready)))
        for (index, owner) in owners.enumerated() where descriptors[index].revents != 0 {
            guard let owner else { continue }
            readyConnections.append((owner, descriptors[index].revents))
        }
        readyConnections.sort { $0.connection.dispatchOrder < $1.connection.dispatchOrder }
        for (owner, revents) in readyConnections {
            guard self.connections[owner.id] === owner else { continue }
            self.handle(owner, revents: revents, now: now)
        }
        self.expireDeadlines(now: now)
        self.nextHeartbeat = self.scheduleHeartbeats(now: now)
        return !(self.isDraining && self.connections.isEmpty)
    }

    /// Hands every due stream heartbeat to a pool thread; returns when the next one is due.
    private func scheduleHeartbeats(now: Double) -> Double {
        guard !self.core.heartbeats.isEmpty else { return .infinity }
        let (due, next) = self.core.heartbeats.dueWriters(now: now)
        for writer in due {
            self.core.workers.submit { writer.sendHeartbeat() }
        }
        return next
    }

    /// Milliseconds until the nearest deadline, at most one second.
    private func pollTimeout(now: Double) -> Int32 {
        var earliest = min(now + 1, self.nextHeartbeat)
        for connection in self.connections.values { earliest = min(earliest, connection.deadline) }
        if self.acceptPausedUntil > now { earliest = min(earliest, self.acceptPausedUntil) }
        return pollMilliseconds(earliest - now)
    }

    private func handle(_ connection: LoopConnection, revents: Int16, now: Double) {
        switch connection.phase {
        case .awaitingHead, .readingBody, .lingering:
            self.read(connection, now: now)
        case .busy:
            if revents & (Socket.pollReadHangUp | Int16(POLLHUP | POLLERR)) != 0 {
                connection.isInputClosed = true
                connection.connection.markPeerGone()
            } else if revents & Int16(POLLIN) != 0 {
                // The next request, early: read it once the worker is done.
                connection.isInputPending = true
                connection.connection.markInputPending(true)
            }
        case .closing, .flushing:
            if revents & Int16(POLLERR | POLLHUP) != 0 {
                self.drop(connection)
            } else if self.flush(connection, now: now), connection.isAwaitingHead {
                // A response produced on the loop is out; pipelined requests may be buffered.
                self.advance(connection, now: now)
            }
        }
    }

    // MARK: - Accepting

    private func acceptConnections(now: Double) {
        guard let listener else { return }
        for _ in 0..<Self.maxAcceptsPerWake {
            switch Socket.accept(listener) {
            case .wouldBlock:
                return
            case .failed(let code):
                if code == EINTR || code == ECONNABORTED { continue }
                // Typically out of descriptors: back off rather than spin on a ready listener.
                self.core.log("http: accept failed: \(String(cString: strerror(code)))")
                self.acceptPausedUntil = now + 0.1
                return
            case .accepted(let fd, let remoteAddress):
                self.nextID += 1
                let connection = LoopConnection(
                    connection: Connection(id: self.nextID, fd: fd, remoteAddress: remoteAddress),
                    limits: self.core.limits,
                    deadline: now + self.configuration.headerTimeoutSeconds)
                let activeCount = self.connections.values.reduce(0) { $0 + ($1.isActive ? 1 : 0) }
                self.connections[connection.id] = connection
                let limit = self.configuration.maxConnections
                if activeCount >= limit {
                    self.respondAndClose(
                        connection, Self.tooManyConnections(limit: limit), now: now)
                }
            }
        }
    }

    /// The 503 for a connection beyond `maxConnections`.
    private static func tooManyConnections(limit: Int) -> HTTPStatusError {
        HTTPStatusError(
            status: 503, code: "too_many_connections",
            message: "the server is at its limit of \(limit) connections",
            headers: ["Retry-After": "1"])
    }

    // MARK: - Reading

    private func read(_ connection: LoopConnection, now: Double) {
        let count = recv(
            connection.connection.fd, self.readBuffer.baseAddress, self.readBuffer.count, 0)
        if count < 0 {
            if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { self.drop(connection) }
            return
        }
        if count == 0 {
            connection.isInputClosed = true
            self.drop(connection)
            return
        }
        if case .lingering = connection.phase {
            connection.deadline = min(connection.lingerEnd, now + Self.lingerQuietSeconds)
            return
        }

        let wasIdle = connection.decoder.isIdle
        connection.decoder.append(UnsafeRawBufferPointer(rebasing: self.readBuffer[0..<count]))
        if wasIdle && connection.hasServedRequest && connection.isAwaitingHead {
            connection.deadline = now + self.configuration.headerTimeoutSeconds
        }
        self.advance(connection, now: now)
    }

    // MARK: - Deadlines and closing

    private func expireDeadlines(now: Double) {
        for connection in self.connections.values where connection.deadline <= now {
            switch connection.phase {
            case .awaitingHead:
                if connection.decoder.isIdle {
                    self.drop(connection)
                } else {
                    let seconds = self.configuration.headerTimeoutSeconds
                    let error = HTTPParseError.timeout("request header", seconds: seconds)
                    self.respondAndClose(connection, error, now: now)
                }
            case .readingBody:
                let seconds = self.configuration.bodyTimeoutSeconds
                let error = HTTPParseError.timeout("request body", seconds: seconds)
                self.respondAndClose(connection, error, now: now)
            case .closing, .flushing, .lingering:
                self.drop(connection)
            case .busy:
                break
            }
        }
    }

    /// Sends the error response for `error` from the loop, then closes the connection.
    func respondAndClose(_ connection: LoopConnection, _ error: some HTTPError, now: Double) {
        self.respondAndClose(connection, HTTPResponse.error(error), now: now)
    }

    /// Sends `response` (with `Connection: close`) from the loop, then closes the connection
    /// gracefully.
    ///
    /// - Parameter omitsBody: sends the head only, as the answer to a HEAD request must.
    func respondAndClose(
        _ connection: LoopConnection, _ response: HTTPResponse, omitsBody: Bool = false,
        now: Double
    ) {
        // A body being spooled will not be read on: its file goes now.
        connection.spool = nil
        connection.outbox = ResponseSerializer.complete(
            response, closes: true, omitsBody: omitsBody)
        connection.outboxOffset = 0
        connection.phase = .closing
        connection.deadline = now + min(self.configuration.writeTimeoutSeconds, 10)
        self.flush(connection, now: now)
    }

    /// Writes as much of the outbox as the socket takes now. Once it is all sent, an error
    /// response (`closing`) starts lingering and a loop-produced one (`flushing`) hands the
    /// connection on as a worker's finished response would.
    ///
    /// - Returns: whether the outbox is empty now (false also when the connection broke).
    @discardableResult
    func flush(_ connection: LoopConnection, now: Double) -> Bool {
        while connection.outboxOffset < connection.outbox.count {
            let offset = connection.outboxOffset
            let sent = connection.outbox.withUnsafeBytes { bytes in
                // Safe: the outbox is non-empty while bytes remain to send.
                let start = bytes.baseAddress! + offset
                return send(
                    connection.connection.fd, start, bytes.count - offset,
                    Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if sent > 0 {
                connection.outboxOffset += sent
            } else if sent < 0 && errno == EINTR {
                continue
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                return false
            } else {
                self.drop(connection)
                return false
            }
        }
        connection.outbox = []
        connection.outboxOffset = 0
        if case .flushing(let keepOpen) = connection.phase {
            connection.phase = .busy
            _ = self.reuse(connection, keepOpen: keepOpen, now: now)
            return true
        }
        self.startLingering(connection, now: now)
        return true
    }

    /// Shuts our sending side (the peer sees the end of our last response) and reads and
    /// discards input until the peer closes or goes quiet, so that closing does not reset the
    /// connection while the peer may still be reading that response.
    func startLingering(_ connection: LoopConnection, now: Double) {
        guard !connection.isInputClosed && !connection.connection.isBroken else {
            self.drop(connection)
            return
        }
        shutdown(connection.connection.fd, Int32(SHUT_WR))
        connection.phase = .lingering
        connection.lingerEnd = now + Self.lingerSeconds
        connection.deadline = now + Self.lingerQuietSeconds
    }

    /// Forgets the connection; its socket closes once no worker holds it either.
    func drop(_ connection: LoopConnection) {
        self.connections[connection.id] = nil
    }

    // MARK: - Draining

    private func beginDraining(now: Double) {
        self.isDraining = true
        self.closeListener()
        for connection in self.connections.values {
            switch connection.phase {
            case .awaitingHead where connection.decoder.isIdle:
                self.drop(connection)
            case .busy:
                connection.connection.markDraining()
            default:
                break
            }
        }
    }

    private func forceCloseAll() {
        for connection in self.connections.values {
            if case .busy = connection.phase { connection.connection.forceShut() }
        }
        self.connections.removeAll()
    }

    private func closeListener() {
        if let listener { close(listener) }
        self.listener = nil
    }
}
