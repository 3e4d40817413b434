// gzip support for IDX files: a streaming zlib inflater, and a one-shot compressor for writing.

import CZlib

/// Streams the decompressed bytes of a gzip file through zlib.
///
/// Concatenated gzip members (as `cat a.gz b.gz` makes) decompress as one stream; any other
/// bytes after the last member, a damaged block, a failed CRC or an early end throw
/// `DataError.gzipCorrupt` with the compressed offset. Not thread-safe.
final class GzipInflater: ByteStream {
    private let file: ReadOnlyFile
    /// zlib checks that its state points back at the same `z_stream`, so it must not move.
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    /// Compressed bytes taken from the file so far.
    private var compressedRead = 0
    private var isFinished = false

    /// Prepares to inflate `file` from its current position (normally its start).
    init(_ file: ReadOnlyFile) throws {
        self.file = file
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 1 << 18, alignment: 8)
        // 15 + 32: the largest window, and accept a gzip (or zlib) header.
        let status = inflateInit2_(
            stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw DataError.fileUnreadable(
                file: file.name, reason: "zlib failed to start (\(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// Where inflation stands in the compressed file, for error messages.
    private var compressedOffset: Int { compressedRead - Int(stream.pointee.avail_in) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var produced = 0
        while produced < buffer.count && !isFinished {
            if stream.pointee.avail_in == 0 {
                guard try refill() > 0 else {
                    throw corrupt("the compressed data ends before the end of the stream")
                }
            }
            let room = min(buffer.count - produced, Int(UInt32.max))
            let inputBefore = stream.pointee.avail_in
            // safe: produced < count, so the buffer is non-empty and has a base address
            let output = buffer.baseAddress! + produced
            stream.pointee.next_out = output.assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = UInt32(room)

            let status = inflate(stream, Z_NO_FLUSH)
            let made = room - Int(stream.pointee.avail_out)
            produced += made
            switch status {
            case Z_OK:
                continue
            case Z_BUF_ERROR where made > 0 || stream.pointee.avail_in != inputBefore:
                continue
            case Z_STREAM_END:
                try startNextMember()
            default:
                throw corrupt(zlibMessage(status))
            }
        }
        return produced
    }

    /// After a member ends: finish at end of file, or start inflating the next member.
    private func startNextMember() throws {
        if stream.pointee.avail_in == 0, try refill() == 0 {
            isFinished = true
            return
        }
        guard stream.pointee.next_in[0] == 0x1F else {
            throw corrupt("unexpected bytes after the end of the gzip stream")
        }
        inflateReset(stream)
    }

    /// Reads the next block of compressed bytes; returns how many arrived (0 at end of file).
    private func refill() throws -> Int {
        let got = try file.read(into: input)
        compressedRead += got
        stream.pointee.next_in = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        stream.pointee.avail_in = UInt32(got)
        return got
    }

    private func corrupt(_ reason: String) -> DataError {
        .gzipCorrupt(file: file.name, offset: compressedOffset, reason: reason)
    }

    private func zlibMessage(_ status: Int32) -> String {
        if let message = stream.pointee.msg { return String(cString: message) }
        return "zlib status \(status)"
    }
}

extension IDX {
    /// Compresses `bytes` into one gzip member at zlib's default level.
    ///
    /// Compressing into a buffer of `deflateBound` bytes cannot fail for lack of room, so any
    /// zlib failure here is out of memory or a broken zlib and traps.
    package static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        precondition(
            bytes.count <= Int(UInt32.max), "gzip input of \(bytes.count) bytes is too large")
        // zlib checks that its state points back at the same `z_stream`, so it must not move.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        // 15 + 16: the largest window, with a gzip header and trailer.
        let started = deflateInit2_(
            stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(started == Z_OK, "deflateInit2 failed with status \(started)")
        defer { deflateEnd(stream) }

        let bound = Int(deflateBound(stream, uLong(bytes.count)))
        var input = bytes
        return [UInt8](unsafeUninitializedCapacity: bound) { output, count in
            let status = input.withUnsafeMutableBufferPointer { source in
                stream.pointee.next_in = source.baseAddress
                stream.pointee.avail_in = UInt32(source.count)
                stream.pointee.next_out = output.baseAddress
                stream.pointee.avail_out = UInt32(output.count)
                return deflate(stream, Z_FINISH)
            }
            precondition(status == Z_STREAM_END, "deflate failed with status \(status)")
            count = Int(stream.pointee.total_out)
        }
    }
}
