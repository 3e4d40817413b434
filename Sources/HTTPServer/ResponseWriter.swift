import Synchronization

/// The sending end of a streamed response body (`HTTPBody.stream`).
///
/// Each `write` sends one chunk and returns once the kernel has taken it. Calls from several
/// threads are serialized. Once the client goes away, a write times out, the server starts
/// draining, or the stream has ended, `write` returns false and `isClosed` is true; the
/// producer should then return.
package final class ResponseWriter: Sendable {
    private let connection: Connection
    private let isChunked: Bool
    private let writeTimeoutSeconds: Double
    /// Serializes writes; guards nothing else (the closed state lives on the connection).
    private let writeLock = Mutex(())

    /// Creates a writer on `connection`, framing each write as a chunk when `isChunked`
    /// (HTTP/1.1) or sending it raw (HTTP/1.0, where the connection's close ends the body).
    init(connection: Connection, isChunked: Bool, writeTimeoutSeconds: Double) {
        self.connection = connection
        self.isChunked = isChunked
        self.writeTimeoutSeconds = writeTimeoutSeconds
    }

    /// Sends `bytes` as one chunk and flushes it.
    ///
    /// Blocks while the client is slow to read, for up to the server's write timeout without
    /// progress. Writing nothing sends nothing and only reports whether the stream is open.
    ///
    /// - Returns: false once the stream is closed; the producer should stop.
    @discardableResult
    package func write(_ bytes: [UInt8]) -> Bool {
        self.writeLock.withLock { _ in
            guard !self.connection.isClosedForStreaming else { return false }
            guard !bytes.isEmpty else { return true }
            return self.connection.send(self.frame(bytes), timeoutSeconds: self.writeTimeoutSeconds)
        }
    }

    /// Whether the stream is closed: the client went away, a write failed or timed out, or the
    /// server is draining. The event loop notices a disconnect within about a poll cycle, even
    /// while the producer writes nothing.
    package var isClosed: Bool { self.connection.isClosedForStreaming }

    /// Ends the body (the zero-size chunk) unless the connection is already unusable, and
    /// closes the writer for good.
    func finish() {
        self.writeLock.withLock { _ in
            self.connection.markStreamEnded()
            if self.isChunked && !self.connection.isBroken {
                _ = self.connection.send(
                    Array("0\r\n\r\n".utf8), timeoutSeconds: self.writeTimeoutSeconds)
            }
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
