// Whole-file reads and crash-safe whole-file writes, shared by the data and model readers.
//
// A write never leaves a half-written target behind: the bytes go to a temporary file in the
// same directory, which is synced and then renamed over the target, and the directory is synced
// so the rename itself survives a power cut. Errors name the file by its last path component.

import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Reads whole files and replaces files atomically.
package enum AtomicFile {
    /// Receives the bytes of a file being written by `write(to:_:)`.
    ///
    /// Valid only inside the body passed to `write(to:_:)`; do not keep it.
    package struct Writer {
        fileprivate let descriptor: Int32
        fileprivate let file: String

        /// Appends `bytes` to the file, retrying short writes.
        ///
        /// - Throws: `DataError.writeFailed` when the system refuses the write (disk full, I/O).
        package mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
            var done = 0
            while done < bytes.count {
                // safe: done < count, so the buffer is non-empty and has a base address
                let written = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw DataError.writeFailed(file: file, reason: systemReason())
                }
                done += written
            }
        }

        /// Appends `bytes` to the file.
        package mutating func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }
    }

    /// Replaces the file at `url` with whatever `body` writes, or leaves it untouched.
    ///
    /// The bytes go to a hidden temporary file beside the target, which is fsynced, renamed
    /// over the target and followed by an fsync of the directory. If `body` throws, or any step
    /// before the rename fails, the temporary file is removed, the previous file (if any) keeps
    /// its contents and the error propagates. The directory must already exist.
    ///
    /// - Throws: whatever `body` throws, or `DataError.writeFailed` naming the target's file name.
    package static func write(to url: URL, _ body: (inout Writer) throws -> Void) throws {
        let name = url.lastPathComponent
        let directory = url.deletingLastPathComponent()
        let suffix = String(UInt32.random(in: .min ... .max), radix: 16)
        let temporary = directory.appendingPathComponent(".\(name).\(getpid()).\(suffix).tmp")

        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw DataError.writeFailed(file: name, reason: systemReason())
        }
        var isRenamed = false
        defer {
            if !isRenamed { unlink(temporary.path) }
        }

        // Write and sync the temporary file; close it whether or not that worked.
        do {
            var writer = Writer(descriptor: descriptor, file: name)
            try body(&writer)
            guard fsync(descriptor) == 0 else {
                throw DataError.writeFailed(file: name, reason: systemReason())
            }
        } catch {
            close(descriptor)
            throw error
        }
        guard close(descriptor) == 0 else {
            throw DataError.writeFailed(file: name, reason: systemReason())
        }

        CrashInjection.reach(.beforeRename, file: name)
        guard rename(temporary.path, url.path) == 0 else {
            throw DataError.writeFailed(file: name, reason: systemReason())
        }
        isRenamed = true
        try syncDirectory(directory, reportingAs: name)
        CrashInjection.reach(.afterRename, file: name)
    }

    /// Removes the temporary files that writes interrupted by a crash left in `directory` and
    /// the folders below it, and returns their paths relative to `directory`.
    ///
    /// Only names this type makes (`.<target>.<pid>.<hex>.tmp`) are touched, so a user's own
    /// files are safe. Call it at start-up, before anything writes: a write in progress in
    /// this process would lose its temporary file.
    @discardableResult
    package static func removeLeftovers(under directory: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        var removed: [String] = []
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            guard isTemporaryName(name) else { continue }
            if (try? FileManager.default.removeItem(at: directory.appendingPathComponent(relative))) != nil {
                removed.append(relative)
            }
        }
        return removed
    }

    /// Whether `name` has the form of this type's temporary files: `.<target>.<pid>.<hex>.tmp`.
    static func isTemporaryName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard name.hasPrefix("."), parts.count >= 5, parts.last == "tmp" else { return false }
        let pid = parts[parts.count - 3]
        let suffix = parts[parts.count - 2]
        return !pid.isEmpty && pid.allSatisfy(\.isNumber) && !suffix.isEmpty && suffix.allSatisfy(\.isHexDigit)
    }

    /// Replaces the file at `url` with `bytes`; see `write(to:_:)`.
    package static func write(_ bytes: [UInt8], to url: URL) throws {
        try write(to: url) { writer in try writer.write(bytes) }
    }

    /// Replaces the file at `url` with `data`; see `write(to:_:)`.
    package static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { writer in
            try data.withUnsafeBytes { try writer.write($0) }
        }
    }

    /// Reads the whole file at `url`.
    ///
    /// - Throws: `DataError.fileNotFound`, or `DataError.fileUnreadable` (a directory, no
    ///   permission, an I/O error).
    package static func read(contentsOf url: URL) throws -> [UInt8] {
        let file = try ReadOnlyFile(url)
        return try [UInt8](unsafeUninitializedCapacity: file.size) { buffer, count in
            count = try file.read(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// Syncs a directory so that a rename inside it is durable.
    private static func syncDirectory(_ directory: URL, reportingAs name: String) throws {
        let descriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw DataError.writeFailed(file: name, reason: systemReason())
        }
        defer { close(descriptor) }
        // Some file systems cannot sync a directory at all; the rename has still happened.
        if fsync(descriptor) != 0 && errno != EINVAL && errno != ENOTSUP {
            throw DataError.writeFailed(file: name, reason: systemReason())
        }
    }
}

/// Bytes read front to back, from a file or through a decompressor.
protocol ByteStream: AnyObject {
    /// Reads until `buffer` is full or the stream ends; returns the number of bytes read.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteStream {
    /// Reads and discards the rest of the stream, returning how many bytes there were, or
    /// stops once more than `limit` were read and returns nil.
    func countRemainingBytes(upTo limit: Int = .max) throws -> Int? {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 8)
        defer { scratch.deallocate() }
        var total = 0
        while true {
            let got = try read(into: scratch)
            total += got
            if total > limit { return nil }
            if got < scratch.count { return total }
        }
    }
}

/// A file opened for reading, closed when the last reference goes away.
///
/// Not thread-safe; the readers use one on a single thread and drop it before returning.
final class ReadOnlyFile: ByteStream {
    /// The last path component, for error messages.
    let name: String
    /// The size in bytes when the file was opened.
    let size: Int
    private let descriptor: Int32

    /// Opens `url` for reading.
    ///
    /// - Throws: `DataError.fileNotFound`, or `DataError.fileUnreadable` for a directory or
    ///   when the system refuses to open it.
    init(_ url: URL) throws {
        name = url.lastPathComponent
        descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw DataError.fileNotFound(file: name) }
            throw DataError.fileUnreadable(file: name, reason: systemReason())
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = systemReason()
            close(descriptor)
            throw DataError.fileUnreadable(file: name, reason: reason)
        }
        guard (status.st_mode & S_IFMT) != S_IFDIR else {
            close(descriptor)
            throw DataError.fileUnreadable(file: name, reason: "it is a directory")
        }
        size = Int(status.st_size)
    }

    deinit {
        close(descriptor)
    }

    /// Reads from the current position until `buffer` is full or the file ends.
    ///
    /// - Returns: the number of bytes read; fewer than `buffer.count` only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            // safe: done < count, so the buffer is non-empty and has a base address
            let got = Glibc.read(descriptor, buffer.baseAddress! + done, buffer.count - done)
            if got < 0 {
                if errno == EINTR { continue }
                throw DataError.fileUnreadable(file: name, reason: systemReason())
            }
            if got == 0 { break }
            done += got
        }
        return done
    }

    /// Reads up to `count` bytes at `offset` without moving the current position.
    func read(count: Int, at offset: Int) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, filled in
            filled = 0
            while filled < count {
                // safe: filled < count, so the buffer is non-empty and has a base address
                let target = buffer.baseAddress! + filled
                let got = pread(descriptor, target, count - filled, off_t(offset + filled))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw DataError.fileUnreadable(file: name, reason: systemReason())
                }
                if got == 0 { break }
                filled += got
            }
        }
    }
}

/// The system's description of the current `errno`, which never contains a path.
private func systemReason() -> String {
    String(cString: strerror(errno))
}
