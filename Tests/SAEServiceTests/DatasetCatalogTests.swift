import Foundation
import SAECore
import Testing
@testable import SAEService

/// The catalog keeps each file's rows for reuse, and only its current version.
struct DatasetCatalogTests {
    /// A fresh datasets directory holding `a.csv`.
    static func directory(writing text: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("saed-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: directory.appendingPathComponent("a.csv"))
        return directory
    }

    /// A file rewritten in place is read anew on its next use, and its old rows are let go:
    /// rewriting a file again and again holds one copy, not one per version.
    @Test func aChangedFileIsReadAgainAndOnlyItsNewRowsAreKept() throws {
        let directory = try Self.directory(writing: "1,2\n3,4\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let catalog = DatasetCatalog(datasetsDirectory: directory, fashionMNISTDirectory: directory)
        let source = DatasetSource(reference: .path("a.csv"), limit: nil)
        #expect(try catalog.load(source, field: "dataset").rows == 2)

        let file = directory.appendingPathComponent("a.csv")
        for version in 1...3 {
            try Data(String(repeating: "5,6\n", count: 2 + version).utf8).write(to: file)
            // A later modification time, as any editor or copy gives.
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSinceNow: Double(version))], ofItemAtPath: file.path)
            let dataset = try catalog.load(source, field: "dataset")
            #expect(dataset.rows == 2 + version)
            #expect(dataset.floats(rows: [0]) == [5, 6])
            #expect(catalog.cachedFileCount == 1)
        }
        // Unchanged, the held rows are used: a limit is a prefix of them.
        #expect(try catalog.load(DatasetSource(reference: .path("a.csv"), limit: 2), field: "dataset").rows == 2)
        #expect(catalog.cachedFileCount == 1)
    }

    /// A job's `format` reads a CSV with its header and label column, or raw float32 rows, and
    /// each reading of one file is held apart.
    @Test func namedFormatsReadHeaderLabelsAndRawFloats() throws {
        let directory = try Self.directory(writing: "label,x,y\ncat,1,2\ndog,3,4\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let floats: [Float] = [1.5, -2, 3.25, 4, 5, 6]
        try floats.withUnsafeBytes { Data($0) }.write(to: directory.appendingPathComponent("r.bin"))
        let catalog = DatasetCatalog(datasetsDirectory: directory, fashionMNISTDirectory: directory)

        let csv = DatasetSource(
            reference: .path("a.csv"), limit: nil, format: .csv(hasHeader: true, labelColumn: 0))
        let table = try catalog.load(csv, field: "dataset")
        #expect(table.rows == 2 && table.width == 2 && table.floats(rows: [0, 1]) == [1, 2, 3, 4])
        let wide = try catalog.load(
            DatasetSource(reference: .path("r.bin"), limit: nil, format: .rawFloat32(width: 3)), field: "dataset")
        #expect(wide.rows == 2 && wide.width == 3 && wide.floats(rows: [0, 1]) == floats)
        let narrow = try catalog.load(
            DatasetSource(reference: .path("r.bin"), limit: 1, format: .rawFloat32(width: 2)), field: "dataset")
        #expect(narrow.rows == 1 && narrow.floats(rows: [0]) == [1.5, -2])
        // One reading per file: r.bin's rows of two replaced its rows of three.
        #expect(catalog.cachedFileCount == 2)

        // Read without the header, the header's text is a bad cell naming its line and column.
        do {
            _ = try catalog.load(DatasetSource(reference: .path("a.csv"), limit: nil), field: "dataset")
            Issue.record("a header read as data loaded")
        } catch let error as ServiceError {
            #expect(error.code == "csv_bad_cell" && error.message.contains("a.csv: line 1"), "\(error.message)")
        }
        // Rows of four values do not divide 24 bytes: the file, its size and the width are named.
        do {
            _ = try catalog.load(
                DatasetSource(reference: .path("r.bin"), limit: nil, format: .rawFloat32(width: 4)), field: "dataset")
            Issue.record("24 bytes read as rows of 4 floats")
        } catch let error as ServiceError {
            #expect(error.code == "raw_size_mismatch" && error.message.contains("r.bin"), "\(error.message)")
            #expect(error.message.contains("24"), "\(error.message)")
        }
    }

    /// Each format a client names is another reading of the file, but the catalog holds one
    /// per file: asking for every width that divides a file must not hold a copy per width.
    @Test func aFileReadInManyFormatsIsHeldOnce() throws {
        let directory = try Self.directory(writing: "h,x\n1,2\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let floats: [Float] = [1, 2, 3, 4, 5, 6]
        try floats.withUnsafeBytes { Data($0) }.write(to: directory.appendingPathComponent("r.bin"))
        let catalog = DatasetCatalog(datasetsDirectory: directory, fashionMNISTDirectory: directory)

        for width in [1, 2, 3, 6, 2] {
            let source = DatasetSource(reference: .path("r.bin"), limit: nil, format: .rawFloat32(width: width))
            let dataset = try catalog.load(source, field: "dataset")
            #expect(dataset.rows == 6 / width && dataset.width == width)
            #expect(dataset.floats(rows: [dataset.rows - 1]) == Array(floats.suffix(width)))
            #expect(catalog.cachedFileCount == 1, "width \(width)")
        }
        // The format a `.csv` name implies, named or not, is one reading.
        let named = DatasetSource(reference: .path("a.csv"), limit: nil, format: .csv(hasHeader: true, labelColumn: 0))
        #expect(try catalog.load(named, field: "dataset").floats(rows: [0]) == [2])
        #expect(catalog.cachedFileCount == 2)
    }

    /// A file whose name ends in `|` and a format's description is its own file, not another
    /// reading of the file before the `|`: it is read as its name says (here, not as IDX).
    @Test func aFileNamedLikeAReadingOfAnotherIsReadItself() throws {
        let directory = try Self.directory(writing: "1,2\n3,4\n")
        defer { try? FileManager.default.removeItem(at: directory) }
        let format = FileFormat.csv(hasHeader: true, labelColumn: nil)
        let lookalike = "a.csv|\(format)"
        let stamp = Date(timeIntervalSince1970: 1_700_000_000)
        try Data("9,9\n9,9\n".utf8).write(to: directory.appendingPathComponent(lookalike))
        for name in ["a.csv", lookalike] {
            try FileManager.default.setAttributes(
                [.modificationDate: stamp], ofItemAtPath: directory.appendingPathComponent(name).path)
        }
        let catalog = DatasetCatalog(datasetsDirectory: directory, fashionMNISTDirectory: directory)
        let read = try catalog.load(DatasetSource(reference: .path("a.csv"), limit: nil, format: format), field: "dataset")
        #expect(read.rows == 1 && read.floats(rows: [0]) == [3, 4])

        // Same size, same time; its name gives no `.csv` extension, so it is IDX, which it is not.
        do {
            let other = try catalog.load(DatasetSource(reference: .path(lookalike), limit: nil), field: "dataset")
            Issue.record("read as \(other.rows) rows of \(other.floats(rows: [0]))")
        } catch let error as ServiceError {
            #expect(error.code == "idx_bad_magic", "\(error.message)")
        }
    }
}
