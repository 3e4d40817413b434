/// A failure to read or write a data or model file.
///
/// Every case names the file by its last path component only, so a message can go into an
/// HTTP response or a log without leaking where the daemon keeps its files. Byte offsets are
/// counted from the start of the file; for a gzip-compressed IDX file, offsets in the IDX
/// cases count bytes of the decompressed stream and the gzip case counts compressed bytes.
/// Rows and columns of binary formats are 0-based; CSV lines are 1-based, as an editor shows.
package enum DataError: Error, Sendable, Equatable {
    // MARK: Any file

    /// The file does not exist.
    case fileNotFound(file: String)
    /// The file exists but could not be read; `reason` is the system's wording.
    case fileUnreadable(file: String, reason: String)
    /// Writing, syncing or renaming the file failed; `reason` is the system's wording.
    case writeFailed(file: String, reason: String)
    /// The file holds no values: no rows, or rows of no values.
    case empty(file: String)
    /// A sample is NaN or infinite.
    ///
    /// `row` is the 0-based sample and `column` the 0-based column in the file. Binary formats
    /// set `byteOffset`; CSV sets `line`, and its message counts lines and columns from 1.
    case nonFiniteValue(
        file: String, row: Int, column: Int, found: String, byteOffset: Int?, line: Int?)

    // MARK: gzip

    /// The gzip stream is damaged or ends early; `offset` counts compressed bytes.
    case gzipCorrupt(file: String, offset: Int, reason: String)

    // MARK: IDX

    /// The first two bytes are not zero.
    case idxBadMagic(file: String, found: [UInt8])
    /// Byte 2 names no IDX element type.
    case idxUnknownType(file: String, found: UInt8)
    /// Byte 3 says the array has no dimensions.
    case idxNoDimensions(file: String)
    /// Dimension `index` (0-based), stored at `offset`, is zero.
    case idxZeroDimension(file: String, index: Int, offset: Int)
    /// The dimensions multiply past what this machine can address.
    case idxTooLarge(file: String, dimensions: [UInt32])
    /// The file ends before the header or the data it declares.
    case idxTruncated(file: String, expectedBytes: Int, foundBytes: Int)
    /// Bytes follow the data the header declares.
    case idxTrailingBytes(file: String, expectedBytes: Int, foundBytes: Int)
    /// Decompressed bytes follow the data the header declares, at least `foundBytes` in all:
    /// counting stops there, since inflating the rest could take minutes for nothing.
    case idxTrailingBytesAtLeast(file: String, expectedBytes: Int, foundBytes: Int)

    // MARK: NPY

    /// The file does not start with `\x93NUMPY`.
    case npyBadMagic(file: String)
    /// The header is unreadable or lacks a required key; `offset` is where the problem starts.
    case npyBadHeader(file: String, offset: Int, reason: String)
    /// The array's `descr` is not a numeric type this reader converts.
    case npyUnsupportedDtype(file: String, found: String)
    /// The array is stored column-major (`fortran_order: True`).
    case npyFortranOrder(file: String)
    /// The file ends before the data the header declares.
    case npyTruncated(file: String, expectedBytes: Int, foundBytes: Int)
    /// Bytes follow the data the header declares.
    case npyTrailingBytes(file: String, expectedBytes: Int, foundBytes: Int)

    // MARK: CSV

    /// Line `line` has a different number of columns from the first data line.
    case csvRaggedRow(file: String, line: Int, expectedColumns: Int, foundColumns: Int)
    /// The cell at `line`, `column` (both 1-based) is not a number.
    case csvBadCell(file: String, line: Int, column: Int, found: String)
    /// The label column to drop is outside the row.
    case csvBadLabelColumn(file: String, labelColumn: Int, columns: Int)

    // MARK: Raw float32

    /// The row width asked for is not positive.
    case rawInvalidWidth(file: String, width: Int)
    /// The file size is not a whole number of rows.
    case rawSizeMismatch(file: String, bytes: Int, width: Int)

    // MARK: Models

    /// The safetensors file breaks the format; `reason` says where and how.
    case safetensorsInvalid(file: String, reason: String)
    /// The model files are well-formed but do not describe a valid autoencoder.
    case modelInvalid(file: String, reason: String)
}

extension DataError {
    /// A stable snake_case identifier for the kind of failure, free of dynamic values.
    package var code: String {
        switch self {
        case .fileNotFound: "file_not_found"
        case .fileUnreadable: "file_unreadable"
        case .writeFailed: "file_write_failed"
        case .empty: "data_empty"
        case .nonFiniteValue: "non_finite_value"
        case .gzipCorrupt: "gzip_corrupt"
        case .idxBadMagic: "idx_bad_magic"
        case .idxUnknownType: "idx_unknown_type"
        case .idxNoDimensions: "idx_no_dimensions"
        case .idxZeroDimension: "idx_zero_dimension"
        case .idxTooLarge: "idx_too_large"
        case .idxTruncated: "idx_truncated"
        case .idxTrailingBytes, .idxTrailingBytesAtLeast: "idx_trailing_bytes"
        case .npyBadMagic: "npy_bad_magic"
        case .npyBadHeader: "npy_bad_header"
        case .npyUnsupportedDtype: "npy_unsupported_dtype"
        case .npyFortranOrder: "npy_fortran_order"
        case .npyTruncated: "npy_truncated"
        case .npyTrailingBytes: "npy_trailing_bytes"
        case .csvRaggedRow: "csv_ragged_row"
        case .csvBadCell: "csv_bad_cell"
        case .csvBadLabelColumn: "csv_bad_label_column"
        case .rawInvalidWidth: "raw_invalid_width"
        case .rawSizeMismatch: "raw_size_mismatch"
        case .safetensorsInvalid: "safetensors_invalid"
        case .modelInvalid: "model_invalid"
        }
    }

    /// The name of the file the error is about (a last path component, never a full path).
    package var file: String {
        switch self {
        case .fileNotFound(let file), .fileUnreadable(let file, _), .writeFailed(let file, _),
            .empty(let file), .nonFiniteValue(let file, _, _, _, _, _),
            .gzipCorrupt(let file, _, _), .idxBadMagic(let file, _), .idxUnknownType(let file, _),
            .idxNoDimensions(let file), .idxZeroDimension(let file, _, _),
            .idxTooLarge(let file, _), .idxTruncated(let file, _, _),
            .idxTrailingBytes(let file, _, _), .idxTrailingBytesAtLeast(let file, _, _),
            .npyBadMagic(let file),
            .npyBadHeader(let file, _, _), .npyUnsupportedDtype(let file, _),
            .npyFortranOrder(let file), .npyTruncated(let file, _, _),
            .npyTrailingBytes(let file, _, _), .csvRaggedRow(let file, _, _, _),
            .csvBadCell(let file, _, _, _), .csvBadLabelColumn(let file, _, _),
            .rawInvalidWidth(let file, _), .rawSizeMismatch(let file, _, _),
            .safetensorsInvalid(let file, _), .modelInvalid(let file, _):
            file
        }
    }

    /// One sentence saying what was wrong, in which file and where, and what was expected.
    package var message: String {
        switch self {
        case .fileNotFound(let file):
            "\(file): no such file."
        case .fileUnreadable(let file, let reason):
            "\(file): cannot be read (\(reason))."
        case .writeFailed(let file, let reason):
            "\(file): cannot be written (\(reason))."
        case .empty(let file):
            "\(file): holds no values; expected at least one row of at least one value."
        case .nonFiniteValue(let file, let row, let column, let found, let byteOffset, let line):
            Self.nonFiniteMessage(file, row, column, found, byteOffset, line)
        case .gzipCorrupt(let file, let offset, let reason):
            "\(file): corrupt gzip data at compressed byte \(offset) (\(reason))."
        case .idxBadMagic(let file, let found):
            "\(file): not an IDX file; expected bytes 00 00 at offset 0, found \(Self.hex(found))."
        case .idxUnknownType(let file, let found):
            "\(file): unknown IDX element type at byte 2; expected one of 08 09 0b 0c 0d 0e, "
                + "found \(Self.hex([found]))."
        case .idxNoDimensions(let file):
            "\(file): the IDX header declares 0 dimensions at byte 3; expected at least 1."
        case .idxZeroDimension(let file, let index, let offset):
            "\(file): IDX dimension \(index) at byte \(offset) is 0; expected a positive size."
        case .idxTooLarge(let file, let dimensions):
            "\(file): IDX dimensions \(dimensions.map(String.init).joined(separator: "×")) "
                + "hold more bytes than this machine can address."
        case .idxTruncated(let file, let expected, let found):
            "\(file): the IDX content ends at byte \(found); expected \(expected) bytes, "
                + "found \(found)."
        case .idxTrailingBytes(let file, let expected, let found):
            "\(file): unexpected bytes after the IDX data at byte \(expected); "
                + "expected \(expected) bytes, found \(found)."
        case .idxTrailingBytesAtLeast(let file, let expected, let found):
            "\(file): unexpected bytes after the IDX data at byte \(expected); "
                + "expected \(expected) bytes, found at least \(found)."
        case .npyBadMagic(let file):
            "\(file): not an NPY file; expected \\x93NUMPY at offset 0."
        case .npyBadHeader(let file, let offset, let reason):
            "\(file): bad NPY header at byte \(offset): \(reason)."
        case .npyUnsupportedDtype(let file, let found):
            "\(file): unsupported NPY dtype \(Self.shown(found)); expected one of f2 f4 f8 i1 i2 "
                + "i4 i8 u1 u2 u4 u8."
        case .npyFortranOrder(let file):
            "\(file): the NPY array is stored in Fortran (column-major) order; "
                + "expected fortran_order False (save a C-contiguous copy)."
        case .npyTruncated(let file, let expected, let found):
            "\(file): the NPY content ends at byte \(found); expected \(expected) bytes, "
                + "found \(found)."
        case .npyTrailingBytes(let file, let expected, let found):
            "\(file): unexpected bytes after the NPY data at byte \(expected); "
                + "expected \(expected) bytes, found \(found)."
        case .csvRaggedRow(let file, let line, let expected, let found):
            "\(file): line \(line) has \(found) columns; expected \(expected) like the first row."
        case .csvBadCell(let file, let line, let column, let found):
            "\(file): line \(line), column \(column): expected a number, "
                + "found \(Self.shown(found, quote: "'"))."
        case .csvBadLabelColumn(let file, let labelColumn, let columns):
            "\(file): label column \(labelColumn) is outside the row; "
                + "expected an index in 0..<\(columns)."
        case .rawInvalidWidth(let file, let width):
            "\(file): row width \(width) is not positive; expected at least 1 float per row."
        case .rawSizeMismatch(let file, let bytes, let width):
            "\(file): size \(bytes) bytes is not a whole number of rows; expected a multiple "
                + "of \(4 * width) (4 × width \(width)), \(bytes % (4 * width)) bytes left over."
        case .safetensorsInvalid(let file, let reason):
            "\(file): invalid safetensors file: \(reason)."
        case .modelInvalid(let file, let reason):
            "\(file): not a valid autoencoder: \(reason)."
        }
    }

    private static func nonFiniteMessage(
        _ file: String, _ row: Int, _ column: Int, _ found: String, _ byteOffset: Int?,
        _ line: Int?
    ) -> String {
        var place = "row \(row), column \(column)"
        if let line {
            place = "line \(line), column \(column + 1)"
        } else if let byteOffset {
            place += " (byte \(byteOffset))"
        }
        return "\(file): \(place): expected a finite number, found \(shown(found))."
    }

    /// The longest text from the file that a message quotes whole, in characters.
    static let shownCharacters = 40

    /// `text` as a message quotes it: whole up to ``shownCharacters``, else its start and its
    /// length, so that a cell or header value of any size (a binary file read as CSV is one
    /// cell of megabytes) keeps the message to a line.
    private static func shown(_ text: String, quote: String = "") -> String {
        guard text.count > shownCharacters else { return quote + text + quote }
        return "\(quote)\(text.prefix(shownCharacters))…\(quote) (\(text.count) characters)"
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined(separator: " ")
    }
}

extension DataError: CustomStringConvertible {
    package var description: String { "\(code): \(message)" }
}
