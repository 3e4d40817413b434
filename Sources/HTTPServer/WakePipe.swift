import Glibc

/// A self-pipe that wakes the event loop's `poll` from other threads.
///
/// Both descriptors are closed in `deinit`, so a worker that outlives the loop can still call
/// `wake()` harmlessly.
final class WakePipe: Sendable {
    /// The end the event loop polls for readability.
    let readFD: Int32
    private let writeFD: Int32

    /// Creates the pipe, both ends non-blocking and close-on-exec.
    init() throws(HTTPServerError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw .system("pipe", errno: errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = Socket.setNonBlocking(fd)
        }
        self.readFD = fds[0]
        self.writeFD = fds[1]
    }

    deinit {
        close(self.readFD)
        close(self.writeFD)
    }

    /// Makes the read end readable; extra wakes while one is pending are dropped.
    func wake() {
        var byte: UInt8 = 1
        _ = write(self.writeFD, &byte, 1)
    }

    /// Empties the pipe after a wake-up.
    func drain() {
        var scratch = [UInt8](repeating: 0, count: 256)
        while read(self.readFD, &scratch, scratch.count) > 0 {}
    }
}
