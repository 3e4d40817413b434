// Checking a binary dataset file without loading it: the same checks and errors as `load`,
// reading the data once in blocks and keeping none of it. An uploaded file of any size is thus
// proven readable with one block of memory instead of its whole size.

import Foundation

/// How many rows a dataset file holds and how wide they are.
package struct DatasetShape: Sendable, Equatable {
    package var rows: Int
    package var width: Int

    package init(rows: Int, width: Int) {
        self.rows = rows
        self.width = width
    }
}

/// Bytes read per block while inspecting: a multiple of every element size.
private let inspectionBlockBytes = 1 << 20

extension IDX {
    /// Checks the file at `url` as `load(contentsOf:)` would, with the same errors, and returns
    /// its shape; the data is read once in 1 MiB blocks and not kept.
    package static func inspect(contentsOf url: URL) throws -> DatasetShape {
        let file = try ReadOnlyFile(url)
        let isGzip = try file.read(count: 2, at: 0) == [0x1F, 0x8B]
        let stream: any ByteStream = isGzip ? try GzipInflater(file) : file
        let header = try Header.read(from: stream, file: file.name)
        let scalar = header.type.scalar

        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: inspectionBlockBytes, alignment: 8)
        defer { block.deallocate() }
        var read = 0
        // As `load` does, a short or overlong file is reported before a bad value.
        var nonFinite: (any Error)?
        while read < header.dataBytes {
            let want = min(header.dataBytes - read, block.count)
            let got = try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: block[..<want]))
            if scalar.isFloatingPoint && nonFinite == nil {
                do {
                    try checkFinite(
                        UnsafeRawBufferPointer(rebasing: block[..<got]), scalar: scalar, isBigEndian: true,
                        firstIndex: read / scalar.byteWidth, width: header.width, file: file.name,
                        dataOffset: header.byteCount)
                } catch {
                    nonFinite = error
                }
            }
            read += got
            if got < want { break }
        }
        guard read == header.dataBytes else {
            throw DataError.idxTruncated(
                file: file.name, expectedBytes: header.byteCount + header.dataBytes,
                foundBytes: header.byteCount + read)
        }
        try checkEnd(of: stream, after: header, file: file.name)
        if let nonFinite { throw nonFinite }
        return DatasetShape(rows: header.rows, width: header.width)
    }
}

extension NPY {
    /// Checks the file at `url` as `load(contentsOf:)` would, with the same errors, and returns
    /// its shape; the array is read once in 1 MiB blocks (only float data needs reading at
    /// all) and not kept.
    package static func inspect(contentsOf url: URL) throws -> DatasetShape {
        let file = try ReadOnlyFile(url)
        let prefix = try file.read(count: min(file.size, inspectionBlockBytes), at: 0)
        let header: Header
        do {
            header = try Header(parsing: prefix, file: file.name)
        } catch DataError.npyTruncated where prefix.count < file.size {
            // A header longer than the block: let the full reader judge it.
            let dataset = try load(contentsOf: url)
            return DatasetShape(rows: dataset.rows, width: dataset.width)
        }

        let expected = header.dataOffset + header.dataBytes
        guard file.size >= expected else {
            throw DataError.npyTruncated(file: file.name, expectedBytes: expected, foundBytes: file.size)
        }
        guard file.size == expected else {
            throw DataError.npyTrailingBytes(file: file.name, expectedBytes: expected, foundBytes: file.size)
        }
        if header.scalar.isFloatingPoint {
            var offset = 0
            while offset < header.dataBytes {
                let bytes = try file.read(
                    count: min(header.dataBytes - offset, inspectionBlockBytes), at: header.dataOffset + offset)
                try bytes.withUnsafeBytes { raw in
                    try checkFinite(
                        raw, scalar: header.scalar, isBigEndian: header.isBigEndian,
                        firstIndex: offset / header.scalar.byteWidth, width: header.width, file: file.name,
                        dataOffset: header.dataOffset)
                }
                offset += bytes.count
            }
        }
        return DatasetShape(rows: header.rows, width: header.width)
    }
}

/// Throws `DataError.nonFiniteValue` for the first NaN or infinity among the elements in `raw`,
/// which are elements `firstIndex...` of a file whose data starts at `dataOffset`; the error
/// names the row, column and byte as `load` does.
private func checkFinite(
    _ raw: UnsafeRawBufferPointer, scalar: BinaryScalar, isBigEndian: Bool, firstIndex: Int, width: Int,
    file: String, dataOffset: Int
) throws {
    let values = scalar.decode(raw, isBigEndian: isBigEndian)
    guard let position = values.firstIndex(where: { !$0.isFinite }) else { return }
    let index = firstIndex + position
    throw DataError.nonFiniteValue(
        file: file, row: index / width, column: index % width, found: "\(values[position])",
        byteOffset: dataOffset + index * scalar.byteWidth, line: nil)
}
