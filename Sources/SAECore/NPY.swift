// NumPy's .npy format (versions 1.0, 2.0 and 3.0).
//
// Layout: the magic "\x93NUMPY", a major and a minor version byte, the header length
// (little-endian UInt16 for version 1, UInt32 for 2 and 3), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), } padded with spaces and a
// newline, then the array's bytes.

import Foundation

/// Reads NumPy `.npy` files into datasets.
package enum NPY {
    /// Loads a numeric array saved by `numpy.save`.
    ///
    /// The first axis counts rows and the other axes multiply into the row width; a 1-D array
    /// becomes one row per element, of width 1. `uint8` data stays as bytes (scaled to [0, 1]
    /// when gathered); other dtypes (`f2 f4 f8 i1 i2 i4 i8 u2 u4 u8`, either byte order) become
    /// floats, so 64-bit integers above 2^24 lose precision. Only C-order arrays are read.
    ///
    /// - Throws: `DataError` `.npyBadMagic`, `.npyBadHeader`, `.npyUnsupportedDtype`,
    ///   `.npyFortranOrder`, `.npyTruncated`, `.npyTrailingBytes`, `.empty` (a zero-length
    ///   axis), `.nonFiniteValue` naming the row, or the file errors.
    package static func load(contentsOf url: URL) throws -> Dataset {
        let name = url.lastPathComponent
        let bytes = try AtomicFile.read(contentsOf: url)
        let header = try Header(parsing: bytes, file: name)

        let expected = header.dataOffset + header.dataBytes
        guard bytes.count >= expected else {
            throw DataError.npyTruncated(
                file: name, expectedBytes: expected, foundBytes: bytes.count)
        }
        guard bytes.count == expected else {
            throw DataError.npyTrailingBytes(
                file: name, expectedBytes: expected, foundBytes: bytes.count)
        }

        let data = bytes[header.dataOffset...]
        if header.scalar == .uint8 {
            return Dataset(rows: header.rows, width: header.width, storage: .bytes(Array(data)))
        }
        let values = data.withUnsafeBytes {
            header.scalar.decode($0, isBigEndian: header.isBigEndian)
        }
        guard header.scalar.isFloatingPoint else {
            return Dataset(rows: header.rows, width: header.width, storage: .floats(values))
        }
        return try Dataset(
            rows: header.rows, width: header.width, checkingFinite: values, file: name,
            dataOffset: header.dataOffset, elementSize: header.scalar.byteWidth)
    }
}

extension NPY {
    /// The validated header of an `.npy` file.
    struct Header {
        var scalar: BinaryScalar
        var isBigEndian: Bool
        var rows: Int
        var width: Int
        /// Where the array's bytes start.
        var dataOffset: Int
        /// How many bytes the array occupies.
        var dataBytes: Int

        private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

        /// Parses the magic, version, length and dict at the start of `bytes`.
        init(parsing bytes: [UInt8], file: String) throws {
            guard bytes.starts(with: Self.magic) else { throw DataError.npyBadMagic(file: file) }
            guard bytes.count >= 10 else {
                throw DataError.npyTruncated(file: file, expectedBytes: 10, foundBytes: bytes.count)
            }
            let major = bytes[6]
            let lengthSize: Int
            switch major {
            case 1: lengthSize = 2
            case 2, 3: lengthSize = 4
            default:
                throw DataError.npyBadHeader(
                    file: file, offset: 6,
                    reason: "version \(major).\(bytes[7]) is not supported; expected 1, 2 or 3")
            }
            let textStart = 8 + lengthSize
            guard bytes.count >= textStart else {
                throw DataError.npyTruncated(
                    file: file, expectedBytes: textStart, foundBytes: bytes.count)
            }
            let textLength = bytes[8..<textStart].reversed().reduce(0) { $0 << 8 | Int($1) }
            dataOffset = textStart + textLength
            guard bytes.count >= dataOffset else {
                throw DataError.npyTruncated(
                    file: file, expectedBytes: dataOffset, foundBytes: bytes.count)
            }

            var parser = DictParser(bytes: bytes, position: textStart, end: dataOffset, file: file)
            let fields = try parser.parseDict()
            (scalar, isBigEndian) = try Self.dtype(fields, at: textStart, file: file)
            if case .bool(true) = fields["fortran_order"]?.value {
                throw DataError.npyFortranOrder(file: file)
            }
            guard case .bool = fields["fortran_order"]?.value else {
                throw Self.missing("fortran_order", "True or False", fields, textStart, file)
            }
            (rows, width) = try Self.shape(fields, at: textStart, file: file)
            dataBytes = rows * width * scalar.byteWidth  // cannot overflow: checked in shape
            if dataBytes > Int.max - dataOffset {
                throw DataError.npyBadHeader(
                    file: file, offset: textStart, reason: "the shape is too large")
            }
        }

        /// Maps `descr` to an element type and byte order.
        private static func dtype(
            _ fields: [String: DictParser.Field], at start: Int, file: String
        ) throws -> (BinaryScalar, isBigEndian: Bool) {
            guard case .string(let descr) = fields["descr"]?.value else {
                throw missing("descr", "a dtype string", fields, start, file)
            }
            let types: [String: BinaryScalar] = [
                "f2": .float16, "f4": .float32, "f8": .float64,
                "i1": .int8, "i2": .int16, "i4": .int32, "i8": .int64,
                "u1": .uint8, "u2": .uint16, "u4": .uint32, "u8": .uint64,
            ]
            guard let order = descr.first, "<>|=".contains(order),
                let scalar = types[String(descr.dropFirst())]
            else {
                throw DataError.npyUnsupportedDtype(file: file, found: "'\(descr)'")
            }
            // '|' (order irrelevant) and '=' (native) are little-endian on the hosts we run on.
            return (scalar, order == ">")
        }

        /// Reads `shape` as rows and a flattened width, rejecting empty and oversized shapes.
        private static func shape(
            _ fields: [String: DictParser.Field], at start: Int, file: String
        ) throws -> (rows: Int, width: Int) {
            guard let field = fields["shape"], case .integers(let sizes) = field.value else {
                throw missing("shape", "a tuple of sizes", fields, start, file)
            }
            guard let rows = sizes.first else {
                throw DataError.npyBadHeader(
                    file: file, offset: field.offset,
                    reason: "shape () is a single value; expected at least one axis")
            }
            guard !sizes.contains(0) else { throw DataError.empty(file: file) }
            var elements = 1
            for size in sizes {
                let (product, overflow) = elements.multipliedReportingOverflow(by: size)
                guard !overflow, product <= Int.max / 8 else {
                    throw DataError.npyBadHeader(
                        file: file, offset: field.offset, reason: "shape \(sizes) is too large")
                }
                elements = product
            }
            return (rows, elements / rows)
        }

        private static func missing(
            _ key: String, _ expected: String, _ fields: [String: DictParser.Field], _ start: Int,
            _ file: String
        ) -> DataError {
            guard let field = fields[key] else {
                return .npyBadHeader(file: file, offset: start, reason: "no '\(key)' key")
            }
            return .npyBadHeader(
                file: file, offset: field.offset, reason: "'\(key)' is not \(expected)")
        }
    }
}

extension NPY {
    /// Parses the restricted Python dict literal of an `.npy` header.
    ///
    /// Keys are quoted strings; values are quoted strings, `True`/`False`, or tuples of
    /// non-negative integers. Anything else (a list for a structured dtype, say) is kept as
    /// `.other` so the caller can say which key was unsupported.
    struct DictParser {
        enum Value: Equatable {
            case string(String)
            case bool(Bool)
            case integers([Int])
            case other
        }

        /// A value and the file offset where it starts.
        struct Field {
            var value: Value
            var offset: Int
        }

        let bytes: [UInt8]
        var position: Int
        let end: Int
        let file: String

        /// Parses `{key: value, ...}` up to the closing brace.
        mutating func parseDict() throws -> [String: Field] {
            try expect(UInt8(ascii: "{"))
            var fields: [String: Field] = [:]
            while true {
                skipSpace()
                if peek() == UInt8(ascii: "}") { break }
                let key = try parseString()
                skipSpace()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                let offset = position
                fields[key] = Field(value: try parseValue(), offset: offset)
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    position += 1
                } else if peek() != UInt8(ascii: "}") {
                    throw failure("expected ',' or '}' after the value of '\(key)'")
                }
            }
            return fields
        }

        private mutating func parseValue() throws -> Value {
            switch peek() {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                return .string(try parseString())
            case UInt8(ascii: "("):
                return .integers(try parseTuple())
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                try skipBracketed()
                return .other
            default:
                if consume("True") { return .bool(true) }
                if consume("False") { return .bool(false) }
                throw failure("expected a string, True, False or a tuple")
            }
        }

        private mutating func parseString() throws -> String {
            guard let quote = peek(), quote == UInt8(ascii: "'") || quote == UInt8(ascii: "\"")
            else {
                throw failure("expected a quoted string")
            }
            let start = position + 1
            guard let close = bytes[start..<end].firstIndex(of: quote) else {
                throw failure("unterminated string")
            }
            position = close + 1
            return String(decoding: bytes[start..<close], as: UTF8.self)
        }

        /// Parses `(a, b, ...)` of non-negative integers, allowing a trailing comma and `L` suffixes.
        private mutating func parseTuple() throws -> [Int] {
            try expect(UInt8(ascii: "("))
            var sizes: [Int] = []
            while true {
                skipSpace()
                if peek() == UInt8(ascii: ")") {
                    position += 1
                    return sizes
                }
                var size = 0
                let digitsStart = position
                while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                    let (next, overflow) = size.multipliedReportingOverflow(by: 10)
                    guard !overflow, next <= Int.max - 9 else { throw failure("size is too large") }
                    size = next + Int(byte - UInt8(ascii: "0"))
                    position += 1
                }
                guard position > digitsStart else {
                    throw failure("expected a non-negative integer")
                }
                if peek() == UInt8(ascii: "L") { position += 1 }
                sizes.append(size)
                skipSpace()
                if peek() == UInt8(ascii: ",") {
                    position += 1
                } else if peek() != UInt8(ascii: ")") {
                    throw failure("expected ',' or ')' in the shape")
                }
            }
        }

        private mutating func skipBracketed() throws {
            var depth = 0
            while let byte = peek() {
                position += 1
                if byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") { depth += 1 }
                if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") { depth -= 1 }
                if depth == 0 { return }
            }
            throw failure("unbalanced brackets")
        }

        private func peek() -> UInt8? {
            position < end ? bytes[position] : nil
        }

        private mutating func skipSpace() {
            while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D {
                position += 1
            }
        }

        private mutating func expect(_ byte: UInt8) throws {
            guard peek() == byte else {
                throw failure("expected '\(Character(Unicode.Scalar(byte)))'")
            }
            position += 1
        }

        private mutating func consume(_ word: String) -> Bool {
            let utf8 = Array(word.utf8)
            guard position + utf8.count <= end,
                Array(bytes[position..<position + utf8.count]) == utf8
            else { return false }
            position += utf8.count
            return true
        }

        private func failure(_ reason: String) -> DataError {
            .npyBadHeader(file: file, offset: position, reason: reason)
        }
    }
}
