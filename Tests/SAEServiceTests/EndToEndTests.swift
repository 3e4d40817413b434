import Foundation
import SAECore
import Synchronization
import Testing
@testable import SAEService

/// The product's spine, through real sockets: submit a job on a slice of Fashion-MNIST,
/// follow its event stream, poll it, encode and reconstruct, restart, and check bad requests.
@Suite(.serialized)
struct EndToEndTests {
    static let fashionDirectory = "/usr/share/datasets/fashion-mnist"

    static func makeConfig(dataDirectory: String) -> ServiceConfig {
        var config = ServiceConfig()
        config.port = 0
        config.dataDirectory = dataDirectory
        config.datasetsDirectory = dataDirectory + "/datasets"
        config.fashionMNISTDirectory = fashionDirectory
        config.heartbeatSeconds = 1
        config.shutdownGraceSeconds = 5
        return config
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "saed-e2e-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path + "/datasets", withIntermediateDirectories: true)
        return path
    }

    static let smallJob = """
        {"name": "e2e", "dataset": {"name": "fashion-mnist", "split": "train", "limit": 2000},
         "validation": {"name": "fashion-mnist", "split": "test", "limit": 500},
         "model": {"hidden_size": 32}, "sparsity": {"kind": "l1", "beta": 0.0001, "reduction": "mean"},
         "epochs": 2, "batch_size": 64, "seed": 7}
        """

    /// Parses a Server-Sent Events body into (id, event, data) triples.
    static func parseEvents(_ text: String) -> [(id: Int, event: String, data: [String: Any])] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var id: Int?
            var event: String?
            var data: [String: Any]?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = Int(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") {
                    data = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
                }
            }
            guard let id, let event, let data else { return nil }
            return (id, event, data)
        }
    }

    /// Dense codes computed with plain loops from the stored weights: relu(x · W_enc + b_enc).
    static func referenceCodes(_ model: Autoencoder, _ row: [Float]) -> [Float] {
        let hidden = model.config.hiddenSize
        return (0..<hidden).map { j in
            var sum = Double(model.bEnc[j])
            for i in 0..<model.config.inputSize { sum += Double(row[i]) * Double(model.wEnc[i * hidden + j]) }
            return Float(max(sum, 0))
        }
    }

    @Test func trainStreamEncodeReconstructAndRestart() throws {
        #expect(FileManager.default.fileExists(atPath: Self.fashionDirectory + "/train-images-idx3-ubyte.gz"),
                "the dataset-fashion-mnist package must be installed (scripts/install-deps.sh)")
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var service = try Service(config: Self.makeConfig(dataDirectory: directory), logger: .none)
        try service.start()
        var port = service.port

        // Submit: 202, Location, the job as JSON.
        let submitted = try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: Self.smallJob)
        #expect(submitted.status == 202)
        let job = try submitted.json()
        let id = try #require(job["id"] as? String)
        #expect(submitted.headers["location"] == "/v1/jobs/\(id)")
        #expect(["queued", "running"].contains(job["state"] as? String ?? ""))

        // The event stream runs to the job's end: states, one epoch event per epoch, one end.
        let stream = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/events", port: port, timeoutSeconds: 300)
        #expect(stream.status == 200)
        #expect(stream.headers["content-type"] == "text/event-stream")
        let events = Self.parseEvents(stream.text)
        #expect(events.map(\.id) == Array(1...events.count))
        #expect(events.map(\.event) == ["state", "state", "epoch", "epoch", "state", "end"])
        #expect(events.filter { $0.event == "state" }.compactMap { $0.data["state"] as? String }
                == ["queued", "running", "succeeded"])
        #expect(events[2].data["epoch"] as? Int == 1)
        let secondEpoch = events[3].data
        #expect(secondEpoch["epoch"] as? Int == 2)
        for key in ["loss", "reconstruction", "sparsity", "l0", "dead_fraction", "validation_reconstruction",
                    "validation_l0", "seconds", "samples_per_second"] {
            #expect(secondEpoch[key] is Double || secondEpoch[key] is Int, "epoch record lacks \(key)")
        }
        let firstLoss = try #require(events[2].data["loss"] as? Double)
        let secondLoss = try #require(secondEpoch["loss"] as? Double)
        #expect(secondLoss < firstLoss, "training loss should fall: \(firstLoss) then \(secondLoss)")
        let modelID = try #require(events[5].data["model_id"] as? String)

        // Polling shows the finished job with its history.
        let polled = try TestHTTPClient.request("GET", "/v1/jobs/\(id)", port: port).json()
        #expect(polled["state"] as? String == "succeeded")
        #expect(polled["progress"] as? Double == 1 || polled["progress"] as? Int == 1)
        #expect(polled["epoch"] as? Int == 2 && polled["epochs"] as? Int == 2)
        #expect((polled["history"] as? [Any])?.count == 2)
        #expect(polled["model_id"] as? String == modelID)
        #expect(polled["created_at"] is String && polled["finished_at"] is String)
        let listed = try TestHTTPClient.request("GET", "/v1/jobs", port: port).json()
        #expect((listed["jobs"] as? [[String: Any]])?.first?["id"] as? String == id)

        // A late client gets the whole history again.
        let replay = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/events", port: port)
        #expect(Self.parseEvents(replay.text).map(\.event) == events.map(\.event))
        let resumed = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/events", port: port,
                                                 headers: ["Last-Event-ID": "4"])
        #expect(Self.parseEvents(resumed.text).map(\.id) == [5, 6])

        // Encode: codes equal a plain-loop computation from the saved weights.
        let model = try Autoencoder.load(from: URL(fileURLWithPath: directory + "/models/" + modelID)).model
        #expect(model.config.inputSize == 784 && model.config.hiddenSize == 32)
        let rows: [[Float]] = (0..<3).map { r in (0..<784).map { Float(($0 * 7 + r * 13) % 256) / 255 } }
        let inputs = "[" + rows.map { "[" + $0.map { "\($0)" }.joined(separator: ",") + "]" }.joined(separator: ",") + "]"
        let encoded = try TestHTTPClient.request("POST", "/v1/models/\(modelID)/encode", port: port,
                                                 body: #"{"inputs": \#(inputs)}"#)
        #expect(encoded.status == 200)
        let codes = try #require(try encoded.json()["codes"] as? [[Double]])
        #expect(codes.count == 3)
        for (row, code) in zip(rows, codes) {
            let expected = Self.referenceCodes(model, row)
            let difference = zip(expected, code).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(difference < 1e-4, "largest difference from the reference encoder: \(difference)")
        }
        let sparse = try TestHTTPClient.request("POST", "/v1/models/\(modelID)/encode", port: port,
                                                body: #"{"inputs": \#(inputs), "format": "sparse"}"#)
        let sparseRows = try #require(try sparse.json()["codes"] as? [[String: Any]])
        for (dense, row) in zip(codes, sparseRows) {
            let indices = row["indices"] as? [Int] ?? []
            #expect(indices == dense.indices.filter { dense[$0] != 0 })
            let values = (row["values"] as? [Double]) ?? []
            #expect(values == indices.map { dense[$0] })
        }

        // Reconstruct: each row's MSE matches its returned reconstruction.
        let rebuilt = try TestHTTPClient.request("POST", "/v1/models/\(modelID)/reconstruct", port: port,
                                                 body: #"{"inputs": \#(inputs)}"#).json()
        let reconstructions = try #require(rebuilt["reconstructions"] as? [[Double]])
        let mse = try #require(rebuilt["mse"] as? [Double])
        for (index, row) in rows.enumerated() {
            let expected = zip(row, reconstructions[index]).map { (Double($0) - $1) * (Double($0) - $1) }
                .reduce(0, +) / 784
            #expect(abs(expected - mse[index]) < 1e-6)
        }
        let modelList = try TestHTTPClient.request("GET", "/v1/models", port: port).json()
        #expect((modelList["models"] as? [[String: Any]])?.map { $0["id"] as? String } == [modelID])
        let described = try TestHTTPClient.request("GET", "/v1/models/\(modelID)", port: port).json()
        #expect(described["hidden_size"] as? Int == 32 && described["job_id"] as? String == id)

        // A finished job cannot be cancelled.
        let cancel = try TestHTTPClient.request("POST", "/v1/jobs/\(id)/cancel", port: port, body: "")
        #expect(cancel.status == 409)
        #expect((try cancel.json()["error"] as? [String: Any])?["code"] as? String == "invalid_state")

        // Restart: jobs, history and models survive; encode answers the same.
        service.stop()
        service = try Service(config: Self.makeConfig(dataDirectory: directory), logger: .none)
        try service.start()
        defer { service.stop() }
        port = service.port
        let after = try TestHTTPClient.request("GET", "/v1/jobs/\(id)", port: port).json()
        #expect(after["state"] as? String == "succeeded")
        #expect((after["history"] as? [Any])?.count == 2)
        let again = try TestHTTPClient.request("POST", "/v1/models/\(modelID)/encode", port: port,
                                               body: #"{"inputs": \#(inputs)}"#)
        #expect(try again.json()["codes"] as? [[Double]] == codes)
    }

    @Test func cancellingARunningJobEndsItCancelled() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let service = try Service(config: Self.makeConfig(dataDirectory: directory), logger: .none)
        try service.start()
        defer { service.stop() }
        let body = #"{"dataset": {"name": "fashion-mnist", "limit": 4000}, "model": {"hidden_size": 16}, "epochs": 500}"#
        let id = try #require(try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: body)
            .json()["id"] as? String)
        // Wait until it runs, then cancel.
        var state = ""
        for _ in 0..<200 where state != "running" {
            state = try TestHTTPClient.request("GET", "/v1/jobs/\(id)", port: service.port).json()["state"] as? String ?? ""
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(state == "running")
        let cancel = try TestHTTPClient.request("POST", "/v1/jobs/\(id)/cancel", port: service.port, body: "")
        #expect(cancel.status == 202)
        let stream = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/events", port: service.port)
        let events = Self.parseEvents(stream.text)
        #expect(events.last?.event == "end")
        #expect(events.last?.data["state"] as? String == "cancelled")
        #expect(events.filter { $0.event == "end" }.count == 1)
    }

    @Test func queuedJobsRunInOrderAndAQueuedJobCancelsAtOnce() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let service = try Service(config: Self.makeConfig(dataDirectory: directory), logger: .none)
        try service.start()
        defer { service.stop() }
        let long = #"{"dataset": {"name": "fashion-mnist", "limit": 2000}, "model": {"hidden_size": 8}, "epochs": 1000}"#
        let first = try #require(try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: long)
            .json()["id"] as? String)
        let second = try #require(try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: long)
            .json()["id"] as? String)
        let cancelled = try TestHTTPClient.request("POST", "/v1/jobs/\(second)/cancel", port: service.port, body: "")
        #expect(try cancelled.json()["state"] as? String == "cancelled")
        let queuedOnly = try TestHTTPClient.request("GET", "/v1/jobs?state=cancelled", port: service.port).json()
        #expect((queuedOnly["jobs"] as? [[String: Any]])?.map { $0["id"] as? String } == [second])
        _ = try TestHTTPClient.request("POST", "/v1/jobs/\(first)/cancel", port: service.port, body: "")
    }

    @Test func stoppingDuringAJobEndsItsStreamAndTheJobRunsAgainAfterRestart() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var service = try Service(config: Self.makeConfig(dataDirectory: directory), logger: .none)
        try service.start()
        let body = #"{"dataset": {"name": "fashion-mnist", "limit": 1000}, "model": {"hidden_size": 8}, "epochs": 100000}"#
        let id = try #require(try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: body)
            .json()["id"] as? String)
        var state = ""
        for _ in 0..<200 where state != "running" {
            state = try service.jobs.job(id: id).state.rawValue
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(state == "running")

        // Follow the stream on another thread while the daemon stops.
        let port = service.port
        let streamed = Mutex<TestResponse?>(nil)
        let reader = Thread {
            streamed.withLock { $0 = try? TestHTTPClient.request("GET", "/v1/jobs/\(id)/events", port: port) }
        }
        reader.start()
        Thread.sleep(forTimeInterval: 0.3)
        let stopStarted = Date()
        service.stop()
        #expect(Date().timeIntervalSince(stopStarted) < 5)
        for _ in 0..<100 where streamed.withLock({ $0 }) == nil { Thread.sleep(forTimeInterval: 0.05) }
        let events = Self.parseEvents(try #require(streamed.withLock { $0 }).text)
        #expect(events.last?.event == "state")
        #expect(events.last?.data["state"] as? String == "queued")
        #expect(!events.contains { $0.event == "end" })

        // After a restart the job is queued again and runs.
        service = try Service(config: Self.makeConfig(dataDirectory: directory), logger: .none)
        try service.start()
        defer { service.stop() }
        state = ""
        for _ in 0..<200 where state != "running" {
            state = try service.jobs.job(id: id).state.rawValue
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(state == "running")
        _ = try service.jobs.cancel(id: id)
    }
}
