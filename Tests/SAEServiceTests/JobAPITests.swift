import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import SAEService

/// Idempotent submission, validation without queueing, pagination, deletion and the
/// paginated epoch history, through the live API.
@Suite(.serialized)
struct JobAPITests {
    static let longJob = #"{"dataset": {"name": "fashion-mnist", "limit": 500}, "model": {"hidden_size": 8}, "epochs": 100000}"#

    static func withService(_ body: (Service) throws -> Void) throws {
        let (service, directory) = try BadRequestTests.startService()
        defer {
            for job in service.jobs.list() where !job.state.isFinished { _ = try? service.jobs.cancel(id: job.id) }
            service.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        try body(service)
    }

    @Test func sameIdempotencyKeyAndBodyReturnsTheSameJobAndAnotherBodyConflicts() throws {
        try Self.withService { service in
            let headers = ["Idempotency-Key": "run-42"]
            let first = try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: Self.longJob, headers: headers)
            let again = try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: Self.longJob, headers: headers)
            #expect(first.status == 202 && again.status == 200)
            #expect(try first.json()["id"] as? String == again.json()["id"] as? String)
            let other = Self.longJob.replacingOccurrences(of: "\"hidden_size\": 8", with: "\"hidden_size\": 9")
            let conflict = try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: other, headers: headers)
            #expect(conflict.status == 409)
            #expect((try conflict.json()["error"] as? [String: Any])?["code"] as? String == "idempotency_conflict")
            #expect(service.jobs.list().count == 1)
        }
    }

    /// A job's event stream with nothing to say (here, queued behind a long job) carries a
    /// heartbeat comment every `heartbeat_seconds`, as SSE or, for NDJSON, as blank lines.
    @Test func idleEventStreamCarriesHeartbeats() throws {
        try LiveService.run({ $0.heartbeatSeconds = 0.2 }) { service in
            _ = try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: Self.longJob)
            let waiting = try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: Self.longJob)
            let id = try #require(try waiting.json()["id"] as? String)
            for (query, heartbeat) in [("", "\n\n: heartbeat\n\n: heartbeat\n\n"), ("?format=ndjson", "}\n\n\n")] {
                let target = "/v1/jobs/\(id)/events\(query)"
                let (head, body) = try Self.read(from: target, port: service.port, seconds: 0.7)
                #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.contains("Transfer-Encoding: chunked"), "\(head)")
                #expect(body.contains(#""state":"queued""#), "\(body)")
                #expect(body.contains(heartbeat), "no heartbeats in \(query): \(body.debugDescription)")
            }
        }
    }

    /// The head and the de-chunked body a GET of `target` brings in `seconds`, for a chunked
    /// response that does not end by itself.
    static func read(from target: String, port: Int, seconds: Double) throws -> (head: String, body: String) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError("socket failed") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
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
        let request = Array("GET \(target) HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
        else { throw TestClientError("send failed") }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            if count > 0 { received.append(contentsOf: buffer[0..<count]) }
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return (text, "") }
        // Chunks: a hexadecimal size line, that many bytes, CRLF; a partial last one is dropped.
        var rest = Substring(text[split.upperBound...])
        var body = ""
        while let line = rest.range(of: "\r\n"), let size = Int(rest[..<line.lowerBound], radix: 16),
              rest.utf8.count >= rest.utf8.distance(from: rest.startIndex, to: line.upperBound) + size + 2 {
            let data = rest[line.upperBound...].utf8.prefix(size)
            body += String(decoding: data, as: UTF8.self)
            rest = rest[rest.utf8.index(line.upperBound, offsetBy: size + 2)...]
        }
        return (String(text[..<split.lowerBound]), body)
    }

    @Test func validateChecksWithoutQueueing() throws {
        try Self.withService { service in
            let good = try TestHTTPClient.request("POST", "/v1/jobs:validate", port: service.port, body: Self.longJob)
            #expect(good.status == 200)
            let spec = try #require(try good.json()["spec"] as? [String: Any])
            #expect((spec["model"] as? [String: Any])?["hidden_size"] as? Int == 8)
            let bad = try TestHTTPClient.request("POST", "/v1/jobs:validate", port: service.port,
                                                 body: #"{"dataset": {"path": "nope.idx"}}"#)
            #expect(bad.status == 422)
            #expect(service.jobs.list().isEmpty)
        }
    }

    @Test func pagesWalkEveryJobNewestFirstExactlyOnce() throws {
        try Self.withService { service in
            var submitted: [String] = []
            for _ in 0..<5 {
                let response = try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: Self.longJob)
                submitted.append(try #require(try response.json()["id"] as? String))
            }
            var seen: [String] = []
            var token: String?
            var pages = 0
            repeat {
                let query = token.map { "&page_token=\($0)" } ?? ""
                let page = try TestHTTPClient.request("GET", "/v1/jobs?limit=2\(query)", port: service.port).json()
                seen += (page["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                token = page["next_page_token"] as? String
                pages += 1
            } while token != nil && pages < 10
            #expect(pages == 3)
            #expect(seen == service.jobs.list().map(\.id))
            #expect(Set(seen) == Set(submitted))
            let bad = try TestHTTPClient.request("GET", "/v1/jobs?page_token=garbage!", port: service.port)
            #expect(bad.status == 400)
        }
    }

    @Test func onlyFinishedJobsCanBeDeleted() throws {
        try Self.withService { service in
            let id = try #require(try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: Self.longJob)
                .json()["id"] as? String)
            let refused = try TestHTTPClient.request("DELETE", "/v1/jobs/\(id)", port: service.port)
            #expect(refused.status == 409)
            _ = try TestHTTPClient.request("POST", "/v1/jobs/\(id)/cancel", port: service.port, body: "")
            _ = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/events", port: service.port)  // until it ends
            #expect(try TestHTTPClient.request("DELETE", "/v1/jobs/\(id)", port: service.port).status == 204)
            #expect(try TestHTTPClient.request("GET", "/v1/jobs/\(id)", port: service.port).status == 404)
        }
    }

    @Test func metricsArePaginatedByEpoch() throws {
        try Self.withService { service in
            let body = #"{"dataset": {"name": "fashion-mnist", "limit": 300}, "model": {"hidden_size": 8}, "epochs": 3}"#
            let id = try #require(try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: body)
                .json()["id"] as? String)
            _ = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/events", port: service.port)
            let page = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/metrics?after=1&limit=1", port: service.port).json()
            #expect((page["metrics"] as? [[String: Any]])?.map { $0["epoch"] as? Int } == [2])
            #expect(page["next_after"] as? Int == 2)
            let last = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/metrics?after=2", port: service.port).json()
            #expect((last["metrics"] as? [[String: Any]])?.map { $0["epoch"] as? Int } == [3])
            #expect(last["next_after"] is NSNull)
        }
    }
}

struct JobCursorTests {
    @Test func tokensRoundTripTheExactCreationTime() throws {
        let time = Date(timeIntervalSinceReferenceDate: 818_003_123.456_789_1)
        let cursor = JobCursor(createdAt: time, id: "job_00ff")
        let read = try #require(JobCursor(token: cursor.token))
        #expect(read == cursor)
        #expect(read.createdAt.timeIntervalSinceReferenceDate.bitPattern == time.timeIntervalSinceReferenceDate.bitPattern)
        #expect(JobCursor(token: "%%%") == nil)
        #expect(JobCursor(token: Data("no-separator".utf8).base64EncodedString()) == nil)
    }
}

struct DataDirectoryLockTests {
    @Test func aSecondServiceOnTheSameDataDirectoryRefusesToStart() throws {
        let directory = try EndToEndTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = EndToEndTests.makeConfig(dataDirectory: directory)
        let first = try Service(config: config, logger: .none)
        #expect(throws: ConfigError.self) { _ = try Service(config: config, logger: .none) }
        first.stop()
        // Released by stop: the directory can be used again.
        let second = try Service(config: config, logger: .none)
        second.stop()
    }
}
