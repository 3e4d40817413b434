import Foundation
import Glibc
import Testing

@testable import HTTPServer

/// Interoperability with the system's curl, when it is installed.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
struct CurlTests {
    /// Starts curl with `arguments` (bounded to 10 s), standard output on a pipe.
    private func launch(_ arguments: [String], input: Pipe? = nil) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["--silent", "--show-error", "--max-time", "10"] + arguments
        let output = Pipe()
        process.standardOutput = output
        if let input { process.standardInput = input }
        try process.run()
        return (process, output)
    }

    /// Runs curl with `arguments` to the end; returns its standard output.
    private func curl(_ arguments: [String]) throws -> String {
        let (process, output) = try self.launch(arguments)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    @Test func twoMebibytePostTakesTheExpectPathWithoutStalling() throws {
        let server = try TestServer()
        defer { server.stop() }
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("saed-curl-\(UUID().uuidString).bin")
        try Data(repeating: UInt8(ascii: "z"), count: 2 << 20).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let started = Date()
        let output = try self.curl([
            "-d", "@\(file.path)", "-D", "-", "-o", "/dev/null",
            "-w", "%{http_code} %{size_download}", "http://127.0.0.1:\(server.port)/echo",
        ])
        let elapsed = Date().timeIntervalSince(started)

        // curl announced the body with Expect and got 100 Continue, not its 1 s fallback.
        #expect(output.hasPrefix("HTTP/1.1 100 Continue\r\n"))
        #expect(output.contains("X-Expect: 100-continue\r\n"))
        #expect(output.hasSuffix("200 \(2 << 20)"))
        #expect(elapsed < 0.5, "took \(elapsed) s")
    }

    @Test func chunkedUploadFromStandardInput() throws {
        let server = try TestServer()
        defer { server.stop() }
        let input = Pipe()
        let (process, output) = try self.launch(
            ["-X", "POST", "-T", "-", "-i", "http://127.0.0.1:\(server.port)/echo"], input: input)

        let body = String(repeating: "chunk of stdin ", count: 5_000)
        input.fileHandleForWriting.write(Data(body.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)

        // curl asks for 100 Continue before a body of unknown length, too.
        #expect(process.terminationStatus == 0)
        #expect(text.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"))
        #expect(text.contains("X-Framing: chunked\r\n"))
        #expect(text.hasSuffix("\r\n\r\n" + body))
    }

    @Test func headWithDashI() throws {
        let server = try TestServer()
        defer { server.stop() }

        let output = try self.curl(["-I", "http://127.0.0.1:\(server.port)/hello"])

        #expect(output.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(output.contains("Content-Length: 5\r\n"))
        #expect(output.contains("Server: saed\r\n"))
        #expect(output.hasSuffix("\r\n\r\n"))
    }

    @Test func http10Request() throws {
        let server = try TestServer()
        defer { server.stop() }

        let output = try self.curl(["--http1.0", "-i", "http://127.0.0.1:\(server.port)/hello"])

        #expect(output.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(output.contains("Connection: close\r\n"))
        #expect(output.hasSuffix("\r\n\r\nhello"))
    }

    @Test func streamingWithDashNDeliversChunksBeforeTheEnd() throws {
        let server = try TestServer()
        defer { server.stop() }
        let (process, output) = try self.launch(["-N", "http://127.0.0.1:\(server.port)/follow"])
        // SIGKILL: the test runner's threads may block SIGTERM, and curl inherits the mask.
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // `/follow` writes "first" and then waits for its client to leave: the chunk must
        // reach curl's output while the stream is still open.
        let started = Date()
        let first = output.fileHandleForReading.availableData

        #expect(String(decoding: first, as: UTF8.self) == "first")
        #expect(process.isRunning)
        #expect(Date().timeIntervalSince(started) < 2)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(server.followReturned.wait(seconds: 3) { $0 })
    }
}
