import Foundation
import SAECore
import Testing
@testable import SAEService

/// Uploading datasets, naming them in jobs, and deleting them, through the live API.
@Suite(.serialized)
struct DatasetAPITests {
    /// 64 rows of 4 values in [0, 1], as CSV.
    static let csv: [UInt8] = Array((0..<64).map { row in
        (0..<4).map { column in String(Double((row * 7 + column) % 5) / 4) }.joined(separator: ",")
    }.joined(separator: "\n").utf8)

    /// A 3 × 2 float32 array as NumPy saves it.
    static var npy: [UInt8] {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }"
        header += String(repeating: " ", count: 63 - (10 + header.utf8.count) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
            + Array(header.utf8) + Float32Bytes.encode([0, 0.5, 1, 1.5, 2, 2.5])
    }

    /// A gzip-compressed IDX file of 5 images of 2 × 2 bytes.
    static func gzipIDX() throws -> [UInt8] {
        let url = URL(fileURLWithPath: NSTemporaryDirectory() + "saed-idx-\(UUID().uuidString).gz")
        defer { try? FileManager.default.removeItem(at: url) }
        try IDX.write((0..<20).map(Double.init), as: .ubyte, shape: [5, 2, 2], to: url, compressed: true)
        return try AtomicFile.read(contentsOf: url)
    }

    static func upload(_ body: [UInt8], _ query: String = "", contentType: String = "application/octet-stream",
                       port: Int) throws -> TestResponse {
        try RawHTTP.send("POST", "/v1/datasets\(query)", port: port, body: body, headers: ["Content-Type": contentType])
    }

    @Test func csvNpyAndGzipIDXUploadsReportRowsAndWidthAndAreListed() throws {
        try LiveService.run { service in
            let csv = try Self.upload(Self.csv, "?name=ramp", contentType: "text/csv", port: service.port)
            #expect(csv.status == 201, "\(csv.text)")
            let csvInfo = try csv.json()
            let id = try #require(csvInfo["id"] as? String)
            #expect(csv.headers["location"] == "/v1/datasets/\(id)")
            #expect(csvInfo["rows"] as? Int == 64 && csvInfo["width"] as? Int == 4)
            #expect(csvInfo["format"] as? String == "csv" && csvInfo["name"] as? String == "ramp")

            // NPY and IDX found from their first bytes alone.
            let npy = try Self.upload(Self.npy, port: service.port).json()
            #expect(npy["format"] as? String == "npy" && npy["rows"] as? Int == 3 && npy["width"] as? Int == 2)
            let idx = try Self.upload(try Self.gzipIDX(), port: service.port).json()
            #expect(idx["format"] as? String == "idx" && idx["compressed"] as? Bool == true)
            #expect(idx["rows"] as? Int == 5 && idx["width"] as? Int == 4)

            let listed = try TestHTTPClient.request("GET", "/v1/datasets", port: service.port).json()
            let ids = (listed["datasets"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(ids.count == 3 && ids.last == id)
            let shown = try TestHTTPClient.request("GET", "/v1/datasets/\(id)", port: service.port).json()
            #expect(shown["path"] as? String == "uploads/\(id).csv")
        }
    }

    /// `?name=` follows the rules of every name: 1 to 200 characters, not blank, no control
    /// characters; a bad one is refused before the body is looked at.
    @Test func blankOrControlCharacterNamesAreRefusedNamingName() throws {
        try LiveService.run { service in
            let cases = [("?name=", "name: must be 1 to 200 characters, got 0"),
                         ("?name=%20%20", "name: must not be only white space"),
                         ("?name=a%0Ab", "name: must not hold control characters, found U+000A"),
                         ("?name=\(String(repeating: "n", count: 201))", "name: must be 1 to 200 characters, got 201")]
            for (query, message) in cases {
                let response = try Self.upload(Self.csv, query, contentType: "text/csv", port: service.port)
                #expect(response.status == 400, "\(query): \(response.text)")
                let error = try RawHTTP.error(response)
                #expect(error["field"] as? String == "name")
                #expect(error["message"] as? String == message)
            }
            #expect(service.uploads.list().isEmpty)
        }
    }

    @Test func unreadableUploadsAre422NamingTheUploadAndLeaveNothingBehind() throws {
        try LiveService.run { service in
            let ragged = try Self.upload(Array("1,2,3\n4,5\n".utf8), "?name=acts", contentType: "text/csv",
                                         port: service.port)
            #expect(ragged.status == 422)
            let error = try RawHTTP.error(ragged)
            #expect(error["code"] as? String == "csv_ragged_row")
            let message = error["message"] as? String ?? ""
            #expect(message.contains("uploaded dataset \"acts\"") && message.contains("line 2"), "\(message)")
            #expect(!message.contains("ds_"), "the message names the upload, not its file: \(message)")

            let notNPY = try Self.upload(Array("hello".utf8), "?format=npy", port: service.port)
            #expect(notNPY.status == 422)
            #expect(try RawHTTP.error(notNPY)["code"] as? String == "npy_bad_magic")
            let json = try Self.upload(Array("{}".utf8), contentType: "application/json", port: service.port)
            #expect(json.status == 415)
            #expect(try RawHTTP.error(json)["code"] as? String == "unsupported_media_type")
            let format = try Self.upload(Self.csv, "?format=parquet", port: service.port)
            #expect(format.status == 400)
            #expect(try RawHTTP.error(format)["field"] as? String == "format")
            let empty = try Self.upload([], port: service.port)
            #expect(empty.status == 400)
            #expect(try RawHTTP.error(empty)["field"] as? String == "(body)")

            #expect(service.uploads.list().isEmpty)
            let folder = service.config.datasetsDirectory + "/" + DatasetStore.folder
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        }
    }

    /// An `rows × width` float32 NPY file of `value(row, column)`.
    static func npy(rows: Int, width: Int, value: (Int, Int) -> Float) -> [UInt8] {
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(rows), \(width)), }"
        header += String(repeating: " ", count: 63 - (10 + header.utf8.count) % 64) + "\n"
        let length = UInt16(header.utf8.count)
        let values = (0..<rows * width).map { value($0 / width, $0 % width) }
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
            + Array(header.utf8) + Float32Bytes.encode(values)
    }

    @Test func largeUploadIsSpooledAndItsRowsEqualTheFile() throws {
        try LiveService.run { service in
            // 400 × 784 float32: 1.25 MB, many reads, so the body reaches the disk piece by piece.
            let (rows, width) = (400, 784)
            let value = { (row: Int, column: Int) in Float(row) - Float(column) / 1024 }
            let file = Self.npy(rows: rows, width: width, value: value)
            let response = try Self.upload(file, "?name=big", port: service.port)
            #expect(response.status == 201, "\(response.text)")
            let info = try response.json()
            #expect(info["rows"] as? Int == rows && info["width"] as? Int == width)
            #expect(info["bytes"] as? Int == file.count)

            // The stored file is the upload, byte for byte, and reads back as the same rows.
            let path = try #require(info["path"] as? String)
            let stored = URL(fileURLWithPath: service.config.datasetsDirectory).appendingPathComponent(path)
            #expect(try AtomicFile.read(contentsOf: stored) == file)
            let dataset = try NPY.load(contentsOf: stored)
            guard case .floats(let values) = dataset.storage else {
                Issue.record("float32 data should load as floats")
                return
            }
            #expect(dataset.rows == rows && dataset.width == width)
            #expect(values == (0..<rows * width).map { value($0 / width, $0 % width) })
            // Nothing is left in the spool.
            #expect(try FileManager.default.contentsOfDirectory(atPath: service.config.spoolDirectory).isEmpty)
        }
    }

    @Test func uploadsOverTheUploadLimitAre413NamingTheLimit() throws {
        try LiveService.run({ $0.maxUploadBytes = 4096 }) { service in
            let ones = [UInt8](repeating: 0x31, count: 5000)
            let response = try Self.upload(ones, contentType: "text/csv", port: service.port)
            #expect(response.status == 413)
            #expect(try (RawHTTP.error(response)["message"] as? String ?? "").contains("4096"))
            // The upload limit is the route's own: a 5000-byte job body is still read (and refused as JSON).
            let spaces = [UInt8](repeating: 0x20, count: 5000)
            let job = try RawHTTP.send("POST", "/v1/jobs", port: service.port, body: spaces)
            #expect(job.status == 400)
        }
    }

    /// An upload's shape is on record, so a job whose sets or init_from model disagree with it
    /// is refused when it is submitted instead of failing when it starts.
    @Test func uploadShapesAreCheckedAtSubmission() throws {
        try LiveService.run { service in
            let port = service.port
            let csvID = try #require(try Self.upload(Self.csv, contentType: "text/csv", port: port).json()["id"] as? String)
            let npyID = try #require(try Self.upload(Self.npy, port: port).json()["id"] as? String)
            try LiveService.saveTinyModel(service)

            let mismatched = #"{"dataset": {"id": "\#(csvID)"}, "validation": {"id": "\#(npyID)"}}"#
            for route in ["/v1/jobs:validate", "/v1/jobs"] {
                let refused = try TestHTTPClient.request("POST", route, port: port, body: mismatched)
                #expect(refused.status == 400, "\(route): \(refused.text)")
                let error = try RawHTTP.error(refused)
                #expect(error["field"] as? String == "validation")
                #expect(error["message"] as? String == "validation: rows have 2 values but the training rows have 4")
            }
            let wrongInit = #"{"dataset": {"id": "\#(npyID)"}, "init_from": "model_tiny", "model": {"hidden_size": 3}}"#
            let refused = try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: wrongInit)
            #expect(refused.status == 400, "\(refused.text)")
            #expect(try RawHTTP.error(refused)["field"] as? String == "init_from")
            #expect(service.jobs.list().isEmpty)

            // The same shapes agreeing are accepted.
            let matching = #"{"dataset": {"id": "\#(csvID)"}, "validation": {"id": "\#(csvID)", "limit": 8}, "init_from": "model_tiny", "model": {"hidden_size": 3}}"#
            let accepted = try TestHTTPClient.request("POST", "/v1/jobs:validate", port: port, body: matching)
            #expect(accepted.status == 200, "\(accepted.text)")
        }
    }

    /// A gzip upload is held to the upload limit once decompressed: a small file whose header
    /// declares more data is refused before it is inflated, and nothing is kept.
    @Test func gzipUploadsThatExpandPastTheUploadLimitAre413() throws {
        try LiveService.run({ $0.maxUploadBytes = 4096 }) { service in
            let url = URL(fileURLWithPath: NSTemporaryDirectory() + "saed-bomb-\(UUID().uuidString).gz")
            defer { try? FileManager.default.removeItem(at: url) }
            try IDX.write([Double](repeating: 0, count: 100 * 50), as: .ubyte, shape: [100, 50], to: url,
                          compressed: true)
            let bomb = try AtomicFile.read(contentsOf: url)
            #expect(bomb.count < 1024)
            let refused = try Self.upload(bomb, "?name=bomb", contentType: "application/gzip", port: service.port)
            #expect(refused.status == 413, "\(refused.text)")
            let error = try RawHTTP.error(refused)
            #expect(error["code"] as? String == "content_too_large")
            #expect((error["message"] as? String)?.contains("declares 5000 bytes") == true, "\(error)")
            #expect((error["message"] as? String)?.contains("limit is 4096 bytes") == true, "\(error)")
            #expect(service.uploads.list().isEmpty)
            let folder = service.config.datasetsDirectory + "/" + DatasetStore.folder
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)

            // Within the limit once decompressed, the same kind of file is stored.
            let fits = try Self.upload(try Self.gzipIDX(), contentType: "application/gzip", port: service.port)
            #expect(fits.status == 201, "\(fits.text)")
        }
    }

    @Test func jobsTrainOnAnUploadByIDAndDeletingItWaitsForThemToEnd() throws {
        try LiveService.run { service in
            let port = service.port
            let uploaded = try Self.upload(Self.csv, contentType: "text/csv", port: port).json()
            let id = try #require(uploaded["id"] as? String)

            // A short job trains on it and gives a model of its width.
            let short = #"{"dataset": {"id": "\#(id)"}, "model": {"hidden_size": 3}, "epochs": 2, "batch_size": 16}"#
            let shortID = try #require(try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: short)
                .json()["id"] as? String)
            _ = try TestHTTPClient.request("GET", "/v1/jobs/\(shortID)/events", port: port)  // until it ends
            let finished = try TestHTTPClient.request("GET", "/v1/jobs/\(shortID)", port: port).json()
            #expect(finished["state"] as? String == "succeeded", "\(finished)")
            let modelID = try #require(finished["model_id"] as? String)
            #expect(try service.models.info(id: modelID).inputSize == 4)

            // While a job that has not ended reads it, the dataset stays.
            let long = #"{"dataset": {"id": "\#(id)", "limit": 32}, "model": {"hidden_size": 3}, "epochs": 100000}"#
            let longID = try #require(try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: long)
                .json()["id"] as? String)
            let refused = try TestHTTPClient.request("DELETE", "/v1/datasets/\(id)", port: port)
            #expect(refused.status == 409)
            #expect(try (RawHTTP.error(refused)["message"] as? String ?? "").contains(longID))

            _ = try TestHTTPClient.request("POST", "/v1/jobs/\(longID)/cancel", port: port, body: "")
            _ = try TestHTTPClient.request("GET", "/v1/jobs/\(longID)/events", port: port)
            #expect(try TestHTTPClient.request("DELETE", "/v1/datasets/\(id)", port: port).status == 204)
            #expect(try TestHTTPClient.request("GET", "/v1/datasets/\(id)", port: port).status == 404)
            let orphan = try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: short)
            #expect(orphan.status == 422)
            #expect(try RawHTTP.error(orphan)["code"] as? String == "dataset_not_found")
            #expect(try RawHTTP.error(orphan)["field"] as? String == "dataset.id")
        }
    }

    @Test func datasetIDsThatCouldNameOtherFilesAreRefused() throws {
        try LiveService.run { service in
            let port = service.port
            for target in ["/v1/datasets/..%2Fsaed.db", "/v1/datasets/a.csv", "/v1/datasets/%2Fetc%2Fpasswd"] {
                let response = try TestHTTPClient.request("GET", target, port: port)
                #expect(response.status == 400, "\(target)")
                #expect(try RawHTTP.error(response)["field"] as? String == "id")
            }
            let job = try TestHTTPClient.request("POST", "/v1/jobs", port: port,
                                                 body: #"{"dataset": {"id": "../../etc/passwd"}}"#)
            #expect(job.status == 400)
            #expect(try RawHTTP.error(job)["field"] as? String == "dataset.id")
            let both = try TestHTTPClient.request("POST", "/v1/jobs", port: port,
                                                  body: #"{"dataset": {"id": "ds_1", "path": "x.csv"}}"#)
            let message = try RawHTTP.error(both)["message"] as? String ?? ""
            #expect(both.status == 400 && message.contains("exactly one"))
        }
    }

    @Test func uploadsSurviveARestartAndStrayFilesAreRemoved() throws {
        let directory = try EndToEndTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = EndToEndTests.makeConfig(dataDirectory: directory)
        var service = try Service(config: config, logger: .none)
        try service.start()
        let uploaded = try Self.upload(Self.csv, contentType: "text/csv", port: service.port).json()
        let id = try #require(uploaded["id"] as? String)
        service.stop()

        // A file some interrupted upload left, with no row.
        let stray = config.datasetsDirectory + "/uploads/ds_0000000000000000.csv"
        try Data("1,2\n".utf8).write(to: URL(fileURLWithPath: stray))
        service = try Service(config: config, logger: .none)
        try service.start()
        defer { service.stop() }
        #expect(service.uploads.list().map(\.id) == [id])
        #expect(!FileManager.default.fileExists(atPath: stray))
        let body = #"{"dataset": {"id": "\#(id)"}, "model": {"hidden_size": 2}, "epochs": 1}"#
        #expect(try TestHTTPClient.request("POST", "/v1/jobs:validate", port: service.port, body: body).status == 200)
    }
}
