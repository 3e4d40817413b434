/// Turns the bytes of one connection into request heads and bodies, incrementally.
///
/// Feed whatever arrives with `append(_:)` and call `next()` until it returns nil. Input may be
/// split anywhere, down to one byte per read, and bytes after the end of a request stay
/// buffered for the next one, so pipelined requests come out in order. After a `.head` event
/// the caller decides whether the body should be read at all (for `Expect: 100-continue`) and
/// calls `startBody(maxBodyBytes:streams:)` to go on, which is also where a declared length
/// over the body limit is refused; the `.body` event then carries the whole body, or, when the
/// body streams, `.bodyPart` events carry it as it arrives and `.body` its last piece.
/// Buffering is bounded by the limits: nothing is ever sized from `Content-Length`.
///
/// After `next()` throws, the decoder is spent: the connection must be closed.
package struct RequestDecoder {
    /// What `next()` found.
    package enum Event: Equatable {
        /// A complete, valid header section and how its body is delimited.
        case head(RequestHead, BodyFraming)
        /// The complete body of the request whose head came last (empty when there is none);
        /// for a streamed body, its last piece (possibly empty).
        case body([UInt8])
        /// A non-empty piece of a streamed body that has not ended yet.
        case bodyPart([UInt8])
    }

    private enum State {
        case head
        case awaitingBodyStart(BodyFraming)
        case fixedLength(remaining: Int)
        case chunked(ChunkedBodyDecoder)
        case failed
    }

    /// Extra bytes allowed for method, spaces and version when a request line is still
    /// incomplete, before an overlong line is taken for an overlong target.
    private static let requestLineOverhead = 64

    private let limits: RequestLimits
    private var state = State.head
    private var buffer: [UInt8] = []
    /// Index of the first byte in `buffer` not yet consumed.
    private var start = 0
    private var body: [UInt8] = []
    /// Whether the current body is handed out in pieces (`startBody(streams:)`).
    private var streamsBody = false
    /// Offsets, relative to `start`, of the head scan: bytes examined, request-line end.
    private var scanned = 0
    private var requestLineEnd: Int?
    private var lineStart = 0

    /// Creates a decoder enforcing `limits`.
    package init(limits: RequestLimits) {
        self.limits = limits
    }

    /// The number of received bytes not yet consumed by an event.
    package var bufferedByteCount: Int { self.buffer.count - self.start }

    /// Whether the decoder is between requests with nothing buffered.
    package var isIdle: Bool {
        if case .head = self.state { return self.bufferedByteCount == 0 }
        return false
    }

    /// Adds received bytes.
    package mutating func append(_ bytes: some Collection<UInt8>) {
        self.buffer.append(contentsOf: bytes)
    }

    /// Allows the body of the request whose head was just returned to be read.
    ///
    /// - Parameter maxBodyBytes: the body limit for this request (a route may allow more or
    ///   less than the default); nil means `limits.maxBodyBytes`.
    ///   - streams: hands the body out in `.bodyPart` pieces as it arrives instead of
    ///     gathering it, so that it need not fit in memory; the limit applies all the same.
    /// - Throws: `HTTPParseError` 413 when the declared `Content-Length` is over the limit; the
    ///   decoder is then spent, as after any error.
    package mutating func startBody(maxBodyBytes: Int? = nil, streams: Bool = false) throws(HTTPParseError) {
        guard case .awaitingBodyStart(let framing) = self.state else {
            preconditionFailure("startBody() called in state \(self.state)")
        }
        let limit = maxBodyBytes ?? self.limits.maxBodyBytes
        self.streamsBody = streams
        switch framing {
        case .length(let length):
            guard length <= limit else {
                self.state = .failed
                throw .bodyTooLarge(limit: limit)
            }
            self.state = .fixedLength(remaining: length)
        case .chunked:
            self.state = .chunked(
                ChunkedBodyDecoder(maxBodyBytes: limit, maxHeaderBytes: self.limits.maxHeaderBytes))
        }
    }

    /// The next complete head or body, or nil when more bytes are needed (or the decoder waits
    /// for `startBody()`, or has failed).
    ///
    /// - Throws: `HTTPParseError` for anything the head parser, the framing rules or the
    ///   chunked decoder reject, and 414 or 431 as soon as the buffered head passes a limit.
    package mutating func next() throws(HTTPParseError) -> Event? {
        do {
            defer { self.compact() }
            switch self.state {
            case .head: return try self.nextHead()
            case .awaitingBodyStart, .failed: return nil
            case .fixedLength(let remaining): return self.nextFixedLengthBody(remaining: remaining)
            case .chunked(var decoder):
                let isDone = try decoder.decode(self.buffer, start: &self.start, into: &self.body)
                self.state = .chunked(decoder)
                return isDone ? self.finishBody() : self.takeBodyPart()
            }
        } catch {
            self.state = .failed
            throw error
        }
    }

    // MARK: - Steps

    private mutating func nextHead() throws(HTTPParseError) -> Event? {
        self.skipEmptyLinesBeforeRequest()
        guard let headLength = try self.scanHead() else { return nil }

        let bytes = self.buffer[self.start..<(self.start + headLength)]
        self.start += headLength
        self.scanned = 0
        self.requestLineEnd = nil
        self.lineStart = 0

        let head = try RequestHead(parsing: bytes, limits: self.limits)
        let framing = try head.framing(limits: self.limits)
        self.state = .awaitingBodyStart(framing)
        return .head(head, framing)
    }

    private mutating func nextFixedLengthBody(remaining: Int) -> Event? {
        let count = min(self.bufferedByteCount, remaining)
        self.body.append(contentsOf: self.buffer[self.start..<(self.start + count)])
        self.start += count
        guard count == remaining else {
            self.state = .fixedLength(remaining: remaining - count)
            return self.takeBodyPart()
        }
        return self.finishBody()
    }

    /// The body gathered so far as a `.bodyPart`, when the body streams and has some.
    private mutating func takeBodyPart() -> Event? {
        guard self.streamsBody && !self.body.isEmpty else { return nil }
        let part = self.body
        self.body = []
        return .bodyPart(part)
    }

    private mutating func finishBody() -> Event {
        let body = self.body
        self.body = []
        self.streamsBody = false
        self.state = .head
        return .body(body)
    }

    /// Drops the empty lines a client may send between requests (RFC 9112 §2.2).
    ///
    /// Runs until the request line has ended, not just before the first scan: a CR whose LF
    /// arrives in a later read was already scanned, and must be skipped all the same.
    private mutating func skipEmptyLinesBeforeRequest() {
        guard self.requestLineEnd == nil else { return }
        while self.start < self.buffer.count {
            if self.buffer[self.start] == Byte.lf {
                self.start += 1
            } else if self.buffer[self.start] == Byte.cr, self.start + 1 < self.buffer.count,
                self.buffer[self.start + 1] == Byte.lf
            {
                self.start += 2
            } else {
                return
            }
            // Scanned bytes held no LF, so at most that CR was scanned; it is gone now.
            self.scanned = 0
        }
    }

    /// Searches the new bytes for the empty line that ends the head, checking the limits.
    ///
    /// - Returns: the length of the head including the empty line, or nil when incomplete.
    private mutating func scanHead() throws(HTTPParseError) -> Int? {
        var index = self.start + self.scanned
        while let lf = self.buffer[index...].firstIndex(of: Byte.lf) {
            let offset = lf - self.start
            if let requestLineEnd = self.requestLineEnd {
                let lineLength = offset - self.lineStart
                if lineLength == 0 || (lineLength == 1 && self.buffer[lf - 1] == Byte.cr) {
                    guard offset - requestLineEnd <= self.limits.maxHeaderBytes else {
                        throw .headersTooLarge(limit: self.limits.maxHeaderBytes)
                    }
                    return offset + 1
                }
            } else {
                // The same limit as for a request line still arriving, so the outcome does not
                // depend on how the input was split.
                guard offset <= self.limits.maxTargetLength + Self.requestLineOverhead else {
                    throw .targetTooLong(limit: self.limits.maxTargetLength)
                }
                self.requestLineEnd = offset
            }
            self.lineStart = offset + 1
            index = lf + 1
        }
        self.scanned = self.buffer.count - self.start

        if let requestLineEnd = self.requestLineEnd {
            if self.scanned - requestLineEnd > self.limits.maxHeaderBytes {
                throw .headersTooLarge(limit: self.limits.maxHeaderBytes)
            }
        } else if self.scanned > self.limits.maxTargetLength + Self.requestLineOverhead {
            throw .targetTooLong(limit: self.limits.maxTargetLength)
        }
        return nil
    }

    /// Releases consumed bytes once they dominate the buffer, so memory stays bounded.
    private mutating func compact() {
        if self.start == self.buffer.count {
            // Keep a small buffer for the next request; give a large one back, as an idle
            // connection should cost little.
            self.buffer.removeAll(keepingCapacity: self.buffer.capacity <= 4_096)
            self.start = 0
        } else if self.start >= 16_384 && self.start * 2 >= self.buffer.count {
            self.buffer.removeFirst(self.start)
            self.start = 0
        }
    }
}
