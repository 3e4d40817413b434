// Headerless little-endian float32 files, plus the element decoding and finiteness check that
// the binary readers (IDX, NPY, raw, safetensors) share.

import Foundation

/// Reads files that are nothing but little-endian float32 samples, row after row.
package enum RawFloat32 {
    /// Loads `url` as rows of `width` little-endian float32 values.
    ///
    /// The file size must be a positive multiple of `4 × width` bytes.
    ///
    /// - Throws: `DataError.rawInvalidWidth` when `width < 1`, `.rawSizeMismatch` when the size
    ///   is not whole rows, `.empty` for an empty file, `.nonFiniteValue` naming the first NaN or
    ///   infinity, or the file errors of `AtomicFile.read(contentsOf:)`.
    package static func load(contentsOf url: URL, width: Int) throws -> Dataset {
        let name = url.lastPathComponent
        guard width > 0, width <= Int.max / 4 else {
            throw DataError.rawInvalidWidth(file: name, width: width)
        }
        let file = try ReadOnlyFile(url)
        let rowBytes = 4 * width
        guard file.size % rowBytes == 0 else {
            throw DataError.rawSizeMismatch(file: name, bytes: file.size, width: width)
        }
        guard file.size > 0 else { throw DataError.empty(file: name) }

        // Read straight into the float array; the file may shrink while we read.
        let count = file.size / 4
        let stored = try [Float](unsafeUninitializedCapacity: count) { buffer, filled in
            let got = try file.read(into: UnsafeMutableRawBufferPointer(buffer))
            guard got == file.size else {
                throw DataError.rawSizeMismatch(file: name, bytes: got, width: width)
            }
            filled = count
        }
        #if _endian(big)
            let values = stored.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
        #else
            let values = stored
        #endif
        return try Dataset(
            rows: count / width, width: width, checkingFinite: values,
            file: name, dataOffset: 0, elementSize: 4)
    }
}

/// A numeric element type stored in binary array files, and its conversion to `Float`.
///
/// Integers wider than 24 bits and float64 values lose precision as `Float`, and float64 values
/// beyond `Float`'s range become infinite (which the readers then reject).
enum BinaryScalar: Sendable, Equatable {
    case uint8, int8, uint16, int16, uint32, int32, uint64, int64
    case float16, bfloat16, float32, float64

    /// Bytes per element.
    var byteWidth: Int {
        switch self {
        case .uint8, .int8: 1
        case .uint16, .int16, .float16, .bfloat16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        }
    }

    /// Whether decoded values can be NaN or infinite.
    var isFloatingPoint: Bool {
        switch self {
        case .float16, .bfloat16, .float32, .float64: true
        default: false
        }
    }

    /// Decodes every whole element in `raw`, stored big- or little-endian, into floats.
    func decode(_ raw: UnsafeRawBufferPointer, isBigEndian: Bool) -> [Float] {
        let count = raw.count / byteWidth
        return [Float](unsafeUninitializedCapacity: count) { out, filled in
            filled = count
            // float32 stored in the host's byte order is a plain copy.
            if self == .float32, isBigEndian == (UInt32(bigEndian: 1) == 1),
                let source = raw.baseAddress, let target = out.baseAddress
            {
                UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: count * 4)
                return
            }
            switch self {
            case .uint8: Self.convert(raw, UInt8.self, isBigEndian, out) { Float($0) }
            case .int8: Self.convert(raw, Int8.self, isBigEndian, out) { Float($0) }
            case .uint16: Self.convert(raw, UInt16.self, isBigEndian, out) { Float($0) }
            case .int16: Self.convert(raw, Int16.self, isBigEndian, out) { Float($0) }
            case .uint32: Self.convert(raw, UInt32.self, isBigEndian, out) { Float($0) }
            case .int32: Self.convert(raw, Int32.self, isBigEndian, out) { Float($0) }
            case .uint64: Self.convert(raw, UInt64.self, isBigEndian, out) { Float($0) }
            case .int64: Self.convert(raw, Int64.self, isBigEndian, out) { Float($0) }
            case .float16:
                Self.convert(raw, UInt16.self, isBigEndian, out) { Float(Float16(bitPattern: $0)) }
            case .bfloat16:
                // bfloat16 is the top half of a float32.
                Self.convert(raw, UInt16.self, isBigEndian, out) {
                    Float(bitPattern: UInt32($0) << 16)
                }
            case .float32:
                Self.convert(raw, UInt32.self, isBigEndian, out) { Float(bitPattern: $0) }
            case .float64:
                Self.convert(raw, UInt64.self, isBigEndian, out) { Float(Double(bitPattern: $0)) }
            }
        }
    }

    /// Loads each element of `raw` as `Bits` in the stored byte order and transforms it.
    private static func convert<Bits: FixedWidthInteger>(
        _ raw: UnsafeRawBufferPointer,
        _: Bits.Type,
        _ isBigEndian: Bool,
        _ out: UnsafeMutableBufferPointer<Float>,
        _ transform: (Bits) -> Float
    ) {
        let stride = MemoryLayout<Bits>.size
        for index in 0..<out.count {
            let stored = raw.loadUnaligned(fromByteOffset: index * stride, as: Bits.self)
            let value = isBigEndian ? Bits(bigEndian: stored) : Bits(littleEndian: stored)
            out.initializeElement(at: index, to: transform(value))
        }
    }
}

extension Dataset {
    /// Wraps decoded floats in a dataset after checking that every value is finite.
    ///
    /// `dataOffset` and `elementSize` locate the first bad value in the file for the error.
    ///
    /// - Throws: `DataError.nonFiniteValue` naming the row, column and byte of the first NaN or
    ///   infinity.
    init(
        rows: Int, width: Int, checkingFinite values: [Float],
        file: String, dataOffset: Int, elementSize: Int
    ) throws {
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw DataError.nonFiniteValue(
                file: file, row: index / width, column: index % width,
                found: "\(values[index])", byteOffset: dataOffset + index * elementSize, line: nil)
        }
        self.init(rows: rows, width: width, storage: .floats(values))
    }
}
