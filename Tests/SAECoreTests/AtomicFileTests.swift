import Foundation
import SAECore
import Testing

/// A fresh directory under the system's temporary directory.
private func makeScratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("saed-atomic-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Thrown by a test body to make a write fail halfway.
private struct InterruptedWrite: Error {}

struct AtomicFileTests {
    @Test func writeReplacesContentsAndLeavesNoTemporaryFile() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("state.json")

        try AtomicFile.write(Array("first".utf8), to: url)
        try AtomicFile.write(Data("second, longer".utf8), to: url)

        #expect(try AtomicFile.read(contentsOf: url) == Array("second, longer".utf8))
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["state.json"])
    }

    @Test func failureHalfwayLeavesThePreviousFileIntact() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        try AtomicFile.write(Array("previous".utf8), to: url)

        #expect(throws: InterruptedWrite.self) {
            try AtomicFile.write(to: url) { writer in
                try writer.write(Array("half of the new conte".utf8))
                throw InterruptedWrite()
            }
        }

        #expect(try AtomicFile.read(contentsOf: url) == Array("previous".utf8))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        #expect(names == ["model.safetensors"])
    }

    @Test func failedRenameLeavesTheTargetAndNoTemporaryFile() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A non-empty directory in the way makes the final rename fail.
        let target = directory.appendingPathComponent("busy")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: false)
        try Data("keep".utf8).write(to: target.appendingPathComponent("inside"))

        let error = #expect(throws: DataError.self) {
            try AtomicFile.write(Array("new".utf8), to: target)
        }
        #expect(error?.code == "file_write_failed")
        #expect(error?.file == "busy")
        #expect(
            try AtomicFile.read(contentsOf: target.appendingPathComponent("inside"))
                == Array("keep".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["busy"])
    }

    @Test func missingDirectoryFailsWithoutLeakingThePath() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("saed-missing-\(UUID().uuidString)")
        let url = directory.appendingPathComponent("cfg.json")

        let error = #expect(throws: DataError.self) { try AtomicFile.write([1, 2, 3], to: url) }
        #expect(error == .writeFailed(file: "cfg.json", reason: "No such file or directory"))
        #expect(error?.message == "cfg.json: cannot be written (No such file or directory).")
    }

    @Test func readingADirectoryOrNothingThrowsCodedErrors() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let notFile = #expect(throws: DataError.self) { try AtomicFile.read(contentsOf: directory) }
        #expect(notFile?.code == "file_unreadable")
        #expect(
            notFile?.message
                == "\(directory.lastPathComponent): cannot be read (it is a directory).")
        let missing = #expect(throws: DataError.self) {
            try AtomicFile.read(contentsOf: directory.appendingPathComponent("gone.bin"))
        }
        #expect(missing == .fileNotFound(file: "gone.bin"))
    }
}
