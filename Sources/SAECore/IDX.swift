// The IDX array format used by MNIST and Fashion-MNIST, raw or gzip-compressed.
//
// Layout, all integers big-endian:
//   bytes 0-1   zero
//   byte  2     element type (see `IDX.ElementType`)
//   byte  3     number of dimensions n ≥ 1
//   bytes 4…    n UInt32 dimension sizes
//   then        the elements, row-major
// The first dimension counts rows; the others multiply into the row width (28 × 28 → 784).

import Foundation

/// Reads and writes IDX files.
package enum IDX {
    /// The element types an IDX file can hold, keyed by the header's type byte.
    package enum ElementType: UInt8, Sendable, CaseIterable {
        case ubyte = 0x08
        case sbyte = 0x09
        case int16 = 0x0B
        case int32 = 0x0C
        case float32 = 0x0D
        case float64 = 0x0E

        /// The decoding of one element.
        var scalar: BinaryScalar {
            switch self {
            case .ubyte: .uint8
            case .sbyte: .int8
            case .int16: .int16
            case .int32: .int32
            case .float32: .float32
            case .float64: .float64
            }
        }
    }

    /// Loads an IDX file, raw or gzip-compressed (detected by its first bytes, not its name).
    ///
    /// `ubyte` data stays as bytes (scaled to [0, 1] when gathered); every other type becomes
    /// floats. The whole file is read in large blocks; a 26 MB gzip file of 60,000 × 784 bytes
    /// loads in well under a second.
    ///
    /// - Throws: `DataError` `.idxBadMagic`, `.idxUnknownType`, `.idxNoDimensions`,
    ///   `.idxZeroDimension`, `.idxTooLarge`, `.idxTruncated`, `.idxTrailingBytes`,
    ///   `.gzipCorrupt`, `.nonFiniteValue` (float data, naming the row), or the file errors.
    package static func load(contentsOf url: URL) throws -> Dataset {
        let file = try ReadOnlyFile(url)
        let isGzip = try file.read(count: 2, at: 0) == [0x1F, 0x8B]
        let stream: any ByteStream = isGzip ? try GzipInflater(file) : file
        // Deflate expands at most about 1032:1; this bounds what we reserve before reading.
        let sizeBound =
            isGzip ? file.size.multipliedReportingOverflow(by: 1032).partialValue : file.size

        let header = try Header.read(from: stream, file: file.name)
        let data = try readBody(of: header, from: stream, reserving: sizeBound, file: file.name)

        if header.type == .ubyte {
            return Dataset(rows: header.rows, width: header.width, storage: .bytes(data))
        }
        let values = data.withUnsafeBytes { header.type.scalar.decode($0, isBigEndian: true) }
        guard header.type == .float32 || header.type == .float64 else {
            return Dataset(rows: header.rows, width: header.width, storage: .floats(values))
        }
        return try Dataset(
            rows: header.rows, width: header.width, checkingFinite: values, file: file.name,
            dataOffset: header.byteCount, elementSize: header.type.scalar.byteWidth)
    }

    /// The bytes of element data the header of an IDX file (raw or gzip) declares, read
    /// without reading the data, so a caller can refuse a file that would expand too far.
    ///
    /// - Throws: the header errors of `load(contentsOf:)`, `.gzipCorrupt`, or the file errors.
    package static func declaredDataBytes(contentsOf url: URL) throws -> Int {
        let file = try ReadOnlyFile(url)
        let isGzip = try file.read(count: 2, at: 0) == [0x1F, 0x8B]
        let stream: any ByteStream = isGzip ? try GzipInflater(file) : file
        return try Header.read(from: stream, file: file.name).dataBytes
    }

    /// Reads exactly the data `header` declares and checks that nothing follows it.
    private static func readBody(
        of header: Header, from stream: any ByteStream, reserving sizeBound: Int, file: String
    ) throws -> [UInt8] {
        // Read straight into the array; a lying gzip header only costs reading in blocks.
        let reserved = min(header.dataBytes, max(sizeBound, 0))
        var data = try [UInt8](unsafeUninitializedCapacity: reserved) { buffer, count in
            count = try stream.read(into: UnsafeMutableRawBufferPointer(buffer))
        }
        var isEnded = data.count < reserved
        while !isEnded && data.count < header.dataBytes {
            let want = min(header.dataBytes - data.count, 1 << 20)
            isEnded = try data.appendRead(upTo: want, from: stream) < want
        }
        guard data.count == header.dataBytes else {
            throw DataError.idxTruncated(
                file: file, expectedBytes: header.byteCount + header.dataBytes,
                foundBytes: header.byteCount + data.count)
        }

        try checkEnd(of: stream, after: header, file: file)
        return data
    }
}

// MARK: - Header

extension IDX {
    /// The parsed, validated header of an IDX file.
    struct Header {
        var type: ElementType
        var dimensions: [Int]
        /// `dimensions[0]`.
        var rows: Int
        /// The product of the other dimensions (1 for a 1-D file).
        var width: Int
        /// Bytes of element data that follow the header.
        var dataBytes: Int
        /// Bytes of header, where the data starts.
        var byteCount: Int { 4 + 4 * dimensions.count }

        /// Reads and validates the magic, type byte and dimensions from the start of `stream`.
        static func read(from stream: any ByteStream, file: String) throws -> Header {
            var prefix: [UInt8] = []
            _ = try prefix.appendRead(upTo: 4, from: stream)
            guard prefix.prefix(2).allSatisfy({ $0 == 0 }) else {
                throw DataError.idxBadMagic(file: file, found: Array(prefix.prefix(2)))
            }
            guard prefix.count == 4 else {
                throw DataError.idxTruncated(file: file, expectedBytes: 4, foundBytes: prefix.count)
            }
            guard let type = ElementType(rawValue: prefix[2]) else {
                throw DataError.idxUnknownType(file: file, found: prefix[2])
            }
            let count = Int(prefix[3])
            guard count > 0 else { throw DataError.idxNoDimensions(file: file) }

            var sizes: [UInt8] = []
            let got = try sizes.appendRead(upTo: 4 * count, from: stream)
            guard got == 4 * count else {
                throw DataError.idxTruncated(
                    file: file, expectedBytes: 4 + 4 * count, foundBytes: 4 + got)
            }
            let dimensions = (0..<count).map { index in
                sizes[4 * index..<4 * index + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            }
            return try Header(type: type, dimensions: dimensions, file: file)
        }

        /// Checks that every dimension is positive and that the data size fits in an `Int`.
        init(type: ElementType, dimensions: [UInt32], file: String) throws {
            var elements = 1
            for (index, size) in dimensions.enumerated() {
                guard size > 0 else {
                    throw DataError.idxZeroDimension(
                        file: file, index: index, offset: 4 + 4 * index)
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: Int(size))
                guard !overflow else {
                    throw DataError.idxTooLarge(file: file, dimensions: dimensions)
                }
                elements = product
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: type.scalar.byteWidth)
            guard !overflow, bytes <= Int.max - 4 - 4 * dimensions.count else {
                throw DataError.idxTooLarge(file: file, dimensions: dimensions)
            }
            self.type = type
            self.dimensions = dimensions.map { Int($0) }
            self.rows = Int(dimensions[0])
            self.width = elements / rows
            self.dataBytes = bytes
        }
    }
}

// MARK: - Writing

extension IDX {
    /// Encodes `values` as a complete IDX byte stream of the given element type and shape.
    ///
    /// Meant for tests and for crafting files. `shape` must be non-empty with every size in
    /// `1...UInt32.max`, its product must equal `values.count`, and integer types need values
    /// that are whole and in range; anything else is a programming error and traps.
    package static func encode(_ values: [Double], as type: ElementType, shape: [Int]) -> [UInt8] {
        precondition(
            !shape.isEmpty && shape.count < 256, "IDX needs 1...255 dimensions, got \(shape)")
        precondition(shape.allSatisfy { $0 > 0 && $0 <= Int(UInt32.max) }, "bad IDX shape \(shape)")
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) ≠ \(values.count) values")

        var bytes: [UInt8] = [0, 0, type.rawValue, UInt8(shape.count)]
        for size in shape {
            bytes.appendBigEndian(UInt32(size))
        }
        bytes.reserveCapacity(bytes.count + values.count * type.scalar.byteWidth)
        for value in values {
            switch type {
            case .ubyte: bytes.append(UInt8(exactly: value)!)  // safe: precondition of the API
            case .sbyte: bytes.append(UInt8(bitPattern: Int8(exactly: value)!))  // safe: as above
            case .int16: bytes.appendBigEndian(UInt16(bitPattern: Int16(exactly: value)!))  // ditto
            case .int32: bytes.appendBigEndian(UInt32(bitPattern: Int32(exactly: value)!))  // ditto
            case .float32: bytes.appendBigEndian(Float(value).bitPattern)
            case .float64: bytes.appendBigEndian(value.bitPattern)
            }
        }
        return bytes
    }

    /// Writes `values` as an IDX file, atomically, gzip-compressed when `compressed` is set.
    ///
    /// See `encode(_:as:shape:)` for what `values` and `shape` must satisfy.
    ///
    /// - Throws: `DataError.writeFailed`.
    package static func write(
        _ values: [Double], as type: ElementType, shape: [Int], to url: URL,
        compressed: Bool = false
    ) throws {
        let bytes = encode(values, as: type, shape: shape)
        try AtomicFile.write(compressed ? gzip(bytes) : bytes, to: url)
    }

    /// Writes `dataset` as a 2-D IDX file of `rows × width`: `ubyte` for byte storage and
    /// `float32` for float storage.
    ///
    /// - Throws: `DataError.writeFailed`.
    package static func write(_ dataset: Dataset, to url: URL, compressed: Bool = false) throws {
        precondition(dataset.rows > 0 && dataset.width > 0, "an IDX file needs rows and columns")
        var bytes: [UInt8]
        switch dataset.storage {
        case .bytes(let values):
            bytes = [0, 0, ElementType.ubyte.rawValue, 2]
            bytes.appendBigEndian(UInt32(dataset.rows))
            bytes.appendBigEndian(UInt32(dataset.width))
            bytes += values
        case .floats(let values):
            bytes = [0, 0, ElementType.float32.rawValue, 2]
            bytes.appendBigEndian(UInt32(dataset.rows))
            bytes.appendBigEndian(UInt32(dataset.width))
            bytes.reserveCapacity(bytes.count + 4 * values.count)
            for value in values {
                bytes.appendBigEndian(value.bitPattern)
            }
        }
        try AtomicFile.write(compressed ? gzip(bytes) : bytes, to: url)
    }
}

extension [UInt8] {
    /// Appends the big-endian bytes of `value`.
    fileprivate mutating func appendBigEndian<Value: FixedWidthInteger>(_ value: Value) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    /// Appends up to `count` bytes read from `stream`; returns how many arrived.
    ///
    /// Fewer than `count` bytes arrive only when the stream ends.
    fileprivate mutating func appendRead(
        upTo count: Int, from stream: any ByteStream
    ) throws -> Int {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 8)
        defer { scratch.deallocate() }
        let got = try stream.read(into: scratch)
        append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<got]))
        return got
    }
}

extension IDX {
    /// How many decompressed bytes past the declared data are counted before giving up.
    static let trailingBytesCounted = 1 << 20

    /// Throws `idxTrailingBytes` when `stream` goes on past the data `header` declares. A
    /// file's extra bytes are counted; inflated ones only up to `trailingBytesCounted`, since a
    /// small gzip member can expand to gigabytes that would take minutes to inflate just to be
    /// counted (`idxTrailingBytesAtLeast`).
    static func checkEnd(of stream: any ByteStream, after header: Header, file: String) throws {
        let expected = header.byteCount + header.dataBytes
        let limit = stream is GzipInflater ? trailingBytesCounted : .max
        guard let extra = try stream.countRemainingBytes(upTo: limit) else {
            throw DataError.idxTrailingBytesAtLeast(
                file: file, expectedBytes: expected, foundBytes: expected + limit + 1)
        }
        guard extra == 0 else {
            throw DataError.idxTrailingBytes(file: file, expectedBytes: expected, foundBytes: expected + extra)
        }
    }
}
