import Glibc
import Synchronization

/// One accepted TCP connection, shared by the event loop (which reads it) and, while a request
/// is being answered, the request's worker thread (which writes it).
///
/// The descriptor is closed in `deinit`, once neither side holds the connection, so its number
/// can never be reused while a late write is still possible.
final class Connection: Sendable {
    /// Conditions either side may raise; guarded by `flags`.
    private struct Flags {
        /// The peer shut down its sending side or the socket reported a hang-up.
        var isPeerGone = false
        /// A write failed or timed out, or the server forced the socket shut.
        var isBroken = false
        /// The server is shutting down: streams should end, no keep-alive.
        var isDraining = false
        /// The response stream has ended; its writer accepts nothing more.
        var isStreamEnded = false
        /// The event loop saw input arrive while a request was in flight and stopped polling
        /// for more: the worker must wake the loop when it hands the connection back.
        var isInputPending = false
    }

    /// A number unique within the server, for the event loop's bookkeeping.
    let id: UInt64
    /// The socket; non-blocking.
    let fd: Int32
    /// The peer as `address:port`.
    let remoteAddress: String
    private let flags = Mutex(Flags())

    init(id: UInt64, fd: Int32, remoteAddress: String) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
    }

    deinit {
        close(self.fd)
    }

    /// Whether a write failed or the socket was forced shut.
    var isBroken: Bool { self.flags.withLock { $0.isBroken } }

    /// Whether the server is shutting down.
    var isDraining: Bool { self.flags.withLock { $0.isDraining } }

    /// Whether writes on a stream must fail: peer gone, a write failed, or the stream ended.
    var isClosedForWriting: Bool {
        self.flags.withLock { $0.isPeerGone || $0.isBroken || $0.isStreamEnded }
    }

    /// Whether a stream producer should wind down: closed for writing, or the server draining.
    var isClosedForStreaming: Bool {
        self.flags.withLock {
            $0.isPeerGone || $0.isBroken || $0.isDraining || $0.isStreamEnded
        }
    }

    /// Records that the peer hung up (seen by the event loop's poll).
    func markPeerGone() { self.flags.withLock { $0.isPeerGone = true } }

    /// Whether input arrived while a request was in flight (see `markInputPending`).
    var isInputPending: Bool { self.flags.withLock { $0.isInputPending } }

    /// Records, or clears, that input arrived while a request was in flight.
    func markInputPending(_ isPending: Bool) {
        self.flags.withLock { $0.isInputPending = isPending }
    }

    /// Records that the server is shutting down.
    func markDraining() { self.flags.withLock { $0.isDraining = true } }

    /// Records that the stream on this connection has ended.
    func markStreamEnded() { self.flags.withLock { $0.isStreamEnded = true } }

    /// Shuts the socket down both ways so any blocked or later write fails at once.
    func forceShut() {
        self.flags.withLock { $0.isBroken = true }
        shutdown(self.fd, Int32(SHUT_RDWR))
    }

    /// Writes all of `bytes`, waiting while the socket's send buffer is full.
    ///
    /// Blocks the calling thread (a worker, never the event loop). Gives up, marking the
    /// connection broken, when the peer is gone or no byte could be written for
    /// `timeoutSeconds`.
    ///
    /// - Returns: whether every byte was handed to the kernel.
    func send(_ bytes: [UInt8], timeoutSeconds: Double) -> Bool {
        bytes.withUnsafeBytes { self.send($0, timeoutSeconds: timeoutSeconds) }
    }

    /// Writes as much of `bytes` as the socket takes now, without waiting.
    ///
    /// - Returns: how many bytes were handed to the kernel; nil when the connection broke (it
    ///   is then marked broken).
    func sendAvailable(_ bytes: [UInt8]) -> Int? {
        guard !self.isBroken else { return nil }
        var offset = 0
        bytes.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            while offset < bytes.count {
                let sent = Glibc.send(
                    self.fd, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if sent > 0 {
                    offset += sent
                } else if sent < 0 && errno == EINTR {
                    continue
                } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    return
                } else {
                    offset = -1
                    return
                }
            }
        }
        guard offset >= 0 else {
            self.flags.withLock { $0.isBroken = true }
            return nil
        }
        return offset
    }

    private func send(_ bytes: UnsafeRawBufferPointer, timeoutSeconds: Double) -> Bool {
        guard let base = bytes.baseAddress, !self.isBroken else { return bytes.isEmpty }
        var offset = 0
        var deadline = monotonicSeconds() + timeoutSeconds
        while offset < bytes.count {
            let sent = Glibc.send(self.fd, base + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent > 0 {
                offset += sent
                deadline = monotonicSeconds() + timeoutSeconds
                continue
            }
            let code = errno
            if sent < 0 && code == EINTR { continue }
            guard sent < 0 && (code == EAGAIN || code == EWOULDBLOCK) else { break }

            let remaining = deadline - monotonicSeconds()
            if remaining <= 0 || self.isBroken { break }
            var pending = pollfd(fd: self.fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pending, 1, pollMilliseconds(remaining, cap: 250))
        }
        if offset < bytes.count {
            self.flags.withLock { $0.isBroken = true }
            return false
        }
        return true
    }
}
