import Glibc
import Synchronization

/// A request body the server wrote to a temporary file as it arrived, for a route added with
/// `Router.add(spoolsBody:)`.
///
/// The file lives in the server's `spoolDirectory` and is removed when the last reference to
/// this value goes (once the handler's request is done), unless the handler moved it away with
/// `move(to:)` first. A handler that wants to keep the bytes renames them into place, which
/// costs no copy when both paths are on one file system.
package final class BodyFile: Sendable {
    /// The file's path, inside the spool directory until `move(to:)` succeeds.
    package let path: String
    /// The body's length in bytes (after de-chunking).
    package let byteCount: Int
    /// Whether `move(to:)` took the file away; guarded by its own mutex.
    private let isMoved = Mutex(false)

    init(path: String, byteCount: Int) {
        self.path = path
        self.byteCount = byteCount
    }

    /// Renames the file to `destination` (replacing a file there), after which it is the
    /// caller's and is not removed.
    ///
    /// - Throws: `BodyFileError` with `errno` when `rename(2)` fails (for example across file
    ///   systems: then copy from `path` instead); the file is left where it was.
    package func move(to destination: String) throws(BodyFileError) {
        try self.isMoved.withLock { isMoved throws(BodyFileError) in
            guard !isMoved else { throw BodyFileError(call: "rename", errno: ENOENT) }
            guard rename(self.path, destination) == 0 else {
                throw BodyFileError(call: "rename", errno: errno)
            }
            isMoved = true
        }
    }

    deinit {
        if !self.isMoved.withLock({ $0 }) { unlink(self.path) }
    }
}

/// A failed system call on a `BodyFile`.
package struct BodyFileError: Error, Equatable, CustomStringConvertible {
    package let call: String
    package let errno: Int32

    package var description: String { "\(self.call): \(String(cString: strerror(self.errno)))" }
}

/// The event loop's side of a spooled body: the open file the pieces are appended to.
///
/// Touched only on the event loop thread. Writes go to the page cache and do not wait for the
/// disk. The file is removed when this value goes before `finish()` (the client left, the body
/// was too slow or too large), so an abandoned upload leaves nothing behind.
final class SpoolFile {
    private var descriptor: Int32
    let path: String
    private(set) var byteCount = 0
    private var isFinished = false

    /// Creates an empty file with a unique name in `directory`.
    ///
    /// - Throws: `BodyFileError` from `mkstemp` (a missing or unwritable directory).
    init(directory: String) throws(BodyFileError) {
        var template = Array((directory + "/saed-body-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw BodyFileError(call: "mkstemp", errno: errno) }
        self.descriptor = descriptor
        self.path = String(cString: template)
    }

    /// Appends `bytes` to the file.
    ///
    /// - Throws: `BodyFileError` when the write fails (a full disk).
    func write(_ bytes: [UInt8]) throws(BodyFileError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                // Safe: offset < count, so the buffer is non-empty.
                Glibc.write(self.descriptor, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw BodyFileError(call: "write", errno: errno)
            }
            offset += written
        }
        self.byteCount += bytes.count
    }

    /// Closes the file and hands it on; from now on the `BodyFile` decides when it goes.
    func finish() -> BodyFile {
        close(self.descriptor)
        self.descriptor = -1
        self.isFinished = true
        return BodyFile(path: self.path, byteCount: self.byteCount)
    }

    deinit {
        if self.descriptor >= 0 { close(self.descriptor) }
        if !self.isFinished { unlink(self.path) }
    }
}
