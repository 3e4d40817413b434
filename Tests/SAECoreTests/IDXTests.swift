import Foundation
import SAECore
import Testing

/// A fresh directory under the system's temporary directory.
private func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("saed-idx-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `bytes` to `name` in `directory` and returns its URL.
private func writeFile(_ bytes: [UInt8], named name: String, in directory: URL) throws -> URL {
    let url = directory.appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return url
}

/// The floats of a dataset, or nil when it holds bytes.
private func floats(_ dataset: Dataset) -> [Float]? {
    if case .floats(let values) = dataset.storage { return values }
    return nil
}

/// The bytes of a dataset, or nil when it holds floats.
private func bytes(_ dataset: Dataset) -> [UInt8]? {
    if case .bytes(let values) = dataset.storage { return values }
    return nil
}

/// A file that should fail to load, and how.
struct IDXCorruption: Sendable, CustomTestStringConvertible {
    var label: String
    var bytes: [UInt8]
    var code: String
    /// Text the message must contain besides the file name, such as "byte 8".
    var location: String

    var testDescription: String { label }

    /// Header of a 2×3 ubyte file, 12 bytes.
    static let header2x3: [UInt8] = [0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3]

    static let all: [IDXCorruption] = [
        IDXCorruption(
            label: "data cut short", bytes: header2x3 + [1, 2, 3, 4], code: "idx_truncated",
            location: "byte 16; expected 18 bytes, found 16"),
        IDXCorruption(
            label: "header cut short", bytes: [0, 0, 0x08, 2, 0, 0, 0], code: "idx_truncated",
            location: "byte 7; expected 12 bytes"),
        IDXCorruption(
            label: "empty file", bytes: [], code: "idx_truncated", location: "byte 0"),
        IDXCorruption(
            label: "bad magic", bytes: [0x01, 0x00, 0x08, 1, 0, 0, 0, 1, 7], code: "idx_bad_magic",
            location: "offset 0, found 01 00"),
        IDXCorruption(
            label: "unknown type", bytes: [0, 0, 0x0A, 1, 0, 0, 0, 1, 7], code: "idx_unknown_type",
            location: "byte 2"),
        IDXCorruption(
            label: "no dimensions", bytes: [0, 0, 0x08, 0], code: "idx_no_dimensions",
            location: "byte 3"),
        IDXCorruption(
            label: "zero dimension", bytes: [0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 0],
            code: "idx_zero_dimension", location: "dimension 1 at byte 8"),
        IDXCorruption(
            label: "dimensions overflow",
            bytes: [0, 0, 0x0E, 3] + Array(repeating: 0xFF, count: 12),
            code: "idx_too_large", location: "4294967295×4294967295×4294967295"),
        IDXCorruption(
            label: "trailing bytes", bytes: header2x3 + [1, 2, 3, 4, 5, 6, 7, 8, 9],
            code: "idx_trailing_bytes", location: "byte 18; expected 18 bytes, found 21"),
        IDXCorruption(
            // Row 1, column 0 of a 2×2 float32 file is NaN (0x7FC00000).
            label: "NaN in float data",
            bytes: [0, 0, 0x0D, 2, 0, 0, 0, 2, 0, 0, 0, 2]
                + [0x3F, 0x80, 0, 0, 0x3F, 0x80, 0, 0, 0x7F, 0xC0, 0, 0, 0x3F, 0x80, 0, 0],
            code: "non_finite_value", location: "row 1, column 0 (byte 20)"),
    ]
}

struct IDXTests {
    @Test func ubyteFileLoadsAsExactBytesWithRowsFromTheFirstDimension() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pixels = (0..<12).map { Double($0 * 20) }
        let encoded = IDX.encode(pixels, as: .ubyte, shape: [3, 2, 2])
        #expect(Array(encoded.prefix(16)) == [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2])
        #expect(encoded.count == 16 + 12)

        let url = try writeFile(encoded, named: "images.idx", in: directory)
        let dataset = try IDX.load(contentsOf: url)
        #expect(dataset.rows == 3)
        #expect(dataset.width == 4)
        #expect(bytes(dataset) == (0..<12).map { UInt8($0 * 20) })
    }

    @Test func gzipIsDetectedByMagicAndDecodesToTheSameBytes() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pixels = (0..<600).map { Double($0 % 256) }
        // No .gz in the name: detection must come from the 1f 8b magic.
        let url = directory.appendingPathComponent("images.idx")
        try IDX.write(pixels, as: .ubyte, shape: [20, 30], to: url, compressed: true)
        let stored = try [UInt8](Data(contentsOf: url))
        #expect(Array(stored.prefix(2)) == [0x1F, 0x8B])

        let dataset = try IDX.load(contentsOf: url)
        #expect(dataset.rows == 20)
        #expect(dataset.width == 30)
        #expect(bytes(dataset) == pixels.map { UInt8($0) })
    }

    @Test func concatenatedGzipMembersDecodeAsOneStream() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let encoded = IDX.encode((0..<40).map { Double($0) }, as: .ubyte, shape: [4, 10])
        let members = IDX.gzip(Array(encoded[..<9])) + IDX.gzip(Array(encoded[9...]))
        let url = try writeFile(members, named: "two-members.gz", in: directory)

        let dataset = try IDX.load(contentsOf: url)
        #expect(dataset.rows == 4)
        #expect(bytes(dataset) == (0..<40).map { UInt8($0) })
    }

    @Test func signedAndWideIntegersConvertFromBigEndian() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Hand-built files, so the reader is checked independently of the writer.
        let sbyte: [UInt8] = [0, 0, 0x09, 1, 0, 0, 0, 3, 0x80, 0xFF, 0x7F]
        let int16: [UInt8] = [0, 0, 0x0B, 1, 0, 0, 0, 3, 0x80, 0x00, 0xFF, 0xFF, 0x01, 0x02]
        let int32: [UInt8] =
            [0, 0, 0x0C, 2, 0, 0, 0, 2, 0, 0, 0, 1]
            + [0xFF, 0xFE, 0x79, 0x60, 0x00, 0x01, 0x00, 0x00]

        let signed = try IDX.load(contentsOf: writeFile(sbyte, named: "s.idx", in: directory))
        #expect(floats(signed) == [-128, -1, 127])
        #expect(signed.rows == 3 && signed.width == 1)
        let short = try IDX.load(contentsOf: writeFile(int16, named: "h.idx", in: directory))
        #expect(floats(short) == [-32768, -1, 258])
        let long = try IDX.load(contentsOf: writeFile(int32, named: "i.idx", in: directory))
        #expect(floats(long) == [-100_000, 65536])
        #expect(long.rows == 2 && long.width == 1)
    }

    @Test func floatTypesConvertFromBigEndianExactly() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // 1.5 = 3FC00000, -0.1 ≈ BDCCCCCD as float32; -2.25 = C002000000000000 as float64.
        let float32: [UInt8] =
            [0, 0, 0x0D, 2, 0, 0, 0, 1, 0, 0, 0, 2] + [0x3F, 0xC0, 0, 0, 0xBD, 0xCC, 0xCC, 0xCD]
        let float64: [UInt8] =
            [0, 0, 0x0E, 1, 0, 0, 0, 2]
            + [0xC0, 0x02, 0, 0, 0, 0, 0, 0, 0x3F, 0xB9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A]

        let single = try IDX.load(contentsOf: writeFile(float32, named: "f.idx", in: directory))
        #expect(floats(single) == [1.5, -0.1])
        #expect(single.rows == 1 && single.width == 2)
        let double = try IDX.load(contentsOf: writeFile(float64, named: "d.idx", in: directory))
        #expect(floats(double) == [-2.25, Float(0.1 as Double)])
    }

    @Test func writerRoundTripsEveryElementType() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(IDX.ElementType, [Double])] = [
            (.sbyte, [-128, -3, 0, 5, 127, 9]),
            (.int16, [-32768, -300, 0, 1, 32767, 12]),
            (.int32, [-2_147_483_648, -70000, 0, 1, 2_147_483_647, 5]),
            (.float32, [-1.25, 0, 3.5, 1e-3, -7, 2]),
            (.float64, [-1.25, 0, 3.5, 1e-3, -7, 2]),
        ]
        for (type, values) in cases {
            let url = directory.appendingPathComponent("\(type).idx.gz")
            try IDX.write(values, as: type, shape: [2, 3], to: url, compressed: true)
            let dataset = try IDX.load(contentsOf: url)
            #expect(dataset.rows == 2 && dataset.width == 3, "\(type)")
            #expect(floats(dataset) == values.map { Float($0) }, "\(type)")
        }
    }

    @Test func datasetWriterRoundTripsBytesAndFloats() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let byteSet = Dataset(rows: 2, width: 3, storage: .bytes([0, 1, 2, 253, 254, 255]))
        let floatSet = Dataset(rows: 3, width: 1, storage: .floats([0.5, -0.25, 1e-20]))
        let byteURL = directory.appendingPathComponent("b.idx")
        let floatURL = directory.appendingPathComponent("f.idx.gz")
        try IDX.write(byteSet, to: byteURL)
        try IDX.write(floatSet, to: floatURL, compressed: true)

        let loadedBytes = try IDX.load(contentsOf: byteURL)
        #expect(bytes(loadedBytes) == [0, 1, 2, 253, 254, 255])
        #expect(loadedBytes.rows == 2 && loadedBytes.width == 3)
        #expect(floats(try IDX.load(contentsOf: floatURL)) == [0.5, -0.25, 1e-20])
    }

    @Test(arguments: IDXCorruption.all)
    func corruptRawFileThrowsCodedErrorNamingFileAndPlace(_ corruption: IDXCorruption) throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try writeFile(corruption.bytes, named: "broken.idx", in: directory)

        let error = #expect(throws: DataError.self) { try IDX.load(contentsOf: url) }
        #expect(error?.code == corruption.code)
        #expect(error?.file == "broken.idx")
        // Inspecting without loading finds the very same fault.
        let inspected = #expect(throws: DataError.self) { try IDX.inspect(contentsOf: url) }
        #expect(inspected == error)
        #expect(error?.message.hasPrefix("broken.idx: ") == true, "\(String(describing: error))")
        #expect(
            error?.message.contains(corruption.location) == true, "\(String(describing: error))")
        #expect(error?.message.contains(directory.path) == false)
    }

    @Test(arguments: [false, true])
    func inspectionReadsPastOneBlockAndFindsWhatLoadingFinds(compressed: Bool) throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // 300 × 1000 float32 is 1.2 MB: more than one 1 MiB inspection block.
        var values = (0..<300_000).map { Double($0 % 977) / 8 }
        let url = directory.appendingPathComponent("big.idx")
        try IDX.write(values, as: .float32, shape: [300, 1000], to: url, compressed: compressed)
        #expect(try IDX.inspect(contentsOf: url) == DatasetShape(rows: 300, width: 1000))

        // A NaN in the second block is found at the same place as by loading.
        values[290 * 1_000 + 7] = .nan
        try IDX.write(values, as: .float32, shape: [300, 1000], to: url, compressed: compressed)
        let loaded = #expect(throws: DataError.self) { try IDX.load(contentsOf: url) }
        let inspected = #expect(throws: DataError.self) { try IDX.inspect(contentsOf: url) }
        #expect(loaded?.code == "non_finite_value")
        #expect(loaded?.message.contains("row 290, column 7") == true, "\(String(describing: loaded))")
        #expect(inspected == loaded)
    }

    @Test func corruptIDXInsideValidGzipReportsDecompressedOffsets() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let truncated = IDXCorruption.header2x3 + [1, 2, 3, 4]
        let url = try writeFile(IDX.gzip(truncated), named: "short.idx.gz", in: directory)

        let error = #expect(throws: DataError.self) { try IDX.load(contentsOf: url) }
        #expect(error == .idxTruncated(file: "short.idx.gz", expectedBytes: 18, foundBytes: 16))
    }

    /// A gzip file whose header declares little but which inflates to much more is refused
    /// once a megabyte past the data is seen, not after inflating all of it: 64 MiB of zeros
    /// after the data is reported as "at least" 1 MiB and a byte, by load and inspect alike.
    /// A plain file's extra bytes are still counted exactly.
    @Test func trailingInflatedBytesAreCountedOnlyToAMegabyte() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let declared = IDXCorruption.header2x3 + [1, 2, 3, 4, 5, 6]
        let url = try writeFile(IDX.gzip(declared + [UInt8](repeating: 0, count: 64 << 20)),
                                named: "bomb.idx.gz", in: directory)
        let expected = DataError.idxTrailingBytesAtLeast(
            file: "bomb.idx.gz", expectedBytes: 18, foundBytes: 18 + (1 << 20) + 1)
        #expect(throws: expected) { try IDX.load(contentsOf: url) }
        #expect(throws: expected) { try IDX.inspect(contentsOf: url) }
        #expect(expected.code == "idx_trailing_bytes")
        #expect(expected.message.hasSuffix("expected 18 bytes, found at least 1048595."))

        let plain = try writeFile(declared + [UInt8](repeating: 0, count: 3 << 20), named: "long.idx",
                                  in: directory)
        #expect(throws: DataError.idxTrailingBytes(file: "long.idx", expectedBytes: 18, foundBytes: 18 + (3 << 20))) {
            try IDX.inspect(contentsOf: plain)
        }
    }

    @Test func damagedGzipThrowsGzipCorruptWithCompressedOffset() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let encoded = IDX.encode((0..<300).map { Double($0 % 7) }, as: .ubyte, shape: [10, 30])
        let good = IDX.gzip(encoded)

        // The first deflate byte (after the 10-byte gzip header) set to a reserved block type.
        var badBlock = good
        badBlock[10] = 0xFF
        // A wrong CRC-32 in the trailer.
        var badCRC = good
        badCRC[good.count - 8] ^= 0xFF
        // The last 5 bytes of the trailer missing.
        let cut = Array(good.dropLast(5))
        // Stray bytes after the end of the gzip member.
        let stray = good + [0x00, 0x01, 0x02]

        let cases: [([UInt8], ClosedRange<Int>, String)] = [
            (badBlock, 10...12, "invalid block type"),
            (badCRC, good.count - 8...good.count, "incorrect data check"),
            (cut, cut.count - 4...cut.count, "ends before the end of the stream"),
            (stray, good.count...good.count, "unexpected bytes after the end"),
        ]
        for (index, (bytes, offsets, reason)) in cases.enumerated() {
            let url = try writeFile(bytes, named: "bad\(index).gz", in: directory)
            let error = #expect(throws: DataError.self) { try IDX.load(contentsOf: url) }
            guard case .gzipCorrupt(let file, let offset, _) = error else {
                Issue.record(
                    "case \(index): expected gzipCorrupt, got \(String(describing: error))")
                continue
            }
            #expect(error?.code == "gzip_corrupt")
            #expect(file == "bad\(index).gz")
            #expect(offsets.contains(offset), "case \(index): offset \(offset)")
            #expect(error?.message.contains("compressed byte \(offset)") == true)
            #expect(error?.message.contains(reason) == true, "\(String(describing: error))")
        }
    }

    @Test func missingFileThrowsFileNotFoundWithoutThePath() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("saed-no-such-dir-\(UUID().uuidString)/train.idx")
        let error = #expect(throws: DataError.self) { try IDX.load(contentsOf: url) }
        #expect(error == .fileNotFound(file: "train.idx"))
        #expect(error?.code == "file_not_found")
        #expect(error?.message == "train.idx: no such file.")
    }

    static let fashionDirectory = "/usr/share/datasets/fashion-mnist"

    @Test(
        .enabled(
            if: FileManager.default.fileExists(
                atPath: fashionDirectory + "/train-images-idx3-ubyte.gz"))
    )
    func fashionMNISTTrainingImagesLoadWithKnownChecksum() throws {
        let url = URL(fileURLWithPath: Self.fashionDirectory + "/train-images-idx3-ubyte.gz")
        let clock = ContinuousClock()
        let start = clock.now
        let dataset = try IDX.load(contentsOf: url)
        let elapsed = clock.now - start
        print("fashion-mnist train-images-idx3-ubyte.gz loaded in \(elapsed)")

        #expect(dataset.rows == 60_000)
        #expect(dataset.width == 784)
        // Figures from Python's gzip + NumPy over the same file.
        let pixels = try #require(bytes(dataset))
        #expect(pixels[14 * 28 + 14] == 217)
        #expect(Self.sum(pixels) == 3_431_114_169)
        #expect(Self.sum(pixels[(59_999 * 784)...]) == 16_684)
    }

    @Test(
        .enabled(
            if: FileManager.default.fileExists(
                atPath: fashionDirectory + "/t10k-images-idx3-ubyte.gz"))
    )
    func fashionMNISTTestImagesLoadWithKnownChecksum() throws {
        let url = URL(fileURLWithPath: Self.fashionDirectory + "/t10k-images-idx3-ubyte.gz")
        let dataset = try IDX.load(contentsOf: url)
        #expect(dataset.rows == 10_000)
        #expect(dataset.width == 784)
        let pixels = try #require(bytes(dataset))
        #expect(pixels[14 * 28 + 14] == 110)
        #expect(Self.sum(pixels) == 573_469_082)
        #expect(Self.sum(pixels[(9_999 * 784)...]) == 24_390)
    }

    private static func sum(_ pixels: some Collection<UInt8>) -> Int {
        pixels.withContiguousStorageIfAvailable { buffer in
            var total = 0
            for pixel in buffer { total &+= Int(pixel) }
            return total
        } ?? pixels.reduce(0) { $0 + Int($1) }
    }
}
