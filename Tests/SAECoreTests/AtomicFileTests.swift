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

    @Test func leftoversOfInterruptedWritesAreRemovedAndOtherFilesKept() throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let nested = directory.appendingPathComponent("models/model_1")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        let leftovers = [".job_1.ckpt.4242.9f3a.tmp", "models/model_1/.model.safetensors.17.ab12cd.tmp"]
        let kept = [".hidden", "notes.tmp", ".a.b.tmp", ".x.12.zz.tmp", "models/model_1/cfg.json"]
        for name in leftovers + kept {
            try AtomicFile.write([1], to: directory.appendingPathComponent(name))
        }

        let removed = AtomicFile.removeLeftovers(under: directory)

        #expect(removed.sorted() == leftovers.sorted())
        for name in kept {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
        #expect(AtomicFile.removeLeftovers(under: directory) == [])
    }

    @Test func crashHookSettingsParseOnlyWhenWellFormed() {
        let hook = CrashInjection("before-rename:.ckpt:3")
        #expect(hook?.point == .beforeRename)
        #expect(hook?.fileSuffix == ".ckpt")
        #expect(hook?.occurrence == 3)
        #expect(CrashInjection("after-rename:cfg.json:1")?.point == .afterRename)
        for bad in ["", "before-rename", "before-rename:.ckpt", "sideways:.ckpt:1", "before-rename::1",
                    "before-rename:.ckpt:0", "before-rename:.ckpt:x", "after-rename:a:1:2"] {
            #expect(CrashInjection(bad) == nil, "\(bad)")
        }
    }

    /// The process is killed between writing the new version and renaming it into place: the
    /// target keeps its previous bytes and the new ones sit only in a hidden temporary file.
    @Test func crashBeforeRenameKeepsThePreviousVersion() async throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("state.ckpt").path
        try AtomicFile.write(Array("previous".utf8), to: URL(fileURLWithPath: path))

        await #expect(processExitsWith: .signal(SIGKILL)) { [path = path as String] in
            setenv(CrashInjection.environmentKey, "before-rename:.ckpt:1", 1)
            try AtomicFile.write(Array("the new version".utf8), to: URL(fileURLWithPath: path))
        }

        #expect(try AtomicFile.read(contentsOf: URL(fileURLWithPath: path)) == Array("previous".utf8))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        let temporary = try #require(names.first { $0 != "state.ckpt" })
        #expect(names.count == 2 && temporary.hasPrefix(".state.ckpt.") && temporary.hasSuffix(".tmp"))
        #expect(try AtomicFile.read(contentsOf: directory.appendingPathComponent(temporary))
                    == Array("the new version".utf8))
        #expect(AtomicFile.removeLeftovers(under: directory) == [temporary])
    }

    /// Killed just after the rename, the new version is whole and in place.
    @Test func crashAfterRenameLeavesTheNewVersionWhole() async throws {
        let directory = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cfg.json").path
        try AtomicFile.write(Array("previous".utf8), to: URL(fileURLWithPath: path))

        await #expect(processExitsWith: .signal(SIGKILL)) { [path = path as String] in
            setenv(CrashInjection.environmentKey, "after-rename:cfg.json:2", 1)
            try AtomicFile.write(Array("first".utf8), to: URL(fileURLWithPath: path))
            try AtomicFile.write(Array("second".utf8), to: URL(fileURLWithPath: path))
            try AtomicFile.write(Array("never".utf8), to: URL(fileURLWithPath: path))
        }

        #expect(try AtomicFile.read(contentsOf: URL(fileURLWithPath: path)) == Array("second".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["cfg.json"])
    }
}
