import Foundation
import SAECore
import Testing

/// Writes `text` to a file called `name` in a fresh temporary directory.
private func writeScratchFile(_ text: String, named name: String) throws -> URL {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("saed-csv-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let url = directory.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url
}

private func removeScratchFile(_ url: URL) {
    try? FileManager.default.removeItem(at: url.deletingLastPathComponent())
}

private func floats(_ dataset: Dataset) -> [Float]? {
    if case .floats(let values) = dataset.storage { return values }
    return nil
}

struct CSVDataTests {
    @Test func numericRowsLoadWithSpacesQuotesCRLFAndBlankLines() throws {
        let text = "\u{FEFF}1, 2.5 ,-3\r\n\r\n\"4\",5e-1,0x1p2\r\n  \n-0,1E3,+7\n"
        let url = try writeScratchFile(text, named: "good.csv")
        defer { removeScratchFile(url) }

        let dataset = try CSVData.load(contentsOf: url)
        #expect(dataset.rows == 3)
        #expect(dataset.width == 3)
        #expect(floats(dataset) == [1, 2.5, -3, 4, 0.5, 4, -0, 1000, 7])
    }

    @Test func headerLineIsSkippedUnread() throws {
        let url = try writeScratchFile("x,\"y, quoted\",z\n0.25,0.5,0.75\n", named: "header.csv")
        defer { removeScratchFile(url) }

        let dataset = try CSVData.load(contentsOf: url, hasHeader: true)
        #expect(dataset.rows == 1)
        #expect(dataset.width == 3)
        #expect(floats(dataset) == [0.25, 0.5, 0.75])
    }

    @Test func labelColumnIsDroppedEvenWhenItIsText() throws {
        let text = "label,a,b\ncat,1,2\ndog,3,4\n7,5,6\n"
        let url = try writeScratchFile(text, named: "labels.csv")
        defer { removeScratchFile(url) }

        let dataset = try CSVData.load(contentsOf: url, hasHeader: true, labelColumn: 0)
        #expect(dataset.rows == 3)
        #expect(dataset.width == 2)
        #expect(floats(dataset) == [1, 2, 3, 4, 5, 6])
    }

    @Test func raggedRowNamesItsLineAndBothColumnCounts() throws {
        let url = try writeScratchFile("a,b,c\n1,2,3\n\n4,5\n", named: "ragged.csv")
        defer { removeScratchFile(url) }

        let error = #expect(throws: DataError.self) {
            try CSVData.load(contentsOf: url, hasHeader: true)
        }
        #expect(
            error == .csvRaggedRow(file: "ragged.csv", line: 4, expectedColumns: 3, foundColumns: 2)
        )
        #expect(error?.code == "csv_ragged_row")
        #expect(
            error?.message == "ragged.csv: line 4 has 2 columns; expected 3 like the first row.")
    }

    @Test func nonNumericCellNamesLineAndColumn() throws {
        let url = try writeScratchFile("1,2\n3,four\n", named: "words.csv")
        defer { removeScratchFile(url) }

        let error = #expect(throws: DataError.self) { try CSVData.load(contentsOf: url) }
        #expect(error == .csvBadCell(file: "words.csv", line: 2, column: 2, found: "four"))
        #expect(error?.code == "csv_bad_cell")
        #expect(error?.message == "words.csv: line 2, column 2: expected a number, found 'four'.")
    }

    /// A cell of any length (a binary file read as CSV is one line of megabytes) is quoted by
    /// its first 40 characters and its length, so the message stays a line.
    @Test func aLongBadCellIsQuotedByItsStartAndLength() throws {
        let cell = "x" + String(repeating: "y", count: 9_999)
        let url = try writeScratchFile("1,\(cell)\n", named: "long.csv")
        defer { removeScratchFile(url) }

        let error = #expect(throws: DataError.self) { try CSVData.load(contentsOf: url) }
        #expect(error == .csvBadCell(file: "long.csv", line: 1, column: 2, found: cell))
        let start = "x" + String(repeating: "y", count: 39)
        #expect(
            error?.message
                == "long.csv: line 1, column 2: expected a number, found '\(start)…' (10000 characters).")
    }

    @Test func aLongNonFiniteCellIsQuotedByItsStartAndLength() throws {
        let cell = "1" + String(repeating: "0", count: 4_999)
        let url = try writeScratchFile("\(cell)\n", named: "huge.csv")
        defer { removeScratchFile(url) }

        let error = #expect(throws: DataError.self) { try CSVData.load(contentsOf: url) }
        #expect(error?.code == "non_finite_value")
        let start = "1" + String(repeating: "0", count: 39)
        #expect(
            error?.message
                == "huge.csv: line 1, column 1: expected a finite number, found \(start)… (5000 characters).")
    }

    @Test func emptyCellIsABadCell() throws {
        let url = try writeScratchFile("1,,3\n", named: "hole.csv")
        defer { removeScratchFile(url) }

        let error = #expect(throws: DataError.self) { try CSVData.load(contentsOf: url) }
        #expect(error == .csvBadCell(file: "hole.csv", line: 1, column: 2, found: ""))
    }

    @Test(arguments: ["nan", "inf", "-Infinity", "1e39"])
    func nonFiniteCellNamesTheRowAndLine(_ cell: String) throws {
        let url = try writeScratchFile("h1,h2\n1,2\n3,\(cell)\n", named: "nan.csv")
        defer { removeScratchFile(url) }

        let error = #expect(throws: DataError.self) {
            try CSVData.load(contentsOf: url, hasHeader: true)
        }
        #expect(error?.code == "non_finite_value")
        #expect(
            error
                == .nonFiniteValue(
                    file: "nan.csv", row: 1, column: 1, found: cell, byteOffset: nil, line: 3))
        #expect(
            error?.message == "nan.csv: line 3, column 2: expected a finite number, found \(cell).")
    }

    @Test func labelColumnOutsideTheRowIsRejected() throws {
        let url = try writeScratchFile("1,2\n", named: "narrow.csv")
        defer { removeScratchFile(url) }

        let error = #expect(throws: DataError.self) {
            try CSVData.load(contentsOf: url, labelColumn: 2)
        }
        #expect(error == .csvBadLabelColumn(file: "narrow.csv", labelColumn: 2, columns: 2))
        #expect(error?.code == "csv_bad_label_column")
    }

    @Test(arguments: ["", "\n\n", "only,a,header\n"])
    func fileWithoutDataRowsIsEmpty(_ text: String) throws {
        let url = try writeScratchFile(text, named: "empty.csv")
        defer { removeScratchFile(url) }

        let error = #expect(throws: DataError.self) {
            try CSVData.load(contentsOf: url, hasHeader: true)
        }
        #expect(error == .empty(file: "empty.csv"))
        #expect(error?.code == "data_empty")
    }

    /// Checking a file block by block gives load's shape, or load's very error, whatever the
    /// block size: lines, CRLF pairs, cells and the byte-order mark cut at every place.
    @Test(arguments: [
        "\u{FEFF}1,2,3\r\n4, 5 ,\"6\"\r\n\r\n7,8,9",
        "1.5e3,2\n\n  \n3,4\n",
        "1,2,3\n4,5\n",
        "1,2\n3,x\n",
        "1,2\n3,nan\n",
        "\n\n",
        "0.000000000000000000000000000000000000000000001,2\n",
    ])
    func inspectionInBlocksAgreesWithLoad(_ text: String) throws {
        let url = try writeScratchFile(text, named: "blocks.csv")
        defer { removeScratchFile(url) }
        let loaded = Result { try CSVData.load(contentsOf: url) }
        for blockBytes in [1, 2, 3, 5, 8, 1 << 20] {
            let inspected = Result { try CSVData.inspect(contentsOf: url, blockBytes: blockBytes) }
            switch (loaded, inspected) {
            case (.success(let dataset), .success(let shape)):
                #expect(shape == DatasetShape(rows: dataset.rows, width: dataset.width), "block \(blockBytes)")
            case (.failure(let expected), .failure(let found)):
                #expect(found as? DataError == expected as? DataError, "block \(blockBytes)")
            default:
                Issue.record("block \(blockBytes): load gave \(loaded), inspect gave \(inspected)")
            }
        }
    }

    /// A line far longer than a block is gathered across blocks whole.
    @Test func aLineLongerThanManyBlocksIsCheckedWhole() throws {
        let line = [String](repeating: "1", count: 100_000).joined(separator: ",")
        let url = try writeScratchFile(line + "\n" + line + ",2\n", named: "wide.csv")
        defer { removeScratchFile(url) }
        let error = #expect(throws: DataError.self) { try CSVData.inspect(contentsOf: url, blockBytes: 1 << 10) }
        #expect(error == .csvRaggedRow(file: "wide.csv", line: 2, expectedColumns: 100_000, foundColumns: 100_001))
        try Data((line + "\n" + line).utf8).write(to: url)
        #expect(try CSVData.inspect(contentsOf: url, blockBytes: 1 << 10) == DatasetShape(rows: 2, width: 100_000))
    }
}
