// Numeric comma-separated files: one sample per line, one feature per column.

import Foundation

/// Reads numeric CSV files into datasets.
package enum CSVData {
    /// Loads a CSV file of numbers, one row per line.
    ///
    /// Cells may carry surrounding spaces or double quotes; quoted commas are not supported.
    /// Blank lines are skipped, `\r\n` line ends and a UTF-8 byte-order mark are accepted. When
    /// `hasHeader` is set the first non-blank line is skipped unread. Every data line must have
    /// as many cells as the first one. When `labelColumn` (0-based) is given, that column is
    /// dropped without being parsed, so labels may be text.
    ///
    /// - Throws: `DataError` `.csvRaggedRow` and `.csvBadCell` naming the 1-based line (and
    ///   column), `.csvBadLabelColumn`, `.empty` when no data line or no feature column
    ///   remains, `.nonFiniteValue` for `nan`, `inf` or a value beyond `Float`'s range, or the
    ///   file errors.
    package static func load(
        contentsOf url: URL, hasHeader: Bool = false, labelColumn: Int? = nil
    ) throws -> Dataset {
        let name = url.lastPathComponent
        var bytes = try AtomicFile.read(contentsOf: url)[...]
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }

        var table = Table(file: name, labelColumn: labelColumn)
        var isHeaderPending = hasHeader
        for (index, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            .enumerated()
        {
            try table.read(line, line: index + 1, isHeaderPending: &isHeaderPending)
        }
        let width = try table.checkedWidth()
        return Dataset(rows: table.rows, width: width, storage: .floats(table.values))
    }

    /// Checks the file at `url` as `load(contentsOf:)` would, with the same errors, and returns
    /// its shape; the file is read once in blocks of `blockBytes` (1 MiB) and no value is
    /// kept, so a file of any size costs a block and its longest line.
    package static func inspect(
        contentsOf url: URL, hasHeader: Bool = false, labelColumn: Int? = nil, blockBytes: Int = 1 << 20
    ) throws -> DatasetShape {
        let file = try ReadOnlyFile(url)
        var table = Table(file: file.name, labelColumn: labelColumn, keepsValues: false)
        var isHeaderPending = hasHeader
        var pending: [UInt8] = []  // the start of a line the last block cut
        var lineNumber = 1
        var offset = try file.read(count: 3, at: 0) == [0xEF, 0xBB, 0xBF] ? 3 : 0
        repeat {
            let block = try file.read(count: blockBytes, at: offset)
            offset += blockBytes
            let isLast = offset >= file.size
            pending.append(contentsOf: block)
            // Lines up to the block's last line end are whole; the rest waits for the next
            // block, unless the file ends here. Only the new block is searched, so a long
            // line is not scanned again with every block.
            let lineEnd = block.lastIndex(of: 0x0A).map { pending.count - block.count + $0 }
            guard isLast || lineEnd != nil else { continue }
            let whole = isLast ? pending.count : (lineEnd ?? 0)
            for line in pending[..<whole].split(separator: 0x0A, omittingEmptySubsequences: false) {
                try table.read(line, line: lineNumber, isHeaderPending: &isHeaderPending)
                lineNumber += 1
            }
            if isLast { break }
            pending.removeSubrange(...whole)
        } while true
        return DatasetShape(rows: table.rows, width: try table.checkedWidth())
    }
}

extension CSVData {
    /// The rows parsed so far, and the column count every later row must match.
    struct Table {
        let file: String
        let labelColumn: Int?
        /// Whether parsed values are kept in `values`; without, lines are only checked.
        let keepsValues: Bool
        private(set) var values: [Float] = []
        private(set) var rows = 0
        /// Cells per line, fixed by the first data line.
        private(set) var columns: Int?
        /// Features per row: `columns` less the label column.
        var width: Int? { columns.map { labelColumn == nil ? $0 : $0 - 1 } }

        init(file: String, labelColumn: Int?, keepsValues: Bool = true) {
            self.file = file
            self.labelColumn = labelColumn
            self.keepsValues = keepsValues
        }

        /// Takes one line of the file (without its `\n`, 1-based `line`): skipped when blank
        /// or the pending header, else parsed.
        mutating func read(_ line: ArraySlice<UInt8>, line number: Int, isHeaderPending: inout Bool) throws {
            let text = line.last == 0x0D ? line.dropLast() : line
            guard text.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { return }
            if isHeaderPending {
                isHeaderPending = false
                return
            }
            try append(text, line: number)
        }

        /// The row width once every line is read; throws `.empty` when no row or no feature
        /// column remains.
        func checkedWidth() throws -> Int {
            guard rows > 0, let width, width > 0 else { throw DataError.empty(file: file) }
            return width
        }

        /// Parses one data line (without its line end), 1-based `line` for errors.
        mutating func append(_ text: ArraySlice<UInt8>, line: Int) throws {
            let cells = text.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
            if let columns {
                guard cells.count == columns else {
                    throw DataError.csvRaggedRow(
                        file: file, line: line, expectedColumns: columns, foundColumns: cells.count)
                }
            } else {
                if let labelColumn, !(0..<cells.count).contains(labelColumn) {
                    throw DataError.csvBadLabelColumn(
                        file: file, labelColumn: labelColumn, columns: cells.count)
                }
                columns = cells.count
            }

            for (column, cell) in cells.enumerated() where column != labelColumn {
                let text = Self.trimmed(cell)
                guard let value = Float(text) else {
                    throw DataError.csvBadCell(
                        file: file, line: line, column: column + 1, found: text)
                }
                guard value.isFinite else {
                    throw DataError.nonFiniteValue(
                        file: file, row: rows, column: column, found: text, byteOffset: nil,
                        line: line)
                }
                if keepsValues { values.append(value) }
            }
            rows += 1
        }

        /// The cell's text without surrounding blanks or one pair of double quotes.
        private static func trimmed(_ cell: ArraySlice<UInt8>) -> String {
            let isBlank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
            var text = cell.drop(while: isBlank)
            while let last = text.last, isBlank(last) { text = text.dropLast() }
            if text.count >= 2, text.first == 0x22, text.last == 0x22 {
                text = text.dropFirst().dropLast()
            }
            return String(decoding: text, as: UTF8.self)
        }
    }
}
