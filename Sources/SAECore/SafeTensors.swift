// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON naming each
// tensor's dtype, shape and byte range, then the tensors' bytes back to back.
//
//   {"W_enc": {"dtype": "F32", "shape": [784, 64], "data_offsets": [0, 200704]}, ...,
//    "__metadata__": {"activation": "relu"}}
//
// Offsets count from the end of the header. The header may be padded with spaces, and the
// tensors must cover the data exactly, without gaps or overlaps.

import Foundation

/// Reads and writes safetensors files of float tensors.
package enum SafeTensors {
    /// A named tensor of floats, row-major.
    package struct Tensor: Sendable, Equatable {
        package var name: String
        /// Sizes of each axis; the product is `values.count` (1 for an empty shape, a scalar).
        package var shape: [Int]
        package var values: [Float]

        package init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// Writes `tensors` as F32, in the given order, with string `metadata`, atomically.
    ///
    /// The header's keys appear in the given order after `__metadata__` (omitted when
    /// `metadata` is empty), and the header is padded with spaces so the data starts on an
    /// 8-byte boundary. The previous file at `url`, if any, survives any failure.
    ///
    /// - Throws: `DataError.safetensorsInvalid` for a duplicate or reserved name or a shape
    ///   that does not match its values, before anything is written; `.writeFailed`.
    package static func write(
        _ tensors: [Tensor], metadata: [String: String] = [:], to url: URL
    ) throws {
        let name = url.lastPathComponent
        try validate(tensors, file: name)
        let header = Array(headerJSON(for: tensors, metadata: metadata).utf8)
        var length = UInt64(header.count).littleEndian

        try AtomicFile.write(to: url) { writer in
            try withUnsafeBytes(of: &length) { try writer.write($0) }
            try writer.write(header)
            for tensor in tensors {
                #if _endian(big)
                    let stored = tensor.values.map { $0.bitPattern.littleEndian }
                #else
                    let stored = tensor.values
                #endif
                try stored.withUnsafeBytes { try writer.write($0) }
            }
        }
    }

    /// Checks names and shapes before writing.
    private static func validate(_ tensors: [Tensor], file: String) throws {
        var names: Set<String> = []
        for tensor in tensors {
            guard tensor.name != "__metadata__", names.insert(tensor.name).inserted else {
                throw DataError.safetensorsInvalid(
                    file: file, reason: "tensor name '\(tensor.name)' is reserved or repeated")
            }
            guard tensor.shape.allSatisfy({ $0 >= 0 }),
                tensor.shape.reduce(1, *) == tensor.values.count
            else {
                throw DataError.safetensorsInvalid(
                    file: file,
                    reason: "tensor '\(tensor.name)' has shape \(tensor.shape) but "
                        + "\(tensor.values.count) values")
            }
        }
    }

    /// The JSON header, padded with spaces so that 8 + its length is a multiple of 8.
    private static func headerJSON(for tensors: [Tensor], metadata: [String: String]) -> String {
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }
                .map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in tensors {
            let end = offset + 4 * tensor.values.count
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append(
                "\(jsonString(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],"
                    + "\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        let json = "{\(entries.joined(separator: ","))}"
        let padding = (8 - json.utf8.count % 8) % 8
        return json + String(repeating: " ", count: padding)
    }

    /// `text` as a quoted JSON string.
    private static func jsonString(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }
}

// MARK: - Reading

extension SafeTensors {
    /// Reads every tensor and the string metadata of a safetensors file.
    ///
    /// F32 tensors are read exactly; F16, BF16 and F64 are converted to `Float` (F64 values
    /// beyond `Float`'s range become infinite). Values are not checked for NaN or infinity.
    ///
    /// - Throws: `DataError.safetensorsInvalid` when the header length runs past the file, the
    ///   header is not the expected JSON, a dtype is not one of the four, a shape does not match
    ///   its byte range, or the byte ranges fall outside the data, overlap or leave gaps; or the
    ///   file errors.
    package static func read(
        contentsOf url: URL
    ) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let name = url.lastPathComponent
        let bytes = try AtomicFile.read(contentsOf: url)
        guard bytes.count >= 8 else {
            throw DataError.safetensorsInvalid(
                file: name,
                reason:
                    "the file is \(bytes.count) bytes; expected at least 8 for the header length")
        }
        let headerLength = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw DataError.safetensorsInvalid(
                file: name,
                reason: "the header length \(headerLength) at byte 0 runs past the end of the "
                    + "file (\(bytes.count - 8) bytes follow it)")
        }

        let dataStart = 8 + Int(headerLength)
        let header = try Header.decode(bytes[8..<dataStart], file: name)
        let layouts = try header.tensors.map { try Layout($0.name, $0.entry, file: name) }
        try checkCoverage(layouts, dataBytes: bytes.count - dataStart, file: name)

        var tensors: [String: Tensor] = [:]
        for layout in layouts {
            let range = dataStart + layout.begin..<dataStart + layout.end
            let values = bytes[range].withUnsafeBytes {
                layout.scalar.decode($0, isBigEndian: false)
            }
            tensors[layout.name] = Tensor(name: layout.name, shape: layout.shape, values: values)
        }
        return (tensors, header.metadata)
    }

    /// Checks that the tensors' byte ranges tile `0..<dataBytes` without gaps or overlaps.
    private static func checkCoverage(_ layouts: [Layout], dataBytes: Int, file: String) throws {
        var cursor = 0
        var previous = ""
        for layout in layouts.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard layout.end <= dataBytes else {
                throw DataError.safetensorsInvalid(
                    file: file,
                    reason: "tensor '\(layout.name)' data_offsets [\(layout.begin), \(layout.end)] "
                        + "run past the \(dataBytes) data bytes")
            }
            guard layout.begin >= cursor else {
                throw DataError.safetensorsInvalid(
                    file: file,
                    reason: "tensor '\(layout.name)' data_offsets [\(layout.begin), \(layout.end)] "
                        + "overlap tensor '\(previous)', which ends at \(cursor)")
            }
            guard layout.begin == cursor else { throw gap(cursor, layout.begin, file) }
            cursor = layout.end
            previous = layout.name
        }
        guard cursor == dataBytes else { throw gap(cursor, dataBytes, file) }
    }

    private static func gap(_ begin: Int, _ end: Int, _ file: String) -> DataError {
        .safetensorsInvalid(
            file: file, reason: "data bytes \(begin)..<\(end) belong to no tensor")
    }

    /// The JSON header: tensor entries in file order, and the optional metadata.
    private struct Header: Decodable {
        struct Entry: Decodable {
            var dtype: String
            var shape: [Int]
            var dataOffsets: [Int]

            enum CodingKeys: String, CodingKey {
                case dtype, shape
                case dataOffsets = "data_offsets"
            }
        }

        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        var tensors: [(name: String, entry: Entry)] = []
        var metadata: [String: String] = [:]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    tensors.append((key.stringValue, try container.decode(Entry.self, forKey: key)))
                }
            }
        }

        /// Decodes the header bytes, turning decoding failures into a located reason.
        static func decode(_ bytes: ArraySlice<UInt8>, file: String) throws -> Header {
            do {
                return try JSONDecoder().decode(Header.self, from: Data(bytes))
            } catch let error as DecodingError {
                throw DataError.safetensorsInvalid(file: file, reason: describe(error))
            }
        }

        private static func describe(_ error: DecodingError) -> String {
            let context: DecodingError.Context
            switch error {
            case .dataCorrupted(let found) where found.codingPath.isEmpty:
                return "the header (from byte 8) is not valid JSON"
            case .typeMismatch(_, let found), .valueNotFound(_, let found),
                .keyNotFound(_, let found), .dataCorrupted(let found):
                context = found
            @unknown default:
                return "the header (from byte 8) is not the expected JSON"
            }
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            guard !path.isEmpty else { return "the header (from byte 8) is not a JSON object" }
            return "header entry '\(path)' is malformed (\(context.debugDescription))"
        }
    }

    /// One tensor's validated dtype, shape and byte range.
    private struct Layout {
        var name: String
        var scalar: BinaryScalar
        var shape: [Int]
        var begin: Int
        var end: Int

        private static let dtypes: [String: BinaryScalar] = [
            "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64,
        ]

        init(_ name: String, _ entry: Header.Entry, file: String) throws {
            func invalid(_ reason: String) -> DataError {
                .safetensorsInvalid(file: file, reason: "tensor '\(name)' \(reason)")
            }
            guard let scalar = Self.dtypes[entry.dtype] else {
                throw invalid("has dtype \(entry.dtype); expected F32, F16, BF16 or F64")
            }
            var bytes = scalar.byteWidth
            for size in entry.shape {
                let (product, overflow) = bytes.multipliedReportingOverflow(by: size)
                guard size >= 0, !overflow else { throw invalid("has a bad shape \(entry.shape)") }
                bytes = product
            }
            guard entry.dataOffsets.count == 2 else {
                throw invalid("has \(entry.dataOffsets.count) data_offsets; expected [begin, end]")
            }
            let (begin, end) = (entry.dataOffsets[0], entry.dataOffsets[1])
            guard begin >= 0, begin <= end else {
                throw invalid("has data_offsets [\(begin), \(end)]; expected 0 ≤ begin ≤ end")
            }
            guard end - begin == bytes else {
                throw invalid(
                    "has shape \(entry.shape) of \(entry.dtype), needing \(bytes) bytes, but "
                        + "data_offsets [\(begin), \(end)] hold \(end - begin)")
            }
            self.name = name
            self.scalar = scalar
            self.shape = entry.shape
            self.begin = begin
            self.end = end
        }
    }
}
