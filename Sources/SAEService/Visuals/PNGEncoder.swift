import CZlib

/// Writes an ``RGBImage`` as a PNG file (ISO/IEC 15948): 8-bit truecolour, no interlacing.
///
/// Each scanline gets filter type 0 (none) and the whole image is deflated by the system zlib
/// (`compress2`, which emits the zlib stream PNG's IDAT expects). Chunk checksums are zlib's
/// `crc32`. The output has exactly three chunks: IHDR, one IDAT and IEND.
enum PNGEncoder {
    /// The eight bytes every PNG file starts with.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The PNG bytes of `image`. zlib at level 6 balances size and time: a 784 × 784 feature
    /// grid compresses in a few milliseconds.
    static func encode(_ image: RGBImage) -> [UInt8] {
        var header: [UInt8] = []
        append(UInt32(image.width), to: &header)
        append(UInt32(image.height), to: &header)
        // Bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace.
        header += [8, 2, 0, 0, 0]

        var png = signature
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", deflate(scanlines(of: image)), to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    /// The raw image data PNG compresses: each row prefixed with its filter type byte (0).
    private static func scanlines(of image: RGBImage) -> [UInt8] {
        let rowBytes = image.width * 3
        var raw = [UInt8]()
        raw.reserveCapacity(image.height * (rowBytes + 1))
        image.pixels.withUnsafeBufferPointer { pixels in
            for row in 0..<image.height {
                raw.append(0)
                raw.append(contentsOf: pixels[row * rowBytes..<(row + 1) * rowBytes])
            }
        }
        return raw
    }

    /// A zlib stream of `bytes`.
    private static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var capacity = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(capacity))
        let status = output.withUnsafeMutableBufferPointer { destination in
            bytes.withUnsafeBufferPointer { source in
                // safe: both buffers are non-empty (a scanline has at least its filter byte)
                compress2(destination.baseAddress!, &capacity, source.baseAddress!, uLong(source.count), 6)
            }
        }
        // compressBound makes the buffer large enough and the level is valid, so zlib cannot
        // fail here short of running out of memory.
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        output.removeSubrange(Int(capacity)...)
        return output
    }

    /// Appends a chunk: length, type, data and the CRC-32 of type and data.
    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        append(UInt32(data.count), to: &png)
        let body = typeBytes + data
        png += body
        let checksum = body.withUnsafeBufferPointer { buffer in
            // safe: the body holds at least the four type bytes
            crc32(0, buffer.baseAddress!, uInt(buffer.count))
        }
        append(UInt32(checksum), to: &png)
    }

    private static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
