import Foundation
import SAECore
import Synchronization
import Testing
@testable import SAEService
#if canImport(Glibc)
import Glibc
#endif

/// The real `saed` process, killed with SIGKILL in the middle of training and started again:
/// the job resumes from its last checkpoint, and its model and history are bit-identical to
/// an uninterrupted run of the same job.
@Suite(.serialized)
struct KillAndResumeTests {
    static let job = """
        {"dataset": {"name": "fashion-mnist", "limit": 3000}, "model": {"hidden_size": 16},
         "epochs": 14, "batch_size": 32, "seed": 3}
        """

    /// The daemon binary built beside the test bundle.
    static var daemonPath: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("saed").path
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestClientError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Starts the daemon on `port` and waits until it answers. `environment` entries are added
    /// to this process's own (the crash tests arm their hook this way).
    static func launch(dataDirectory: String, port: Int, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: daemonPath)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        process.arguments = ["--port", "\(port)", "--data-dir", dataDirectory, "--datasets-dir", dataDirectory,
                             "--fashion-mnist-dir", EndToEndTests.fashionDirectory, "--log-level", "error"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if (try? TestHTTPClient.request("GET", "/healthz", port: port, timeoutSeconds: 1))?.status == 200 {
                return process
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        throw TestClientError("saed did not answer on port \(port)")
    }

    static func poll(_ id: String, port: Int, until done: ([String: Any]) -> Bool) throws -> [String: Any] {
        for _ in 0..<2400 {
            let job = try TestHTTPClient.request("GET", "/v1/jobs/\(id)", port: port).json()
            if done(job) { return job }
            Thread.sleep(forTimeInterval: 0.025)
        }
        throw TestClientError("job \(id) did not get there in time")
    }

    /// SIGTERM drains the real daemon: an open event stream ends with the job's return to the
    /// queue and is closed, and the process exits 0 well within its grace period.
    @Test func sigtermEndsOpenStreamsWithTheirLastEventAndExitsZero() throws {
        let directory = try EndToEndTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = try Self.freePort()
        let daemon = try Self.launch(dataDirectory: directory, port: port)
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        let long = #"{"dataset": {"name": "fashion-mnist", "limit": 500}, "epochs": 100000}"#
        let submitted = try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: long)
        let id = try #require(try submitted.json()["id"] as? String)
        _ = try Self.poll(id, port: port) { ($0["epoch"] as? Int ?? 0) >= 2 }

        // The stream is read to its end on another thread: `exchange` returns once saed closes it.
        let request = "GET /v1/jobs/\(id)/events HTTP/1.1\r\nHost: x\r\n\r\n"
        let streamed = StreamedBytes()
        let reader = Thread {
            let result = Result { try TestHTTPClient.exchange(Array(request.utf8), port: port, timeoutSeconds: 20) }
            streamed.value.withLock { $0 = result.mapError { TestClientError("\($0)") } }
        }
        reader.start()
        Thread.sleep(forTimeInterval: 0.5)
        let signalled = Date()
        kill(daemon.processIdentifier, SIGTERM)
        while daemon.isRunning && Date().timeIntervalSince(signalled) < 15 { Thread.sleep(forTimeInterval: 0.05) }

        #expect(!daemon.isRunning, "saed still running 15 s after SIGTERM")
        #expect(daemon.terminationReason == .exit && daemon.terminationStatus == 0,
                "saed ended with \(daemon.terminationReason) \(daemon.terminationStatus)")
        #expect(Date().timeIntervalSince(signalled) < 10, "saed took longer than its grace period")
        var outcome: Result<[UInt8], TestClientError>?
        for _ in 0..<100 where outcome == nil {
            outcome = streamed.value.withLock { $0 }
            if outcome == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        let raw = try #require(try outcome?.get(), "the event stream did not end")
        let events = EndToEndTests.parseEvents(try TestHTTPClient.parse(raw).text)
        #expect(events.contains { $0.event == "epoch" })
        let last = try #require(events.last)
        #expect(last.event == "state" && last.data["state"] as? String == "queued", "last event: \(last)")
    }

    @Test func killedMidTrainingTheJobResumesToBitIdenticalWeights() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.daemonPath), "build the saed product first")

        // The uninterrupted reference, trained in this process.
        let referenceDirectory = try EndToEndTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: referenceDirectory) }
        let reference = try Service(config: EndToEndTests.makeConfig(dataDirectory: referenceDirectory), logger: .none)
        try reference.start()
        let referenceID = try #require(try TestHTTPClient.request("POST", "/v1/jobs", port: reference.port,
                                                                  body: Self.job).json()["id"] as? String)
        let referenceJob = try Self.poll(referenceID, port: reference.port) { $0["state"] as? String == "succeeded" }
        reference.stop()
        let referenceModel = try Autoencoder.load(from: URL(fileURLWithPath: referenceDirectory + "/models/"
            + (referenceJob["model_id"] as? String ?? ""))).model

        // The same job in a real daemon, killed with SIGKILL once a few epochs are stored.
        let directory = try EndToEndTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var port = try Self.freePort()
        var daemon = try Self.launch(dataDirectory: directory, port: port)
        let id = try #require(try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: Self.job)
            .json()["id"] as? String)
        _ = try Self.poll(id, port: port) { ($0["epoch"] as? Int ?? 0) >= 3 }
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
        #expect(daemon.terminationReason == .uncaughtSignal)

        // Started again, it resumes and finishes.
        port = try Self.freePort()
        daemon = try Self.launch(dataDirectory: directory, port: port)
        defer {
            daemon.terminate()
            daemon.waitUntilExit()
        }
        let finished = try Self.poll(id, port: port) { ($0["state"] as? String).map { ["succeeded", "failed"].contains($0) } ?? false }
        #expect(finished["state"] as? String == "succeeded", "job ended \(finished["state"] ?? "?"): \(finished["error"] ?? "")")
        let stream = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/events", port: port)
        let states = EndToEndTests.parseEvents(stream.text).filter { $0.event == "state" }.compactMap { $0.data["state"] as? String }
        #expect(states == ["queued", "running", "queued", "running", "succeeded"], "the job was not interrupted and resumed")
        // It resumed from a checkpoint, not from the seed: the second run's first epoch is past 1.
        let events = EndToEndTests.parseEvents(stream.text)
        let secondStart = try #require(events.lastIndex { $0.event == "state" && $0.data["state"] as? String == "running" })
        let resumedEpoch = events[secondStart...].first { $0.event == "epoch" }?.data["epoch"] as? Int ?? 0
        #expect(resumedEpoch > 1)

        // Bit-identical: every weight, and the loss of every epoch.
        let model = try Autoencoder.load(from: URL(fileURLWithPath: directory + "/models/"
            + (finished["model_id"] as? String ?? ""))).model
        #expect(model.wEnc.map(\.bitPattern) == referenceModel.wEnc.map(\.bitPattern))
        #expect(model.bEnc.map(\.bitPattern) == referenceModel.bEnc.map(\.bitPattern))
        #expect(model.wDec.map(\.bitPattern) == referenceModel.wDec.map(\.bitPattern))
        #expect(model.bDec.map(\.bitPattern) == referenceModel.bDec.map(\.bitPattern))
        let history = try TestHTTPClient.request("GET", "/v1/jobs/\(id)", port: port).json()["history"] as? [[String: Any]]
        let referenceHistory = referenceJob["history"] as? [[String: Any]]
        #expect(history?.map { $0["loss"] as? Double } == referenceHistory?.map { $0["loss"] as? Double })
        #expect(history?.count == 14)
    }
}

/// What a reader thread got from an event stream: its bytes, or why it failed.
private final class StreamedBytes: Sendable {
    let value = Mutex<Result<[UInt8], TestClientError>?>(nil)
}

