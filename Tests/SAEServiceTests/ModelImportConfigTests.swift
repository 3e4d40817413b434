import Foundation
import SAECore
import Testing
@testable import SAEService

/// `POST /v1/models` as a multipart form: the safetensors file plus an optional cfg.json.
@Suite(.serialized)
struct ModelImportConfigTests {
    typealias Support = ModelConfigSupport
    static let boundary = "saed-test-boundary-7f3a"

    /// A `multipart/form-data` body with one part per (name, bytes).
    static func form(_ parts: [(String, [UInt8])]) -> [UInt8] {
        var body: [UInt8] = []
        for (name, bytes) in parts {
            body += Array("--\(boundary)\r\n".utf8)
            body += Array("Content-Disposition: form-data; name=\"\(name)\"; filename=\"\(name)\"\r\n".utf8)
            body += Array("Content-Type: application/octet-stream\r\n\r\n".utf8)
            body += bytes + Array("\r\n".utf8)
        }
        return body + Array("--\(boundary)--\r\n".utf8)
    }

    static func importForm(_ service: Service, _ parts: [(String, [UInt8])]) throws -> TestResponse {
        try RawHTTP.send("POST", "/v1/models", port: service.port, body: form(parts),
                         headers: ["Content-Type": "multipart/form-data; boundary=\(boundary)"])
    }

    /// The tiny test model's four tensors as a safetensors file without metadata.
    static func bareWeights() throws -> [UInt8] {
        let model = try SAECoreFixtures.tinyModel()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("saed-import-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write([
            SafeTensors.Tensor(name: "W_enc", shape: [4, 3], values: model.wEnc),
            SafeTensors.Tensor(name: "b_enc", shape: [3], values: model.bEnc),
            SafeTensors.Tensor(name: "W_dec", shape: [3, 4], values: model.wDec),
            SafeTensors.Tensor(name: "b_dec", shape: [4], values: model.bDec),
        ], to: url)
        return try AtomicFile.read(contentsOf: url)
    }

    /// A SAELens-style cfg.json: keys saed reads, and others it ignores.
    static let config = """
        {"d_in": 4, "d_sae": 3, "apply_b_dec_to_input": true, "threshold": 0.05, "batch_top_k": 1,
         "normalization": "standardize", "normalization_mean": [0.1, 0.2, 0.3, 0.4],
         "normalization_std": [2, 0.5, 1, 4], "name": "from-cfg", "architecture": "standard",
         "dtype": "float32", "hook_name": "blocks.0.hook_resid_pre"}
        """

    @Test func importWithConfigKeepsItAndEncodesByIt() throws {
        try LiveService.run { service in
            let response = try Self.importForm(service, [("weights", try Self.bareWeights()),
                                                         ("config", Array(Self.config.utf8))])
            #expect(response.status == 201, "\(response.text)")
            let info = try response.json()
            let id = try #require(info["id"] as? String)
            #expect(info["name"] as? String == "from-cfg" && info["batch_top_k"] as? Int == 1)
            #expect((info["threshold"] as? Double).map(Float.init) == 0.05)
            #expect(info["subtract_decoder_bias"] as? Bool == true && info["tied_weights"] as? Bool == false)
            #expect(info["normalization"] as? String == "standardize")
            #expect(info["normalization_std"] as? [Double] == [2, 0.5, 1, 4])

            // By hand: standardise, subtract b_dec, threshold 0.05, ReLU.
            var model = try SAECoreFixtures.tinyModel()
            model.config.subtractsDecoderBias = true
            let (mean, std) = ([0.1, 0.2, 0.3, 0.4], [2.0, 0.5, 1, 4])
            let inputs: [[Float]] = [[1, 2, 3, 4], [-0.5, 0.25, 0, 8]]
            let expected = inputs.map { row in
                Support.plainEncode((0..<4).map { (Double(row[$0]) - mean[$0]) / std[$0] }, model,
                                    threshold: Double(Float(0.05)))
            }
            let codes = try Support.rowsOperation(service, id, "encode", inputs, answer: "codes")
            #expect(Support.maxDifference(codes, expected) < 1e-6, "\(codes) vs \(expected)")

            // What GET shows (the cfg.json) and the weights download import back to the same model.
            let shown = try TestHTTPClient.request("GET", "/v1/models/\(id)", port: service.port).body
            let weights = try TestHTTPClient.request("GET", "/v1/models/\(id)/weights", port: service.port).body
            let again = try Self.importForm(service, [("weights", weights), ("config", shown)])
            #expect(again.status == 201, "\(again.text)")
            let copy = try again.json()
            for key in ["threshold", "batch_top_k", "subtract_decoder_bias", "tied_weights", "normalization",
                        "normalization_mean", "normalization_std", "name"] {
                #expect((copy[key] as? NSObject) == (info[key] as? NSObject), "\(key)")
            }
            let copyID = try #require(copy["id"] as? String)
            #expect(try Support.rowsOperation(service, copyID, "encode", inputs, answer: "codes") == codes)
        }
    }

    /// A standardize cfg.json with one mean too few.
    static let shortMean = #"""
        {"normalization": "standardize", "normalization_mean": [1, 2, 3], "normalization_std": [1, 1, 1, 1]}
        """#

    @Test func badConfigsAndFormsAreRefusedNamingThePart() throws {
        try LiveService.run { service in
            let weights = try Self.bareWeights()
            let cases: [([(String, [UInt8])], Int, String, String?, String)] = [
                ([("weights", weights), ("config", Array(#"{"d_in": 5}"#.utf8))],
                 400, "invalid_field", "config.input_size", "says 5 but the weights have 4"),
                ([("weights", weights), ("config", Array(Self.shortMean.utf8))],
                 400, "invalid_field", "config.normalization_mean", "needs 4 values"),
                ([("weights", weights), ("config", Array(#"{"architecture": "jumprelu"}"#.utf8))],
                 400, "invalid_field", "config.architecture", "not supported"),
                ([("weights", weights), ("config", Array(#"{"top_k": 9}"#.utf8))],
                 422, "model_invalid", nil, "top_k is '9'; expected 1...3"),
                ([("weights", weights), ("config", Array("{not json".utf8))],
                 400, "malformed_json", nil, "cfg.json"),
                ([("config", Array("{}".utf8))], 400, "invalid_field", "weights", "is missing"),
                ([("weights", weights), ("extra", [1])], 400, "unknown_field", "extra", "unknown field"),
            ]
            for (index, (parts, status, code, field, message)) in cases.enumerated() {
                let response = try Self.importForm(service, parts)
                #expect(response.status == status, "case \(index): \(response.text)")
                let error = try RawHTTP.error(response)
                #expect(error["code"] as? String == code, "case \(index)")
                #expect(error["field"] as? String == field, "case \(index)")
                #expect((error["message"] as? String)?.contains(message) == true, "case \(index): \(error)")
            }
            #expect(service.models.list().isEmpty)
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/curl")))
    func curlFormUploadImportsWeightsAndConfig() throws {
        try LiveService.run { service in
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("saed-curl-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            try Data(try Self.bareWeights()).write(to: folder.appendingPathComponent("model.safetensors"))
            try Data(Self.config.utf8).write(to: folder.appendingPathComponent("cfg.json"))

            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.currentDirectoryURL = folder
            process.arguments = ["-s", "--max-time", "10", "-F", "weights=@model.safetensors", "-F", "config=@cfg.json",
                                 "http://127.0.0.1:\(service.port)/v1/models?name=curled"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let bytes = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let info = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
            #expect(info["name"] as? String == "curled", "the query name wins over cfg.json's")
            #expect(info["normalization"] as? String == "standardize" && info["batch_top_k"] as? Int == 1)
        }
    }
}
