import Synchronization

/// The sending end of a streamed response body (`HTTPBody.stream`).
///
/// Each `write` sends one chunk and returns once the kernel has taken it. Calls from several
/// threads are serialized.
///
/// Two signals tell a producer to stop, and they differ in what it may still do:
/// - The client went away, a write failed or timed out, or the stream ended: `write` returns
///   false and `isClosed` is true. Nothing more can be sent; the producer should return.
/// - The server started shutting down: `isClosed` and `isDraining` are true, but `write` still
///   works until the grace period ends, so the producer can send a final event and return.
package final class ResponseWriter: Sendable {
    /// A heartbeat the server sends on the producer's behalf; guarded by `heartbeat`.
    private struct Heartbeat {
        var frame: [UInt8]
        var intervalSeconds: Double
        /// When the next heartbeat is due, in `monotonicSeconds()`; pushed back by every write.
        var due: Double
        /// Whether a heartbeat job is queued or running, so at most one is.
        var isScheduled = false
    }

    private let connection: Connection
    private let core: ServerCore?
    private let isChunked: Bool
    private let writeTimeoutSeconds: Double
    /// Serializes writes; guards nothing else (the closed state lives on the connection).
    private let writeLock = Mutex(())
    private let heartbeat = Mutex<Heartbeat?>(nil)

    /// Creates a writer on `connection`, framing each write as a chunk when `isChunked`
    /// (HTTP/1.1) or sending it raw (HTTP/1.0, where the connection's close ends the body).
    ///
    /// - Parameter core: the server that schedules heartbeats; without one they are ignored.
    init(
        connection: Connection, isChunked: Bool, writeTimeoutSeconds: Double,
        core: ServerCore? = nil
    ) {
        self.connection = connection
        self.core = core
        self.isChunked = isChunked
        self.writeTimeoutSeconds = writeTimeoutSeconds
    }

    /// Sends `bytes` as one chunk and flushes it.
    ///
    /// Blocks while the client is slow to read, for up to the server's write timeout without
    /// progress. Writing nothing sends nothing and only reports whether writes still work.
    ///
    /// - Returns: false once the stream is closed for writing (client gone, write failed or
    ///   timed out, stream ended); the producer should stop. While the server drains, writes
    ///   still succeed until the grace period ends.
    @discardableResult
    package func write(_ bytes: [UInt8]) -> Bool {
        self.writeLock.withLock { _ in
            guard !self.connection.isClosedForWriting else { return false }
            guard !bytes.isEmpty else { return true }
            let isSent = self.connection.send(
                self.frame(bytes), timeoutSeconds: self.writeTimeoutSeconds)
            if isSent { self.postponeHeartbeat() }
            return isSent
        }
    }

    /// Whether the producer should wind down: the client went away, a write failed or timed
    /// out, or the server is draining (see `isDraining`). The event loop notices a disconnect
    /// within about a poll cycle, even while the producer writes nothing.
    package var isClosed: Bool { self.connection.isClosedForStreaming }

    /// Whether the server is shutting down. Writes still work until the grace period ends, so
    /// a producer that sees this should send its final event and return; when `isClosed` is
    /// true but this is false, the client is gone and nothing more can be sent.
    package var isDraining: Bool { self.connection.isDraining }

    /// Has the server send `bytes` as a chunk whenever the stream has been silent for
    /// `everySeconds`, until it ends.
    ///
    /// For an event stream, `bytes` would be a comment such as `": heartbeat\n\n"`. Heartbeats
    /// keep proxies and clients from timing out an idle stream, and they let the server notice a
    /// client that vanished or stopped reading (the write fails or times out, and `isClosed`
    /// turns true) while the producer waits for something to say. Heartbeats are written from
    /// the server's own threads, never in the middle of one of the producer's writes. Calling
    /// it again replaces the heartbeat; empty `bytes` or a non-positive interval stops it.
    package func startHeartbeat(_ bytes: [UInt8], everySeconds: Double) {
        guard let core = self.core else { return }
        guard !bytes.isEmpty && everySeconds > 0 else {
            self.heartbeat.withLock { $0 = nil }
            core.heartbeats.remove(self)
            return
        }
        let due = monotonicSeconds() + everySeconds
        self.heartbeat.withLock { heartbeat in
            let isScheduled = heartbeat?.isScheduled ?? false
            heartbeat = Heartbeat(
                frame: self.frame(bytes), intervalSeconds: everySeconds, due: due,
                isScheduled: isScheduled)
        }
        core.heartbeats.add(self)
    }

    /// Ends the body (the zero-size chunk) unless the connection is already unusable, and
    /// closes the writer for good.
    func finish() {
        self.core?.heartbeats.remove(self)
        self.writeLock.withLock { _ in
            self.connection.markStreamEnded()
            if self.isChunked && !self.connection.isBroken {
                _ = self.connection.send(
                    Array("0\r\n\r\n".utf8), timeoutSeconds: self.writeTimeoutSeconds)
            }
        }
    }

    // MARK: - Heartbeats (called by the event loop and the worker pool)

    /// When the next heartbeat is due, or nil when none is set or one is already scheduled.
    func heartbeatDue() -> Double? {
        self.heartbeat.withLock { heartbeat in
            guard let heartbeat, !heartbeat.isScheduled else { return nil }
            return heartbeat.due
        }
    }

    /// Marks the heartbeat scheduled if it is due at `now`; true when the caller should run
    /// `sendHeartbeat()`.
    func claimHeartbeat(now: Double) -> Bool {
        self.heartbeat.withLock { heartbeat in
            guard var current = heartbeat, !current.isScheduled, current.due <= now else {
                return false
            }
            current.isScheduled = true
            heartbeat = current
            return true
        }
    }

    /// Sends the heartbeat if the stream is still silent; blocks like `write`. Runs on a pool
    /// thread after `claimHeartbeat(now:)` returned true.
    func sendHeartbeat() {
        self.writeLock.withLock { _ in
            let frame = self.heartbeat.withLock { heartbeat -> [UInt8]? in
                guard var current = heartbeat else { return nil }
                current.isScheduled = false
                heartbeat = current
                return monotonicSeconds() >= current.due ? current.frame : nil
            }
            guard let frame, !self.connection.isClosedForWriting else { return }
            if self.connection.send(frame, timeoutSeconds: self.writeTimeoutSeconds) {
                self.postponeHeartbeat()
            }
        }
        self.core?.wakePipe.wake()
    }

    /// Pushes the next heartbeat one interval past now; the caller holds `writeLock`.
    private func postponeHeartbeat() {
        self.heartbeat.withLock { heartbeat in
            guard var current = heartbeat else { return }
            current.due = monotonicSeconds() + current.intervalSeconds
            heartbeat = current
        }
    }

    private func frame(_ bytes: [UInt8]) -> [UInt8] {
        guard self.isChunked else { return bytes }
        let size = Array((String(bytes.count, radix: 16) + "\r\n").utf8)
        var framed = size
        framed.reserveCapacity(size.count + bytes.count + 2)
        framed.append(contentsOf: bytes)
        framed.append(contentsOf: [Byte.cr, Byte.lf])
        return framed
    }
}
