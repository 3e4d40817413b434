import Foundation
import SAECore
import Testing

/// A fresh directory under the system's temporary directory.
private func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("saed-safetensors-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Assembles a safetensors file by hand: length, header padded with spaces to 8 bytes, data.
private func safetensorsFile(header: String, data: [UInt8]) -> [UInt8] {
    var json = Array(header.utf8)
    json += Array(repeating: 0x20, count: (8 - json.count % 8) % 8)
    let length = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
    return length + json + data
}

/// The little-endian bytes of each value.
private func littleEndianBytes<Value: FixedWidthInteger>(_ values: [Value]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

/// A header-and-data pair that must be rejected, with words its reason must contain.
struct BrokenSafeTensors: Sendable, CustomTestStringConvertible {
    var label: String
    var bytes: [UInt8]
    var reason: String
    var testDescription: String { label }

    private static func entry(_ name: String, _ dtype: String, _ shape: String, _ offsets: String)
        -> String
    {
        "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}"
    }

    private static func file(_ entries: [String], data bytes: Int) -> [UInt8] {
        let header = "{" + entries.joined(separator: ",") + "}"
        return safetensorsFile(header: header, data: Array(repeating: 0, count: bytes))
    }

    static let all: [BrokenSafeTensors] = [
        BrokenSafeTensors(
            label: "shorter than the length field", bytes: [1, 0, 0, 0, 0],
            reason: "the file is 5 bytes; expected at least 8"),
        BrokenSafeTensors(
            label: "header length past the end",
            bytes: littleEndianBytes([UInt64(1000)]) + Array("{}      ".utf8),
            reason: "header length 1000 at byte 0 runs past the end of the file (8 bytes"),
        BrokenSafeTensors(
            label: "header not JSON", bytes: safetensorsFile(header: "{\"a\": ", data: []),
            reason: "is not valid JSON"),
        BrokenSafeTensors(
            label: "header not an object", bytes: safetensorsFile(header: "[1, 2]", data: []),
            reason: "is not a JSON object"),
        BrokenSafeTensors(
            label: "unsupported dtype", bytes: file([entry("w", "I32", "[1]", "[0,4]")], data: 4),
            reason: "tensor 'w' has dtype I32; expected F32, F16, BF16 or F64"),
        BrokenSafeTensors(
            label: "shape against byte count",
            bytes: file([entry("w", "F32", "[3]", "[0,8]")], data: 8),
            reason:
                "tensor 'w' has shape [3] of F32, needing 12 bytes, but data_offsets [0, 8] hold 8"),
        BrokenSafeTensors(
            label: "negative shape", bytes: file([entry("w", "F32", "[-1]", "[0,0]")], data: 0),
            reason: "tensor 'w' has a bad shape [-1]"),
        BrokenSafeTensors(
            label: "three offsets", bytes: file([entry("w", "F32", "[1]", "[0,4,8]")], data: 4),
            reason: "tensor 'w' has 3 data_offsets"),
        BrokenSafeTensors(
            label: "begin after end", bytes: file([entry("w", "F32", "[1]", "[8,4]")], data: 8),
            reason: "data_offsets [8, 4]; expected 0 ≤ begin ≤ end"),
        BrokenSafeTensors(
            label: "offsets past the data",
            bytes: file([entry("w", "F32", "[2]", "[0,8]")], data: 4),
            reason: "tensor 'w' data_offsets [0, 8] run past the 4 data bytes"),
        BrokenSafeTensors(
            label: "overlapping tensors",
            bytes: file(
                [entry("a", "F32", "[2]", "[0,8]"), entry("b", "F32", "[2]", "[4,12]")], data: 12),
            reason: "tensor 'b' data_offsets [4, 12] overlap tensor 'a', which ends at 8"),
        BrokenSafeTensors(
            label: "gap between tensors",
            bytes: file(
                [entry("a", "F32", "[1]", "[0,4]"), entry("b", "F32", "[1]", "[8,12]")], data: 12),
            reason: "data bytes 4..<8 belong to no tensor"),
        BrokenSafeTensors(
            label: "unused bytes at the end",
            bytes: file([entry("a", "F32", "[1]", "[0,4]")], data: 8),
            reason: "data bytes 4..<8 belong to no tensor"),
        BrokenSafeTensors(
            label: "metadata value not a string",
            bytes: safetensorsFile(header: "{\"__metadata__\":{\"k\":1}}", data: []),
            reason: "header entry '__metadata__.k' is malformed"),
        BrokenSafeTensors(
            label: "offsets not integers",
            bytes: file(
                ["\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0-4\"}"], data: 4),
            reason: "header entry 'w.data_offsets' is malformed"),
    ]
}

struct SafeTensorsTests {
    @Test func roundTripIsBitExactAndKeepsMetadata() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let odd: [Float] = [
            -0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .infinity,
            Float(bitPattern: 0x7FC0_0001), 0.1,
        ]
        let tensors = [
            SafeTensors.Tensor(name: "odd values", shape: [2, 3], values: odd),
            SafeTensors.Tensor(name: "b\"quoted\\", shape: [4], values: [1, 2, 3, 4]),
            SafeTensors.Tensor(name: "scalar", shape: [], values: [42]),
            SafeTensors.Tensor(name: "empty", shape: [0, 5], values: []),
        ]
        let metadata = ["note": "line\nbreak \"q\" é\u{1}", "activation": "relu"]
        let url = directory.appendingPathComponent("t.safetensors")
        try SafeTensors.write(tensors, metadata: metadata, to: url)

        let (loaded, loadedMetadata) = try SafeTensors.read(contentsOf: url)
        #expect(loadedMetadata == metadata)
        #expect(Set(loaded.keys) == Set(tensors.map(\.name)))
        for tensor in tensors {
            let read = try #require(loaded[tensor.name])
            #expect(read.shape == tensor.shape, "\(tensor.name)")
            #expect(
                read.values.map(\.bitPattern) == tensor.values.map(\.bitPattern), "\(tensor.name)")
        }
    }

    @Test func writtenFileFollowsTheSpecLayout() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("layout.safetensors")
        try SafeTensors.write(
            [
                SafeTensors.Tensor(name: "a", shape: [1, 2], values: [1.5, -2]),
                SafeTensors.Tensor(name: "b", shape: [1], values: [0.25]),
            ],
            metadata: ["k": "v"], to: url)

        let bytes = try [UInt8](Data(contentsOf: url))
        let length = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect((8 + length) % 8 == 0)
        #expect(bytes.count == 8 + length + 12)
        let header = try #require(String(bytes: bytes[8..<8 + length], encoding: .utf8))
        let json = header.trimmingCharacters(in: .whitespaces)
        #expect(
            json == "{\"__metadata__\":{\"k\":\"v\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}")
        let data = Array(bytes[(8 + length)...])
        #expect(data == littleEndianBytes([Float(1.5), -2, 0.25].map(\.bitPattern)))
    }

    @Test func handCraftedFileWithEveryDtypeParses() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Header order differs from data order on purpose.
        let header = """
            {"scalar": {"dtype": "F32", "shape": [], "data_offsets": [16, 20]},
             "__metadata__": {"source": "hand"},
             "half": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]},
             "brain": {"dtype": "BF16", "shape": [1, 2], "data_offsets": [4, 8]},
             "double": {"dtype": "F64", "shape": [1], "data_offsets": [8, 16]},
             "none": {"dtype": "F32", "shape": [0], "data_offsets": [20, 20]}}
            """
        let data =
            littleEndianBytes([UInt16(0x3C00), 0xC000])  // F16 1, -2
            + littleEndianBytes([UInt16(0x3F00), 0xBF80])  // BF16 0.5, -1
            + littleEndianBytes([UInt64(0x3FD0_0000_0000_0000)])  // F64 0.25
            + littleEndianBytes([UInt32(0x4040_0000)])  // F32 3
        let url = directory.appendingPathComponent("hand.safetensors")
        try Data(safetensorsFile(header: header, data: data)).write(to: url)

        let (tensors, metadata) = try SafeTensors.read(contentsOf: url)
        #expect(metadata == ["source": "hand"])
        #expect(tensors["half"] == SafeTensors.Tensor(name: "half", shape: [2], values: [1, -2]))
        #expect(
            tensors["brain"]
                == SafeTensors.Tensor(name: "brain", shape: [1, 2], values: [0.5, -1]))
        #expect(tensors["double"] == SafeTensors.Tensor(name: "double", shape: [1], values: [0.25]))
        #expect(tensors["scalar"] == SafeTensors.Tensor(name: "scalar", shape: [], values: [3]))
        #expect(tensors["none"] == SafeTensors.Tensor(name: "none", shape: [0], values: []))
    }

    @Test(arguments: BrokenSafeTensors.all)
    func brokenFileIsRejectedWithAReason(_ broken: BrokenSafeTensors) throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("broken.safetensors")
        try Data(broken.bytes).write(to: url)

        let error = #expect(throws: DataError.self) { try SafeTensors.read(contentsOf: url) }
        #expect(error?.code == "safetensors_invalid")
        #expect(error?.message.hasPrefix("broken.safetensors: invalid safetensors file: ") == true)
        #expect(error?.message.contains(broken.reason) == true, "\(String(describing: error))")
    }

    @Test func writeRejectsBadTensorsBeforeTouchingTheFile() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("w.safetensors")
        let good = SafeTensors.Tensor(name: "w", shape: [2], values: [1, 2])
        try SafeTensors.write([good], to: url)

        let mismatched = SafeTensors.Tensor(name: "x", shape: [3], values: [1, 2])
        let shapeError = #expect(throws: DataError.self) {
            try SafeTensors.write([mismatched], to: url)
        }
        #expect(shapeError?.message.contains("tensor 'x' has shape [3] but 2 values") == true)
        let duplicate = #expect(throws: DataError.self) {
            try SafeTensors.write([good, good], to: url)
        }
        #expect(duplicate?.code == "safetensors_invalid")

        #expect(try SafeTensors.read(contentsOf: url).tensors == ["w": good])
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["w.safetensors"]
        )
    }
}
