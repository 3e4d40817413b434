import Foundation
import Glibc
import Synchronization

@testable import HTTPServer

/// A value shared between a handler thread and the test; read and written under one lock.
final class Probe<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ value: Value) { self.value = Mutex(value) }

    func set(_ newValue: Value) { self.value.withLock { $0 = newValue } }

    func get() -> Value { self.value.withLock { $0 } }

    /// Polls until `condition` holds or `seconds` pass; returns whether it held.
    func wait(seconds: Double, until condition: (Value) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(self.get()) { return true }
            usleep(10_000)
        }
        return condition(self.get())
    }
}

/// A live server on 127.0.0.1 port 0 with the routes the socket tests use.
///
/// Routes: `GET /hello`, `POST /echo` (body back), `GET /inspect` (method, path, query and
/// parameters as text), `GET|DELETE /v1/jobs/:id`, `POST /v1/jobs`, `POST /v1/jobs:validate`,
/// `GET /files/:name`, `GET /fail` (plain error), `GET /conflict` (an `HTTPError`),
/// `GET /slow` (300 ms), `GET /stream` (three chunks), `GET /follow` (one chunk, then waits
/// for the client to leave and records when `isClosed` turned true in `followClosedAt`),
/// `GET /block` (waits until `release()`, at most 5 s), `POST /upload` (body length back; its
/// own body limit is `uploadLimit`), `GET /big` (a 32 MiB body, more than loopback buffers hold), `GET /beats` (a stream of
/// heartbeats every 50 ms after one `start` chunk), `GET /farewell` (a stream that, when
/// the server drains, writes `bye` and records `isDraining` in `farewellSawDraining`), and on
/// the event loop itself `GET /ping` (`pong`), `GET /loop-big` (8 MiB) and `GET /loop-stream`
/// (two chunks). `POST /spool` spools its body (limit `spoolLimit`) to the server's own
/// temporary `spoolDirectory` and answers the file's bytes, with `X-Memory-Body` giving the
/// in-memory body's length (0 when spooled) and `X-Spool-Directory` whether the file was
/// there; `GET /loop-if-small` runs on the loop for a query `small`, and it and `GET /loop-thread`
/// (always on the loop) answer the thread they ran on. `POST /guarded` echoes its body, but a
/// request awaiting `100 Continue` without `X-Key: open` gets 401 from the head alone.
final class TestServer {
    let server: HTTPServer
    let port: Int
    /// When the `/follow` producer saw its writer close, in seconds since 1970; 0 until then.
    let followClosedAt: Probe<Double>
    /// Whether the `/follow` producer has returned.
    let followReturned: Probe<Bool>
    /// Whether `/block` handlers may return.
    let isReleased = Probe(false)
    /// Whether the `/farewell` producer saw `isDraining` when its writer closed.
    let farewellSawDraining = Probe(false)
    /// The body limit of `POST /upload`, whatever the server's own limit.
    static let uploadLimit = 4 * 1_024
    /// The body limit of `POST /spool`.
    static let spoolLimit = 4 << 20
    /// Where `POST /spool` bodies are written; created for this server, removed by `stop()`.
    let spoolDirectory: String

    init(configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var configuration = ServerConfiguration()
        configuration.port = 0
        let spoolDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("saed-spool-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: true)
        self.spoolDirectory = spoolDirectory
        configuration.spoolDirectory = spoolDirectory
        configure(&configuration)
        let router = Router()
        let closedAt = Probe(0.0)
        let returned = Probe(false)
        Self.addRoutes(to: router, followClosedAt: closedAt, followReturned: returned)
        self.followClosedAt = closedAt
        self.followReturned = returned
        Self.addMoreRoutes(
            to: router, isReleased: self.isReleased, sawDraining: self.farewellSawDraining)
        Self.addSpoolRoutes(to: router, spoolDirectory: spoolDirectory)
        self.server = HTTPServer(configuration: configuration, router: router)
        try self.server.start()
        self.port = self.server.port
    }

    /// A new raw connection to the server.
    func client(timeoutSeconds: Double = 5) throws -> RawClient {
        try RawClient(port: self.port, timeoutSeconds: timeoutSeconds)
    }

    /// Lets every `/block` handler return.
    func release() {
        self.isReleased.set(true)
    }

    /// Shuts the server down.
    func stop(graceSeconds: Double = 1) {
        self.server.shutdown(graceSeconds: graceSeconds)
        try? FileManager.default.removeItem(atPath: self.spoolDirectory)
    }

    /// The files in the spool directory now.
    var spooledFiles: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: self.spoolDirectory)) ?? []
    }

    private static func addSpoolRoutes(to router: Router, spoolDirectory: String) {
        router.add("POST", "/spool", maxBodyBytes: Self.spoolLimit, spoolsBody: true) { request in
            let file = request.bodyFile
            let bytes = file.flatMap { FileManager.default.contents(atPath: $0.path) } ?? Data()
            let isInSpool = file.map { $0.path.hasPrefix(spoolDirectory + "/") } ?? false
            return HTTPResponse(
                status: 200,
                headers: [
                    "X-Memory-Body": "\(request.body.count)", "X-Spool-Directory": "\(isInSpool)",
                    "X-Byte-Count": "\(file?.byteCount ?? -1)",
                ],
                body: .bytes(Array(bytes)))
        }
        // Both answer the thread they ran on.
        router.add("GET", "/loop-if-small", runsOnEventLoopWhen: { $0.query["small"] != nil }) { _ in
            HTTPResponse(status: 200, body: .bytes(Array("\(pthread_self())".utf8)))
        }
        router.add("GET", "/loop-thread", runsOnEventLoop: true) { _ in
            HTTPResponse(status: 200, body: .bytes(Array("\(pthread_self())".utf8)))
        }
        // Holds up whichever thread runs it for 0.1 s.
        router.add("GET", "/loop-sleep", runsOnEventLoop: true) { _ in
            usleep(100_000)
            return HTTPResponse(status: 200, body: .bytes(Array("\(pthread_self())".utf8)))
        }
    }

    private static func addRoutes(
        to router: Router, followClosedAt: Probe<Double>, followReturned: Probe<Bool>
    ) {
        router.add("GET", "/hello") { _ in
            HTTPResponse(
                status: 200, headers: ["Content-Type": "text/plain"],
                body: .bytes(Array("hello".utf8)))
        }
        router.add("POST", "/echo") { request in
            let framing = request.headers["Transfer-Encoding"] ?? "length"
            return HTTPResponse(
                status: 200,
                headers: [
                    "X-Method": request.method, "X-Expect": request.headers["Expect"] ?? "none",
                    "X-Framing": framing,
                ],
                body: .bytes(request.body))
        }
        router.add("GET", "/inspect") { request in
            let query = request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let text =
                "\(request.method) \(request.path) [\(query.joined(separator: "&"))] \(request.version)"
            return HTTPResponse(status: 200, body: .bytes(Array(text.utf8)))
        }
        router.add("GET", "/v1/jobs/:id") { request in
            .json(200, Array("{\"id\":\(jsonQuoted(request.pathParameters["id"] ?? ""))}".utf8))
        }
        router.add("DELETE", "/v1/jobs/:id") { _ in HTTPResponse(status: 204) }
        router.add("POST", "/v1/jobs") { _ in .json(201, Array("{}".utf8)) }
        router.add("POST", "/v1/jobs:validate") { _ in .json(200, Array("{\"valid\":true}".utf8)) }
        router.add("GET", "/files/:name") { request in
            HTTPResponse(
                status: 200, body: .bytes(Array((request.pathParameters["name"] ?? "").utf8)))
        }
        router.add("GET", "/fail") { _ in throw CocoaError(.fileNoSuchFile) }
        router.add("GET", "/conflict") { _ in
            throw HTTPStatusError(
                status: 409, code: "job_conflict", message: "job \"j1\" is running",
                headers: ["Retry-After": "3"])
        }
        router.add("GET", "/slow") { _ in
            usleep(300_000)
            return HTTPResponse(status: 200, body: .bytes(Array("slow".utf8)))
        }
        router.add("GET", "/stream") { _ in
            HTTPResponse(
                status: 200, headers: ["Content-Type": "text/event-stream"],
                body: .stream { writer in
                    for word in ["one", "two", "three"] { writer.write(Array(word.utf8)) }
                })
        }
        router.add("GET", "/follow") { _ in
            HTTPResponse(
                status: 200,
                body: .stream { writer in
                    writer.write(Array("first".utf8))
                    // Bounded: a producer idles until its client leaves, for at most 10 s here.
                    for _ in 0..<1_000 where !writer.isClosed { usleep(10_000) }
                    if writer.isClosed { followClosedAt.set(Date().timeIntervalSince1970) }
                    followReturned.set(true)
                })
        }
    }
}

extension TestServer {
    fileprivate static func addMoreRoutes(
        to router: Router, isReleased: Probe<Bool>, sawDraining: Probe<Bool>
    ) {
        // Refused from the head alone (without `X-Key: open`) when the client awaits 100.
        let guardHead: HeadCheck = { headers in
            headers["X-Key"] == "open"
                ? nil : .error(status: 401, code: "unauthorized", message: "X-Key is not open")
        }
        router.add("POST", "/guarded", refusingBeforeBody: guardHead) { request in
            HTTPResponse(status: 200, body: .bytes(request.body))
        }
        router.add("GET", "/ping", runsOnEventLoop: true) { _ in
            HTTPResponse(status: 200, body: .bytes(Array("pong".utf8)))
        }
        router.add("GET", "/loop-big", runsOnEventLoop: true) { _ in
            HTTPResponse(status: 200, body: .bytes([UInt8](repeating: 108, count: 8 << 20)))
        }
        router.add("GET", "/loop-stream", runsOnEventLoop: true) { _ in
            HTTPResponse(
                status: 200,
                body: .stream { writer in
                    writer.write(Array("a".utf8))
                    writer.write(Array("b".utf8))
                })
        }
        router.add("GET", "/block") { _ in
            _ = isReleased.wait(seconds: 5) { $0 }
            return HTTPResponse(status: 200, body: .bytes(Array("released".utf8)))
        }
        router.add("POST", "/upload", maxBodyBytes: Self.uploadLimit) { request in
            HTTPResponse(status: 200, body: .bytes(Array("\(request.body.count)".utf8)))
        }
        router.add("GET", "/big") { _ in
            HTTPResponse(status: 200, body: .bytes([UInt8](repeating: 98, count: 32 << 20)))
        }
        router.add("GET", "/beats") { _ in
            HTTPResponse(
                status: 200, headers: ["Content-Type": "text/event-stream"],
                body: .stream { writer in
                    writer.startHeartbeat(Array(": hb\n\n".utf8), everySeconds: 0.05)
                    writer.write(Array("start".utf8))
                    // Bounded: idles until the client leaves, for at most 10 s.
                    for _ in 0..<1_000 where !writer.isClosed { usleep(10_000) }
                })
        }
        router.add("GET", "/farewell") { _ in
            HTTPResponse(
                status: 200, headers: ["Content-Type": "text/event-stream"],
                body: .stream { writer in
                    writer.write(Array("first".utf8))
                    for _ in 0..<1_000 where !writer.isClosed { usleep(10_000) }
                    if writer.isDraining {
                        sawDraining.set(true)
                        writer.write(Array("bye".utf8))
                    }
                })
        }
    }
}
