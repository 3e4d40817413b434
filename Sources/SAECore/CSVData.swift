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
            let text = line.last == 0x0D ? line.dropLast() : line
            guard text.contains(where: { $0 != 0x20 && $0 != 0x09 }) else { continue }
            if isHeaderPending {
                isHeaderPending = false
                continue
            }
            try table.append(text, line: index + 1)
        }

        guard table.rows > 0, let width = table.width, width > 0 else {
            throw DataError.empty(file: name)
        }
        return Dataset(rows: table.rows, width: width, storage: .floats(table.values))
    }
}

extension CSVData {
    /// The rows parsed so far, and the column count every later row must match.
    struct Table {
        let file: String
        let labelColumn: Int?
        private(set) var values: [Float] = []
        private(set) var rows = 0
        /// Cells per line, fixed by the first data line.
        private(set) var columns: Int?
        /// Features per row: `columns` less the label column.
        var width: Int? { columns.map { labelColumn == nil ? $0 : $0 - 1 } }

        init(file: String, labelColumn: Int?) {
            self.file = file
            self.labelColumn = labelColumn
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
                values.append(value)
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
