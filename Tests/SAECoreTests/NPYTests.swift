import Foundation
import SAECore
import Testing

/// A fresh directory under the system's temporary directory.
private func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("saed-npy-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Builds an .npy file by hand: magic, version, length, dict padded to 64 bytes, data.
private func npyFile(
    descr: String, shape: String, data: [UInt8], isFortran: Bool = false, major: UInt8 = 1
) -> [UInt8] {
    let dict =
        "{'descr': '\(descr)', 'fortran_order': \(isFortran ? "True" : "False"), "
        + "'shape': \(shape), }"
    let lengthSize = major == 1 ? 2 : 4
    let unpadded = 8 + lengthSize + dict.utf8.count + 1
    let padding = (64 - unpadded % 64) % 64
    let text = Array(dict.utf8) + Array(repeating: 0x20, count: padding) + [0x0A]
    var length = [UInt8(text.count & 0xFF), UInt8(text.count >> 8 & 0xFF)]
    if lengthSize == 4 { length += [0, 0] }
    return [0x93] + Array("NUMPY".utf8) + [major, 0] + length + text + data
}

/// The little-endian bytes of each value.
private func littleEndianBytes<Value: FixedWidthInteger>(_ values: [Value]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
}

private func floats(_ dataset: Dataset) -> [Float]? {
    if case .floats(let values) = dataset.storage { return values }
    return nil
}

private func bytes(_ dataset: Dataset) -> [UInt8]? {
    if case .bytes(let values) = dataset.storage { return values }
    return nil
}

/// Whether `python3` with NumPy can be run, checked once.
private let hasNumPy: Bool = {
    (try? runPython("import numpy")) != nil
}()

/// A helper script exited with a non-zero status.
private struct PythonFailed: Error {
    var status: Int32
}

/// Runs `python3 -c script arguments…`, throwing when it exits non-zero.
private func runPython(_ script: String, _ arguments: [String] = []) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw PythonFailed(status: process.terminationStatus)
    }
}

struct NPYTests {
    @Test func float32MatrixLoadsRowByRowExactly() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let values: [Float] = [1.5, -2.25, 0.1, 3e-5, -0, 65504, 7, 1e-38]
        let file = npyFile(
            descr: "<f4", shape: "(2, 4)", data: littleEndianBytes(values.map(\.bitPattern)))
        #expect(file.count == 128 + 32)  // numpy's 64-byte header alignment
        let url = directory.appendingPathComponent("m.npy")
        try Data(file).write(to: url)

        let dataset = try NPY.load(contentsOf: url)
        #expect(dataset.rows == 2)
        #expect(dataset.width == 4)
        #expect(floats(dataset)?.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func higherDimensionsFlattenIntoRowsAndOneDimensionIsAColumn() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cube = (0..<24).map { Double($0) / 8 }
        let cubeURL = directory.appendingPathComponent("cube.npy")
        let cube64 = littleEndianBytes(cube.map(\.bitPattern))
        try Data(npyFile(descr: "<f8", shape: "(2, 3, 4)", data: cube64)).write(to: cubeURL)
        let vectorURL = directory.appendingPathComponent("vector.npy")
        let vector32 = littleEndianBytes([Int32]([-7, 0, 1, 2, 1 << 20]))
        try Data(npyFile(descr: "<i4", shape: "(5,)", data: vector32)).write(to: vectorURL)

        let loadedCube = try NPY.load(contentsOf: cubeURL)
        #expect(loadedCube.rows == 2 && loadedCube.width == 12)
        #expect(floats(loadedCube) == cube.map { Float($0) })
        let vector = try NPY.load(contentsOf: vectorURL)
        #expect(vector.rows == 5 && vector.width == 1)
        #expect(floats(vector) == [-7, 0, 1, 2, 1_048_576])
    }

    @Test func integerDtypesAndBigEndianConvert() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String, [UInt8], [Float])] = [
            ("|i1", [0x80, 0xFF, 0x05], [-128, -1, 5]),
            ("<i2", littleEndianBytes([Int16]([-32768, 300, 1])), [-32768, 300, 1]),
            ("<u2", littleEndianBytes([UInt16]([65535, 0, 2])), [65535, 0, 2]),
            ("<u4", littleEndianBytes([UInt32]([4_000_000_000, 1, 3])), [4e9, 1, 3]),
            ("<i8", littleEndianBytes([Int64]([-5, 1 << 40, 9])), [-5, 1_099_511_627_776, 9]),
            ("<f2", littleEndianBytes([UInt16]([0x3C00, 0xC000, 0x3800])), [1, -2, 0.5]),
            (">f4", [0x3F, 0xC0, 0, 0, 0xC0, 0x10, 0, 0, 0, 0, 0, 0], [1.5, -2.25, 0]),
            (">i2", [0xFF, 0xFE, 0x01, 0x00, 0x00, 0x07], [-2, 256, 7]),
        ]
        for (index, (descr, data, expected)) in cases.enumerated() {
            let url = directory.appendingPathComponent("case\(index).npy")
            try Data(npyFile(descr: descr, shape: "(1, 3)", data: data)).write(to: url)
            let dataset = try NPY.load(contentsOf: url)
            #expect(dataset.rows == 1 && dataset.width == 3, "\(descr)")
            #expect(floats(dataset) == expected, "\(descr)")
        }
    }

    @Test func uint8StaysBytes() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("pixels.npy")
        let file = npyFile(descr: "|u1", shape: "(3, 2)", data: [0, 255, 1, 254, 128, 7])
        try Data(file).write(to: url)
        let dataset = try NPY.load(contentsOf: url)
        #expect(dataset.rows == 3 && dataset.width == 2)
        #expect(bytes(dataset) == [0, 255, 1, 254, 128, 7])
    }

    @Test func versionTwoAndThreeHeadersUseFourByteLengths() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for major: UInt8 in [2, 3] {
            let url = directory.appendingPathComponent("v\(major).npy")
            let data = littleEndianBytes([Float]([0.5, -1]).map(\.bitPattern))
            try Data(npyFile(descr: "<f4", shape: "(2,)", data: data, major: major)).write(to: url)
            let dataset = try NPY.load(contentsOf: url)
            #expect(floats(dataset) == [0.5, -1], "version \(major)")
        }
    }

    @Test func malformedFilesThrowCodedErrorsNamingTheFile() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let six = littleEndianBytes([Float](repeating: 1, count: 6).map(\.bitPattern))
        var badMagic = npyFile(descr: "<f4", shape: "(2, 3)", data: six)
        badMagic[1] = UInt8(ascii: "n")
        var badVersion = npyFile(descr: "<f4", shape: "(2, 3)", data: six)
        badVersion[6] = 4
        let start = npyFile(descr: "<f4", shape: "(2, 3)", data: []).count
        var withNaN = six
        withNaN.replaceSubrange(16..<20, with: littleEndianBytes([Float.nan.bitPattern]))

        let cases: [([UInt8], String, String)] = [
            (badMagic, "npy_bad_magic", "offset 0"),
            (badVersion, "npy_bad_header", "byte 6: version 4.0"),
            (
                npyFile(descr: "<f4", shape: "(2, 3)", data: six, isFortran: true),
                "npy_fortran_order", "Fortran"
            ),
            (npyFile(descr: "<c8", shape: "(2, 3)", data: six), "npy_unsupported_dtype", "'<c8'"),
            // A dtype string of any length is quoted by its start and length.
            (
                npyFile(descr: "<" + String(repeating: "f", count: 2_000), shape: "(2, 3)", data: six),
                "npy_unsupported_dtype",
                "dtype '<\(String(repeating: "f", count: 38))… (2003 characters); expected one of"
            ),
            (
                npyFile(descr: "<f4", shape: "(2, 3)", data: Array(six.dropLast(3))),
                "npy_truncated",
                "ends at byte \(start + 21); expected \(start + 24) bytes"
            ),
            (
                npyFile(descr: "<f4", shape: "(2, 3)", data: six + [1]), "npy_trailing_bytes",
                "at byte \(start + 24); expected \(start + 24) bytes, found \(start + 25)"
            ),
            (
                npyFile(descr: "<f4", shape: "(2, 3)", data: withNaN), "non_finite_value",
                "row 1, column 1 (byte \(start + 16))"
            ),
            (npyFile(descr: "<f4", shape: "(0, 3)", data: []), "data_empty", "holds no values"),
            // Five rows of no values: the message must not claim there are no rows.
            (npyFile(descr: "<f4", shape: "(5, 0)", data: []), "data_empty",
             "holds no values; expected at least one row of at least one value."),
            (npyFile(descr: "<f4", shape: "()", data: [0, 0, 0, 0]), "npy_bad_header", "shape ()"),
            (npyFile(descr: "<f4", shape: "[2, 3]", data: six), "npy_bad_header", "'shape' is not"),
            (
                Array(npyFile(descr: "<f4", shape: "(2, 3)", data: six).prefix(9)), "npy_truncated",
                "expected 10 bytes"
            ),
        ]
        for (index, (file, code, location)) in cases.enumerated() {
            let url = directory.appendingPathComponent("bad\(index).npy")
            try Data(file).write(to: url)
            let error = #expect(throws: DataError.self) { try NPY.load(contentsOf: url) }
            #expect(error?.code == code, "case \(index): \(String(describing: error))")
            let inspected = #expect(throws: DataError.self) { try NPY.inspect(contentsOf: url) }
            #expect(inspected == error, "case \(index): inspecting finds the same fault")
            #expect(error?.message.hasPrefix("bad\(index).npy: ") == true)
            #expect(
                error?.message.contains(location) == true,
                "case \(index): \(String(describing: error))")
        }
    }

    @Test func inspectionReadsPastOneBlockAndFindsWhatLoadingFinds() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // 300 × 1000 big-endian float64 is 2.4 MB: three 1 MiB inspection blocks.
        var values = (0..<300_000).map { Double($0 % 977) / 8 }
        func write(_ name: String) throws -> URL {
            let data = values.flatMap { value in withUnsafeBytes(of: value.bitPattern.bigEndian) { Array($0) } }
            let url = directory.appendingPathComponent(name)
            try Data(npyFile(descr: ">f8", shape: "(300, 1000)", data: data)).write(to: url)
            return url
        }
        let good = try write("good.npy")
        #expect(try NPY.inspect(contentsOf: good) == DatasetShape(rows: 300, width: 1000))

        // An infinity in the third block is found at the same place as by loading.
        values[281 * 1_000 + 999] = -.infinity
        let bad = try write("bad.npy")
        let loaded = #expect(throws: DataError.self) { try NPY.load(contentsOf: bad) }
        let inspected = #expect(throws: DataError.self) { try NPY.inspect(contentsOf: bad) }
        #expect(loaded?.code == "non_finite_value")
        #expect(loaded?.message.contains("row 281, column 999") == true, "\(String(describing: loaded))")
        #expect(inspected == loaded)

        // A version 2 header claiming 2 MiB of text, in a 1.5 MB file: longer than one block.
        var long = npyFile(descr: "<f4", shape: "(2, 3)", data: [], major: 2)
        long.replaceSubrange(8..<12, with: littleEndianBytes([UInt32(2 << 20)]))
        long += [UInt8](repeating: 0x20, count: 1_500_000)
        let longURL = directory.appendingPathComponent("long.npy")
        try Data(long).write(to: longURL)
        let longLoaded = #expect(throws: DataError.self) { try NPY.load(contentsOf: longURL) }
        let longInspected = #expect(throws: DataError.self) { try NPY.inspect(contentsOf: longURL) }
        #expect(longLoaded?.code == "npy_truncated")
        #expect(longLoaded?.message.contains("found \(long.count)") == true, "\(String(describing: longLoaded))")
        #expect(longInspected == longLoaded)
    }

    @Test(.enabled("needs python3 with NumPy") { hasNumPy })
    func filesWrittenByNumPySaveLoad() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = """
            import sys, numpy as np
            d = sys.argv[1]
            a = np.arange(12, dtype=np.float32).reshape(3, 4) * 0.25 - 1
            np.save(d + '/f4.npy', a)
            np.save(d + '/f8.npy', np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 8)
            np.save(d + '/u1.npy', (np.arange(6, dtype=np.uint8) * 40).reshape(2, 3))
            np.save(d + '/i8.npy', np.array([-3, 0, 7, 1 << 20], dtype=np.int64))
            np.save(d + '/be.npy', np.array([[1.5, -2.0]], dtype='>f4'))
            np.save(d + '/fortran.npy', np.asfortranarray(a))
            with open(d + '/v2.npy', 'wb') as f:
                np.lib.format.write_array(f, a, version=(2, 0))
            """
        try runPython(script, [directory.path])
        func load(_ name: String) throws -> Dataset {
            try NPY.load(contentsOf: directory.appendingPathComponent(name))
        }

        let expected = (0..<12).map { Float($0) * 0.25 - 1 }
        let f4 = try load("f4.npy")
        #expect(f4.rows == 3 && f4.width == 4)
        #expect(floats(f4) == expected)
        #expect(floats(try load("v2.npy")) == expected)
        let f8 = try load("f8.npy")
        #expect(f8.rows == 2 && f8.width == 12)
        #expect(floats(f8) == (0..<24).map { Float($0) / 8 })
        #expect(bytes(try load("u1.npy")) == [0, 40, 80, 120, 160, 200])
        let i8 = try load("i8.npy")
        #expect(i8.rows == 4 && i8.width == 1)
        #expect(floats(i8) == [-3, 0, 7, 1_048_576])
        #expect(floats(try load("be.npy")) == [1.5, -2])
        let error = #expect(throws: DataError.self) { try load("fortran.npy") }
        #expect(error == .npyFortranOrder(file: "fortran.npy"))
    }
}
