import Foundation
import SAECore
import Testing
@testable import SAEService

/// Downloading, importing and deleting models, and raw float32 rows, through the live API.
@Suite(.serialized)
struct ModelAPITests {
    static let raw = ["Content-Type": "application/octet-stream"]

    /// A safetensors file with the standard names; `tweak` may break it.
    static func weights(_ tweak: (inout [SafeTensors.Tensor], inout [String: String]) -> Void = { _, _ in })
        throws -> [UInt8]
    {
        let model = try SAECoreFixtures.tinyModel()
        var tensors = [
            SafeTensors.Tensor(name: "W_enc", shape: [4, 3], values: model.wEnc),
            SafeTensors.Tensor(name: "b_enc", shape: [3], values: model.bEnc),
            SafeTensors.Tensor(name: "W_dec", shape: [3, 4], values: model.wDec),
            SafeTensors.Tensor(name: "b_dec", shape: [4], values: model.bDec),
        ]
        var metadata = ["activation": "relu", "decoder_activation": "sigmoid"]
        tweak(&tensors, &metadata)
        let url = URL(fileURLWithPath: NSTemporaryDirectory() + "saed-weights-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(tensors, metadata: metadata, to: url)
        return try AtomicFile.read(contentsOf: url)
    }

    @Test func weightsDownloadAsTheStoredSafetensorsFile() throws {
        try LiveService.run { service in
            try LiveService.saveTinyModel(service)
            let response = try RawHTTP.send("GET", "/v1/models/model_tiny/weights", port: service.port)
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/octet-stream")
            #expect(response.headers["content-disposition"] == #"attachment; filename="model_tiny.safetensors""#)
            let stored = try AtomicFile.read(contentsOf: try service.models.weightsURL(id: "model_tiny"))
            #expect(response.body == stored)
            #expect(try RawHTTP.send("GET", "/v1/models/model_none/weights", port: service.port).status == 404)
        }
    }

    @Test func importedWeightsServeTheSameCodesAsTheirSource() throws {
        try LiveService.run { service in
            let port = service.port
            let imported = try RawHTTP.send("POST", "/v1/models?name=elsewhere", port: port,
                                            body: try Self.weights(), headers: Self.raw)
            #expect(imported.status == 201, "\(imported.text)")
            let info = try imported.json()
            let id = try #require(info["id"] as? String)
            #expect(imported.headers["location"] == "/v1/models/\(id)")
            #expect(info["input_size"] as? Int == 4 && info["hidden_size"] as? Int == 3)
            #expect(info["decoder_activation"] as? String == "sigmoid" && info["name"] as? String == "elsewhere")

            // Same weights, same codes: compare with the fixture computed in process.
            let codes = try TestHTTPClient.request("POST", "/v1/models/\(id)/encode", port: port,
                                                   body: #"{"inputs": [[1, 0, 0, 0]]}"#).json()["codes"] as? [[Double]]
            let model = try SAECoreFixtures.tinyModel()
            let expected = model.encode([1, 0, 0, 0], rows: 1).map(Double.init)
            #expect(codes?.first.map { zip($0, expected).allSatisfy { abs($0 - $1) < 1e-6 } } == true)
            #expect(service.models.list().map(\.id) == [id])
        }
    }

    @Test func weightsThatAreNotAModelAre422NamingTheFault() throws {
        let cases: [(body: [UInt8], code: String, fragment: String)] = [
            (try Self.weights { tensors, _ in tensors[2].shape = [4, 3] }, "model_invalid", "W_dec has shape [4, 3]"),
            (try Self.weights { tensors, _ in tensors.remove(at: 1) }, "model_invalid", "'b_enc'"),
            (try Self.weights { tensors, _ in tensors[0].values[5] = .nan }, "model_invalid", "W_enc element 5"),
            (try Self.weights { _, metadata in metadata["activation"] = "gelu" }, "model_invalid", "gelu"),
            (Array("not safetensors at all".utf8), "safetensors_invalid", "header length"),
        ]
        try LiveService.run { service in
            for (body, code, fragment) in cases {
                let response = try RawHTTP.send("POST", "/v1/models", port: service.port, body: body, headers: Self.raw)
                #expect(response.status == 422)
                let error = try RawHTTP.error(response)
                #expect(error["code"] as? String == code)
                let message = error["message"] as? String ?? ""
                #expect(message.hasPrefix("the uploaded weights: ") && message.contains(fragment), "\(message)")
            }
            #expect(service.models.list().isEmpty)
            let folder = service.config.dataDirectory + "/models"
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder)
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
    }

    @Test func deletedModelsAreGoneFromTheAPIAndTheDisk() throws {
        try LiveService.run { service in
            try LiveService.saveTinyModel(service)
            let folder = service.config.dataDirectory + "/models/model_tiny"
            #expect(FileManager.default.fileExists(atPath: folder))
            #expect(try RawHTTP.send("DELETE", "/v1/models/model_tiny", port: service.port).status == 204)
            #expect(!FileManager.default.fileExists(atPath: folder))
            let again = try RawHTTP.send("DELETE", "/v1/models/model_tiny", port: service.port)
            #expect(again.status == 404)
            #expect(try RawHTTP.error(again)["code"] as? String == "model_not_found")
            let escape = try RawHTTP.send("DELETE", "/v1/models/..%2Fjobs", port: service.port)
            #expect(escape.status == 400)
            #expect(try RawHTTP.error(escape)["field"] as? String == "id")
        }
    }

    /// A model that a job not yet ended starts from stays until that job ends.
    @Test func aModelStaysWhileAJobStartsFromIt() throws {
        try LiveService.run { service in
            let port = service.port
            try LiveService.saveTinyModel(service)
            let upload = try DatasetAPITests.upload(DatasetAPITests.csv, contentType: "text/csv", port: port)
            let datasetID = try #require(try upload.json()["id"] as? String)
            let spec = #"{"dataset": {"id": "\#(datasetID)"}, "init_from": "model_tiny", "model": {"hidden_size": 3}, "epochs": 100000}"#
            let submitted = try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: spec)
            #expect(submitted.status == 202, "\(submitted.text)")
            let jobID = try #require(try submitted.json()["id"] as? String)

            let refused = try RawHTTP.send("DELETE", "/v1/models/model_tiny", port: port)
            #expect(refused.status == 409)
            let error = try RawHTTP.error(refused)
            #expect(error["code"] as? String == "invalid_state")
            #expect((error["message"] as? String)?.contains("init_from of job \(jobID)") == true, "\(error)")
            #expect(try service.models.info(id: "model_tiny").hiddenSize == 3)

            _ = try TestHTTPClient.request("POST", "/v1/jobs/\(jobID)/cancel", port: port, body: "")
            _ = try TestHTTPClient.request("GET", "/v1/jobs/\(jobID)/events", port: port)  // until it ends
            #expect(try RawHTTP.send("DELETE", "/v1/models/model_tiny", port: port).status == 204)
            // A job naming it now is refused at submission.
            let orphan = try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: spec)
            #expect(orphan.status == 400)
            #expect(try RawHTTP.error(orphan)["field"] as? String == "init_from")
        }
    }

    @Test func rawFloat32RowsGiveTheSameNumbersAsJSON() throws {
        try LiveService.run { service in
            let port = service.port
            try LiveService.saveTinyModel(service)
            let rows: [[Float]] = [[1, 0, 0, 0], [0.5, -0.25, 0.75, 0.125]]
            let json = #"{"inputs": [[1, 0, 0, 0], [0.5, -0.25, 0.75, 0.125]]}"#
            let body = Float32Bytes.encode(rows.flatMap { $0 })
            for (operation, field, width) in [("encode", "codes", 3), ("reconstruct", "reconstructions", 4)] {
                let answer = try RawHTTP.send("POST", "/v1/models/model_tiny/\(operation)", port: port, body: body,
                                              headers: Self.raw.merging(["X-Rows": "2"]) { a, _ in a })
                #expect(answer.status == 200)
                #expect(answer.headers["content-type"] == "application/octet-stream")
                #expect(answer.headers["x-rows"] == "2" && answer.headers["x-columns"] == "\(width)")
                let expected = try TestHTTPClient.request("POST", "/v1/models/model_tiny/\(operation)", port: port,
                                                          body: json).json()[field] as? [[Double]] ?? []
                let values = Float32Bytes.decode(answer.body)
                #expect(values.count == 2 * width)
                #expect(zip(values, expected.flatMap { $0 }).allSatisfy { abs(Double($0) - $1) < 1e-6 })
            }
            let decoded = try RawHTTP.send("POST", "/v1/models/model_tiny/decode", port: port,
                                           body: Float32Bytes.encode([1, 0, 2]), headers: Self.raw)
            #expect(decoded.status == 200 && decoded.headers["x-rows"] == "1" && decoded.body.count == 16)
            let metrics = try TestHTTPClient.request("GET", "/metrics", port: port).text
            #expect(metrics.contains("saed_encoded_rows_total 4"), "2 raw rows and 2 JSON rows were encoded")
        }
    }

    @Test func sparseCodesDecodeLikeTheirDenseRows() throws {
        try LiveService.run { service in
            let port = service.port
            try LiveService.saveTinyModel(service)
            let dense = try TestHTTPClient.request("POST", "/v1/models/model_tiny/decode", port: port,
                                                   body: #"{"codes": [[0, 1.5, 0], [2, 0, 0.5]]}"#).json()
            let sparse = try TestHTTPClient.request(
                "POST", "/v1/models/model_tiny/decode", port: port,
                body: #"{"codes": [{"indices": [1], "values": [1.5]}, {"indices": [2, 0], "values": [0.5, 2]}]}"#)
            #expect(sparse.status == 200)
            #expect(try sparse.json()["outputs"] as? [[Double]] == dense["outputs"] as? [[Double]])

            let bad: [(String, String)] = [
                (#"{"codes": [{"indices": [3], "values": [1]}]}"#, "codes[0].indices[0]"),
                (#"{"codes": [{"indices": [1, 1], "values": [1, 2]}]}"#, "codes[0].indices[1]"),
                (#"{"codes": [{"indices": [1], "values": []}]}"#, "codes[0]"),
                (#"{"codes": [{"indices": [1]}]}"#, "codes[0]"),
                // A bad value is named by its place in `values`, not by the dense column it fills.
                (#"{"codes": [[0, 0, 0], {"indices": [0, 2], "values": [1, "x"]}]}"#, "codes[1].values[1]"),
                (#"{"codes": [{"indices": [2, 0], "values": [1e39, 1]}]}"#, "codes[0].values[0]"),
            ]
            for (body, field) in bad {
                let response = try TestHTTPClient.request("POST", "/v1/models/model_tiny/decode", port: port,
                                                          body: body)
                #expect(response.status == 400, "\(body)")
                #expect(try RawHTTP.error(response)["field"] as? String == field, "\(body)")
            }
        }
    }

    @Test func rawBodiesOfTheWrongShapeOrWithNaNAreRefused() throws {
        try LiveService.run { service in
            try LiveService.saveTinyModel(service)
            let cases: [(body: [UInt8], rows: String?, field: String, fragment: String)] = [
                (Float32Bytes.encode([1, 2, 3]), nil, "(body)", "whole rows of 4 float32 values"),
                ([], nil, "(body)", "holds 0 bytes"),
                (Float32Bytes.encode([1, 2, 3, 4]), "2", "X-Rows", "the body holds 1 rows"),
                (Float32Bytes.encode([1, .nan, 3, 4]), nil, "(body)", "row 0, column 1 is nan"),
                (Float32Bytes.encode([1, 2, 3, 4]), "one", "X-Rows", "says \"one\""),
            ]
            for (body, rows, field, fragment) in cases {
                var headers = Self.raw
                headers["X-Rows"] = rows
                let response = try RawHTTP.send("POST", "/v1/models/model_tiny/encode", port: service.port,
                                                body: body, headers: headers)
                #expect(response.status == 400)
                let error = try RawHTTP.error(response)
                #expect(error["field"] as? String == field)
                #expect((error["message"] as? String ?? "").contains(fragment), "\(error)")
            }
        }
    }
}
