/// Incremental decoder for a chunked request body (RFC 9112 §7.1).
///
/// Chunk extensions are ignored and trailer fields are read and dropped. The decoded size is
/// capped by `maxBodyBytes` (413) and the trailer section by `maxHeaderBytes` (431). Bytes are
/// consumed from a buffer the caller owns, so input may arrive split anywhere.
struct ChunkedBodyDecoder {
    private enum State {
        case sizeLine
        case data(remaining: Int)
        case dataEnd
        case trailers
        case done
    }

    /// The longest chunk-size line (size plus extensions) accepted before answering 400.
    static let maxSizeLineBytes = 4_096

    private var state = State.sizeLine
    /// How many bytes of the current, still unterminated line were already searched for LF.
    private var scanned = 0
    private var decodedCount = 0
    private var trailerBytes = 0
    private let maxBodyBytes: Int
    private let maxHeaderBytes: Int

    init(maxBodyBytes: Int, maxHeaderBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.maxHeaderBytes = maxHeaderBytes
    }

    /// Decodes as much of `buffer[start...]` as possible, appending chunk data to `body` and
    /// advancing `start` past what it consumed.
    ///
    /// - Returns: true once the last chunk and the trailers have been consumed.
    /// - Throws: `HTTPParseError` 400 for malformed framing, 413 past `maxBodyBytes`, 431 for
    ///   oversized trailers.
    mutating func decode(
        _ buffer: [UInt8], start: inout Int, into body: inout [UInt8]
    ) throws(HTTPParseError) -> Bool {
        while true {
            switch self.state {
            case .sizeLine:
                guard
                    let line = try self.nextLine(
                        buffer, start: &start, limit: Self.maxSizeLineBytes,
                        orElse: .badRequest("chunk size line too long"))
                else { return false }
                let size = try self.chunkSize(line)
                self.state = size == 0 ? .trailers : .data(remaining: size)

            case .data(let remaining):
                let count = min(buffer.count - start, remaining)
                guard count > 0 else { return false }
                body.append(contentsOf: buffer[start..<(start + count)])
                start += count
                self.state = count == remaining ? .dataEnd : .data(remaining: remaining - count)

            case .dataEnd:
                guard
                    let line = try self.nextLine(
                        buffer, start: &start, limit: 0,
                        orElse: .badRequest("chunk data not followed by CRLF"))
                else { return false }
                guard line.isEmpty else { throw .badRequest("chunk data not followed by CRLF") }
                self.state = .sizeLine

            case .trailers:
                guard
                    let line = try self.nextLine(
                        buffer, start: &start, limit: self.maxHeaderBytes,
                        orElse: .headersTooLarge(limit: self.maxHeaderBytes))
                else { return false }
                self.trailerBytes += line.count + 2
                guard self.trailerBytes <= self.maxHeaderBytes else {
                    throw .headersTooLarge(limit: self.maxHeaderBytes)
                }
                if line.isEmpty { self.state = .done }

            case .done:
                return true
            }
        }
    }

    /// The next LF-terminated line without its line ending, consumed; nil when the line is not
    /// complete yet. Throws `error` for a line longer than `limit` bytes (line ending excluded),
    /// as soon as that many bytes arrived without an LF.
    private mutating func nextLine(
        _ buffer: [UInt8], start: inout Int, limit: Int, orElse error: HTTPParseError
    ) throws(HTTPParseError) -> ArraySlice<UInt8>? {
        let searchFrom = start + self.scanned
        guard let lf = buffer[searchFrom...].firstIndex(of: Byte.lf) else {
            self.scanned = buffer.count - start
            // One more byte may be the CR of the line ending.
            if self.scanned > limit + 1 { throw error }
            return nil
        }
        var line = buffer[start..<lf]
        if line.last == Byte.cr { line = line.dropLast() }
        // The same limit as for a line still arriving, whatever the split.
        guard line.count <= limit else { throw error }
        guard !line.contains(Byte.cr) else { throw .badRequest("bare CR in chunked framing") }
        start = lf + 1
        self.scanned = 0
        return line
    }

    /// The size a chunk-size line declares, checked against the remaining body allowance.
    private mutating func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        var size = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = hexValue(line[index]) {
            size = size * 16 + Int(digit)
            guard size <= self.maxBodyBytes - self.decodedCount else {
                throw .bodyTooLarge(limit: self.maxBodyBytes)
            }
            index += 1
        }
        guard index > line.startIndex else { throw .badRequest("invalid chunk size") }

        // Whatever follows the digits must be chunk extensions: optional whitespace, then ';'.
        let rest = line[index...].drop(while: Byte.isWhitespace)
        guard rest.isEmpty || rest.first == UInt8(ascii: ";") else {
            throw .badRequest("invalid chunk size")
        }
        self.decodedCount += size
        return size
    }
}
