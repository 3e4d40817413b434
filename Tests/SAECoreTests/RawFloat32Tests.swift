import Foundation
import SAECore
import Testing

/// Writes `values` as little-endian float32 to a file called `name` in a fresh directory.
private func writeFloats(_ values: [Float], extraBytes: Int = 0, named name: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("saed-raw-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    var bytes = values.flatMap { value in
        withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) }
    }
    bytes += Array(repeating: 0, count: extraBytes)
    try Data(bytes).write(to: url)
    return url
}

private func removeScratchFile(_ url: URL) {
    try? FileManager.default.removeItem(at: url.deletingLastPathComponent())
}

struct RawFloat32Tests {
    @Test func rowsOfTheGivenWidthLoadBitExactly() throws {
        let values: [Float] = [1, -0, 0.1, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -3.5]
        let url = try writeFloats(values, named: "x.f32")
        defer { removeScratchFile(url) }

        let dataset = try RawFloat32.load(contentsOf: url, width: 3)
        #expect(dataset.rows == 2)
        #expect(dataset.width == 3)
        guard case .floats(let loaded) = dataset.storage else {
            Issue.record("expected float storage")
            return
        }
        #expect(loaded.map(\.bitPattern) == values.map(\.bitPattern))
    }

    @Test func sizeThatIsNotWholeRowsIsRejected() throws {
        let url = try writeFloats([1, 2, 3, 4], extraBytes: 2, named: "odd.f32")
        defer { removeScratchFile(url) }

        let error = #expect(throws: DataError.self) {
            try RawFloat32.load(contentsOf: url, width: 2)
        }
        #expect(error == .rawSizeMismatch(file: "odd.f32", bytes: 18, width: 2))
        #expect(error?.code == "raw_size_mismatch")
        #expect(error?.message.contains("size 18 bytes") == true)
        #expect(error?.message.contains("multiple of 8") == true)
    }

    @Test func nonPositiveWidthAndEmptyFileAreRejected() throws {
        let url = try writeFloats([], named: "none.f32")
        defer { removeScratchFile(url) }

        let badWidth = #expect(throws: DataError.self) {
            try RawFloat32.load(contentsOf: url, width: 0)
        }
        #expect(badWidth?.code == "raw_invalid_width")
        let empty = #expect(throws: DataError.self) {
            try RawFloat32.load(contentsOf: url, width: 4)
        }
        #expect(empty == .empty(file: "none.f32"))
    }

    @Test func infinityNamesItsRowColumnAndByte() throws {
        let url = try writeFloats([1, 2, 3, 4, .infinity, 6], named: "inf.f32")
        defer { removeScratchFile(url) }

        let error = #expect(throws: DataError.self) {
            try RawFloat32.load(contentsOf: url, width: 2)
        }
        #expect(
            error
                == .nonFiniteValue(
                    file: "inf.f32", row: 2, column: 0, found: "inf", byteOffset: 16, line: nil))
        #expect(
            error?.message
                == "inf.f32: row 2, column 0 (byte 16): expected a finite number, found inf.")
    }
}
