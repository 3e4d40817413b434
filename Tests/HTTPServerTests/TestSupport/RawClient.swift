import Foundation
import Glibc

/// A blocking TCP client for tests: sends exact bytes and reads raw responses.
///
/// Every read waits at most `timeoutSeconds`; a read that times out throws rather than hangs.
final class RawClient {
    /// Why a client call failed.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private let fd: Int32
    private var buffer: [UInt8] = []
    private var isClosed = false

    /// Connects to `host:port` (IPv4 or IPv6 literal).
    init(port: Int, host: String = "127.0.0.1", timeoutSeconds: Double = 5) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        self.fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard self.fd >= 0 else { throw Failure(description: "socket failed: errno \(errno)") }
        guard connect(self.fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            Glibc.close(self.fd)
            throw Failure(description: "connect failed: errno \(code)")
        }
        var enable: Int32 = 1
        setsockopt(
            self.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &enable, socklen_t(MemoryLayout<Int32>.size))
        self.setReadTimeout(timeoutSeconds)
    }

    deinit {
        if !self.isClosed { Glibc.close(self.fd) }
    }

    /// The socket, for tests that read byte by byte.
    var descriptor: Int32 { self.fd }

    /// Sends `text` as UTF-8.
    func send(_ text: String) throws {
        try self.send(Array(text.utf8))
    }

    /// Sends all of `bytes`.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(
                    self.fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            offset += sent
        }
    }

    /// Sends `text` one byte per write, pausing `delaySeconds` between bytes.
    func sendByteByByte(_ text: String, delaySeconds: Double = 0.001) throws {
        for byte in text.utf8 {
            try self.send([byte])
            if delaySeconds > 0 { usleep(useconds_t(delaySeconds * 1_000_000)) }
        }
    }

    /// Reads the next response (interim 1xx responses included); `isHead` means no body follows.
    func readResponse(isHead: Bool = false) throws -> TestResponse {
        let headEnd = try self.readUntil([13, 10, 13, 10])
        let headText = String(decoding: self.buffer[..<headEnd], as: UTF8.self)
        self.buffer.removeFirst(headEnd + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let headers = lines.map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (
                String(parts[0]),
                parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            )
        }
        var response = TestResponse(statusLine: statusLine, headers: headers)
        if isHead || response.status < 200 || response.status == 204 || response.status == 304 {
            return response
        }
        if let length = response.header("Content-Length").flatMap({ Int($0) }) {
            response.body = try self.readExactly(length)
        } else if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            response.chunks = try self.readChunks()
            response.body = response.chunks.flatMap { $0 }
        } else {
            response.body = try self.readToEnd()
        }
        return response
    }

    /// Whether the server closed the connection: a read within `seconds` sees end of input or
    /// a reset. False when the connection stays open (the read times out) or data arrives.
    func isClosedByPeer(within seconds: Double = 2) -> Bool {
        guard self.buffer.isEmpty else { return false }
        self.setReadTimeout(seconds)
        defer { self.setReadTimeout(5) }
        var byte: UInt8 = 0
        let count = recv(self.fd, &byte, 1, 0)
        if count == 0 { return true }
        if count < 0 { return errno == ECONNRESET || errno == EPIPE }
        self.buffer.append(byte)
        return false
    }

    /// Shuts down the sending side only, as `nc -N` does after its input.
    func shutdownWrite() {
        shutdown(self.fd, Int32(SHUT_WR))
    }

    /// Closes the socket.
    func close() {
        guard !self.isClosed else { return }
        self.isClosed = true
        Glibc.close(self.fd)
    }

    // MARK: - Reading

    private func setReadTimeout(_ seconds: Double) {
        var timeout = timeval(
            tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        setsockopt(
            self.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Reads more bytes into the buffer; false at end of input.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = recv(self.fd, &chunk, chunk.count, 0)
        if count > 0 {
            self.buffer.append(contentsOf: chunk[0..<count])
            return true
        }
        if count == 0 || errno == ECONNRESET { return false }
        throw Failure(description: "read failed or timed out: errno \(errno)")
    }

    private func readUntil(_ marker: [UInt8]) throws -> Int {
        var searchFrom = 0
        while true {
            if self.buffer.count >= marker.count {
                for index in searchFrom...(self.buffer.count - marker.count)
                where self.buffer[index..<(index + marker.count)].elementsEqual(marker) {
                    return index
                }
                searchFrom = self.buffer.count - marker.count + 1
            }
            guard try self.fill() else { throw Failure(description: "connection closed early") }
        }
    }

    private func readExactly(_ count: Int) throws -> [UInt8] {
        while self.buffer.count < count {
            guard try self.fill() else { throw Failure(description: "connection closed early") }
        }
        let bytes = Array(self.buffer[..<count])
        self.buffer.removeFirst(count)
        return bytes
    }

    private func readLine() throws -> String {
        let end = try self.readUntil([13, 10])
        let line = String(decoding: self.buffer[..<end], as: UTF8.self)
        self.buffer.removeFirst(end + 2)
        return line
    }

    private func readChunks() throws -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        while true {
            let sizeText = try self.readLine()
            guard let size = Int(sizeText, radix: 16) else {
                throw Failure(description: "bad chunk size '\(sizeText)'")
            }
            if size == 0 {
                while try !self.readLine().isEmpty {}
                return chunks
            }
            chunks.append(try self.readExactly(size))
            _ = try self.readExactly(2)
        }
    }

    private func readToEnd() throws -> [UInt8] {
        while try self.fill() {}
        defer { self.buffer.removeAll() }
        return self.buffer
    }
}

/// A response as the raw client saw it.
struct TestResponse {
    /// For example `HTTP/1.1 200 OK`.
    var statusLine: String
    var headers: [(String, String)]
    var body: [UInt8] = []
    /// The chunks of a chunked body, in order.
    var chunks: [[UInt8]] = []

    var status: Int {
        Int(self.statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    var bodyText: String { String(decoding: self.body, as: UTF8.self) }

    /// The first value of header `name`, compared without case.
    func header(_ name: String) -> String? {
        self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// How many times header `name` appears.
    func count(_ name: String) -> Int {
        self.headers.filter { $0.0.lowercased() == name.lowercased() }.count
    }

    /// `error.code` from a JSON error body.
    var errorCode: String? { self.errorField("code") }

    /// `error.message` from a JSON error body.
    var errorMessage: String? { self.errorField("message") }

    private func errorField(_ name: String) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(self.body)) as? [String: Any]
        return (object?["error"] as? [String: Any])?[name] as? String
    }
}
