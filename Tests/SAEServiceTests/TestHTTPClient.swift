import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 client for tests: one request per connection (`Connection: close`),
/// reads until the server closes, and undoes chunked framing.
struct TestResponse {
    var status: Int
    var headers: [String: String]  // lower-cased names, last value wins
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw TestClientError("body is not a JSON object: \(text.prefix(200))")
        }
        return object
    }
}

struct TestClientError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum TestHTTPClient {
    static func request(_ method: String, _ target: String, port: Int, body: String? = nil,
                        headers: [String: String] = [:], timeoutSeconds: Int = 60) throws -> TestResponse {
        let bytes = body.map { Array($0.utf8) } ?? []
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if body != nil {
            head += "Content-Type: application/json\r\nContent-Length: \(bytes.count)\r\n"
        }
        head += "\r\n"
        let raw = try exchange(Array(head.utf8) + bytes, port: port, timeoutSeconds: timeoutSeconds)
        return try parse(raw)
    }

    /// Sends `bytes` and returns everything the server sends until it closes.
    static func exchange(_ bytes: [UInt8], port: Int, timeoutSeconds: Int) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError("socket failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw TestClientError("connect to port \(port) failed") }
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw TestClientError("send failed") }
            sent += count
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw TestClientError("recv failed or timed out after \(received.count) bytes") }
            received.append(contentsOf: buffer[0..<count])
        }
        return received
    }

    static func parse(_ raw: [UInt8]) throws -> TestResponse {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = raw.indices.first(where: { raw[$0...].starts(with: separator) }) else {
            throw TestClientError("no complete response head in \(raw.count) bytes")
        }
        let lines = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else {
            throw TestClientError("bad status line \(lines[0])")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(raw[(end + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            body = try dechunk(body)
        }
        return TestResponse(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ data: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < data.count {
            guard let lineEnd = (index..<data.count - 1).first(where: { data[$0] == 13 && data[$0 + 1] == 10 }) else {
                throw TestClientError("chunk size line not terminated")
            }
            let sizeText = String(decoding: data[index..<lineEnd], as: UTF8.self).split(separator: ";")[0]
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw TestClientError("bad chunk size \(sizeText)")
            }
            if size == 0 { return out }
            let start = lineEnd + 2
            guard start + size <= data.count else { throw TestClientError("chunk runs past the body") }
            out.append(contentsOf: data[start..<start + size])
            index = start + size + 2
        }
        throw TestClientError("chunked body ended without a last chunk")
    }
}
