import Glibc

// Thin wrappers over the POSIX socket calls the server makes. Every socket is non-blocking
// and close-on-exec; sends use MSG_NOSIGNAL so a vanished peer gives EPIPE instead of SIGPIPE.

/// Socket helpers; all functions are safe to call from any thread.
enum Socket {
    /// What one `accept` call produced.
    enum AcceptResult {
        case accepted(fd: Int32, remoteAddress: String)
        case wouldBlock
        case failed(errno: Int32)
    }

    /// `poll` flag for "peer shut down its writing side" (Linux); not exported by Glibc's module.
    static let pollReadHangUp: Int16 = 0x2000

    /// Binds a listening socket to `host:port`.
    ///
    /// - Returns: the non-blocking listening socket and the port actually bound.
    /// - Throws: `HTTPServerError` when the host does not resolve, the address is in use, or a
    ///   socket call fails.
    static func listen(host: String, port: Int, backlog: Int32) throws(HTTPServerError) -> (
        Int32, Int
    ) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &list)
        guard status == 0, let info = list else {
            let reason = String(cString: gai_strerror(status))
            throw .invalidAddress(host: host, port: port, reason: reason)
        }
        defer { freeaddrinfo(list) }

        let fd = socket(
            info.pointee.ai_family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket", errno: errno) }
        var enable: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &enable, socklen_t(MemoryLayout<Int32>.size))

        if bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            let code = errno
            close(fd)
            if code == EADDRINUSE { throw .addressInUse(host: host, port: port) }
            throw .system("bind", errno: code)
        }
        guard Glibc.listen(fd, backlog) == 0, Self.setNonBlocking(fd) else {
            let code = errno
            close(fd)
            throw .system("listen", errno: code)
        }
        return (fd, Self.localPort(of: fd))
    }

    /// Accepts one pending connection and makes it non-blocking with Nagle's algorithm off.
    static func accept(_ listener: Int32) -> AcceptResult {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.accept(listener, $0, &length)
            }
        }
        guard fd >= 0 else {
            return errno == EAGAIN || errno == EWOULDBLOCK ? .wouldBlock : .failed(errno: errno)
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = Self.setNonBlocking(fd)
        var enable: Int32 = 1
        setsockopt(
            fd, Int32(IPPROTO_TCP), TCP_NODELAY, &enable, socklen_t(MemoryLayout<Int32>.size))
        return .accepted(fd: fd, remoteAddress: Self.describe(storage))
    }

    /// Sets `O_NONBLOCK` on `fd`; false when `fcntl` fails.
    static func setNonBlocking(_ fd: Int32) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0
    }

    /// The local port `fd` is bound to, or 0 when it cannot be read.
    static func localPort(of fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard status == 0 else { return 0 }
        return Self.addressAndPort(storage).port
    }

    /// `address:port`, or `[address]:port` for IPv6.
    static func describe(_ storage: sockaddr_storage) -> String {
        let (address, port) = Self.addressAndPort(storage)
        return address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    private static func addressAndPort(_ storage: sockaddr_storage) -> (address: String, port: Int)
    {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: storage) { pointer in
            let raw = UnsafeRawPointer(pointer)
            switch family {
            case AF_INET:
                var address = raw.load(as: sockaddr_in.self)
                inet_ntop(AF_INET, &address.sin_addr, &text, socklen_t(text.count))
                return (Self.string(text), Int(UInt16(bigEndian: address.sin_port)))
            case AF_INET6:
                var address = raw.load(as: sockaddr_in6.self)
                inet_ntop(AF_INET6, &address.sin6_addr, &text, socklen_t(text.count))
                return (Self.string(text), Int(UInt16(bigEndian: address.sin6_port)))
            default:
                return ("unknown", 0)
            }
        }
    }

    private static func string(_ text: [CChar]) -> String {
        let bytes = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Seconds on a monotonic clock with an arbitrary origin; for deadlines only.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// `seconds` as a `poll` timeout in whole milliseconds, rounded up, between 0 and `cap`.
func pollMilliseconds(_ seconds: Double, cap: Int32 = 1_000) -> Int32 {
    guard seconds > 0 else { return 0 }
    return Int32(min(Double(cap), (seconds * 1_000).rounded(.up)))
}
