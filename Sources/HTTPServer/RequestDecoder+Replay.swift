// Replaying raw input through the decoder the way the event loop drives it, for the fuzz
// target and the corpus tests: both need to know what a byte string decodes to, and whether
// the answer depends on how the bytes were split.

extension RequestDecoder {
    /// What a complete replay of some input produced.
    package struct Replay: Equatable, CustomStringConvertible {
        /// Each decoded request as `METHOD target body-length`, in order.
        package var requests: [String] = []
        /// The error that ended decoding, if one did.
        package var error: HTTPParseError?
        /// Bytes left over that do not (yet) form a whole request; 0 after an error.
        package var pendingByteCount = 0

        /// Whether the input decoded to at least one request or to an error response.
        package var isDefinite: Bool { !self.requests.isEmpty || self.error != nil }

        package var description: String {
            let error = self.error.map { "\($0)" } ?? "none"
            return "requests \(self.requests), error \(error), \(self.pendingByteCount) pending"
        }
    }

    /// Feeds `input` to a fresh decoder in pieces of `pieceSize` bytes, reading every event as
    /// the event loop would: each head's target is parsed and its body started at once.
    ///
    /// Stops at the first error; the result does not depend on `pieceSize` (the fuzz target
    /// checks exactly that).
    package static func replay(
        _ input: [UInt8], limits: RequestLimits, pieceSize: Int = .max
    ) -> Replay {
        var decoder = RequestDecoder(limits: limits)
        var replay = Replay()
        var pendingHead: RequestHead?
        var offset = 0
        do throws(HTTPParseError) {
            repeat {
                let end = offset + min(max(pieceSize, 1), input.count - offset)
                decoder.append(input[offset..<end])
                offset = end
                while let event = try decoder.next() {
                    switch event {
                    case .head(let head, _):
                        _ = try RequestTarget(parsing: head.target)
                        try decoder.startBody()
                        pendingHead = head
                    case .body(let body):
                        let method = pendingHead?.method ?? "?"
                        let target = pendingHead?.target ?? "?"
                        replay.requests.append("\(method) \(target) \(body.count)")
                        pendingHead = nil
                    case .bodyPart:
                        preconditionFailure("replayed bodies do not stream")
                    }
                }
            } while offset < input.count
        } catch {
            replay.error = error
        }
        replay.pendingByteCount = replay.error == nil ? decoder.bufferedByteCount : 0
        return replay
    }
}
