import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `saed.lock` in the data directory, held while a daemon uses it, so
/// that a second daemon started on the same directory refuses to run instead of training the
/// first one's jobs over again. The kernel drops the lock when the process dies.
package final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    /// Takes the lock, or throws `ConfigError` when another process holds it.
    package init(directory: URL) throws {
        let path = directory.appendingPathComponent("saed.lock").path
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ConfigError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw ConfigError("another saed is already using the data directory \(directory.path)")
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)  // releases the lock
    }
}
