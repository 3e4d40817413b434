import Foundation
import Testing

@testable import HTTPServer

/// Interoperability with the system's curl, when it is installed.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
struct CurlTests {
    /// Runs curl with `arguments`; returns its standard output.
    private func curl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["--silent", "--show-error", "--max-time", "10"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    @Test func twoMebibytePostWithExpectDoesNotStall() throws {
        let server = try TestServer()
        defer { server.stop() }
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("saed-curl-\(UUID().uuidString).bin")
        try Data(repeating: UInt8(ascii: "z"), count: 2 << 20).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let started = Date()
        let output = try self.curl([
            "-d", "@\(file.path)", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
            "http://127.0.0.1:\(server.port)/echo",
        ])

        #expect(output == "200 \(2 << 20)")
        #expect(Date().timeIntervalSince(started) < 0.9)
    }

    @Test func headWithDashI() throws {
        let server = try TestServer()
        defer { server.stop() }

        let output = try self.curl(["-I", "http://127.0.0.1:\(server.port)/hello"])

        #expect(output.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(output.contains("Content-Length: 5\r\n"))
        #expect(output.contains("Server: saed\r\n"))
    }

    @Test func http10Request() throws {
        let server = try TestServer()
        defer { server.stop() }

        let output = try self.curl(["--http1.0", "-i", "http://127.0.0.1:\(server.port)/hello"])

        #expect(output.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(output.contains("Connection: close\r\n"))
        #expect(output.hasSuffix("\r\n\r\nhello"))
    }
}
