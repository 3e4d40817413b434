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
}
