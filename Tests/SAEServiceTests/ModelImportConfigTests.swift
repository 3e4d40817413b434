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
            body += Array("--\(Self.boundary)\r\n".utf8)
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

    /// The tiny test model's four tensors as a safetensors file, without metadata unless given.
    static func bareWeights(metadata: [String: String] = [:]) throws -> [UInt8] {
        let model = try SAECoreFixtures.tinyModel()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("saed-import-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write([
            SafeTensors.Tensor(name: "W_enc", shape: [4, 3], values: model.wEnc),
            SafeTensors.Tensor(name: "b_enc", shape: [3], values: model.bEnc),
            SafeTensors.Tensor(name: "W_dec", shape: [3, 4], values: model.wDec),
            SafeTensors.Tensor(name: "b_dec", shape: [4], values: model.bDec),
        ], metadata: metadata, to: url)
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

            // The weights download alone carries the normalisation: imported without cfg.json it
            // still standardises (a model served raw would give other codes).
            let alone = try RawHTTP.send("POST", "/v1/models", port: service.port, body: weights)
            #expect(alone.status == 201, "\(alone.text)")
            let bare = try alone.json()
            #expect(bare["normalization"] as? String == "standardize")
            #expect((bare["normalization_mean"] as? NSObject) == (info["normalization_mean"] as? NSObject))
            #expect((bare["normalization_std"] as? NSObject) == (info["normalization_std"] as? NSObject))
            let bareID = try #require(bare["id"] as? String)
            #expect(try Support.rowsOperation(service, bareID, "encode", inputs, answer: "codes") == codes)
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
                 400, "invalid_field", "config.top_k", "is 9 but the weights have 3 latents"),
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

    /// `codes` decoded by the tiny model's linear decoder, worked by hand:
    /// `b_dec + Σ_j c_j·W_dec[j]` for `c = [1, 2, 3]` is `[1.8, 3.9, −2.0, −0.45]`.
    static let linearDecode: [Double] = [1.8, 3.9, -2.0, -0.45]

    /// SAELens files: a top-k SAE's k in either place, and a linear decoder, so decoding gives
    /// negative outputs as SAELens does (a ReLU decoder would give `[1.8, 3.9, 0, 0]`).
    @Test func saeLensTopKFilesServeTheirKAndALinearDecoder() throws {
        try LiveService.run { service in
            let files = [
                #"{"architecture": "topk", "k": 2, "d_in": 4, "d_sae": 3, "normalize_activations": "none"}"#,
                #"{"architecture": "standard", "activation_fn_str": "topk", "activation_fn_kwargs": {"k": 2}}"#,
            ]
            for file in files {
                let response = try Self.importForm(service, [("weights", try Self.bareWeights()),
                                                             ("config", Array(file.utf8))])
                #expect(response.status == 201, "\(response.text)")
                let info = try response.json()
                #expect(info["top_k"] as? Int == 2 && info["decoder_activation"] as? String == "identity", "\(file)")
                let id = try #require(info["id"] as? String)

                // x = e_0: pre-activations W_enc[0] + b_enc = [0.51, −0.27, 0.155]; the top 2 stay.
                let codes = try Support.rowsOperation(service, id, "encode", [[1, 0, 0, 0]], answer: "codes")
                #expect(Support.maxDifference(codes, [[0.51, 0, 0.155]]) < 1e-6, "\(codes)")
                let outputs = try Support.rowsOperation(service, id, "decode", field: "codes", [[1, 2, 3]],
                                                        answer: "outputs")
                #expect(Support.maxDifference(outputs, [Self.linearDecode]) < 1e-6, "\(outputs)")
            }

            // Weights whose metadata names a decoder keep it: the SAELens default fills gaps only.
            let sigmoid = try Self.importForm(service, [("weights", try Self.bareWeights(metadata: [
                "decoder_activation": "sigmoid"])), ("config", Array(#"{"d_sae": 3}"#.utf8))])
            #expect(try sigmoid.json()["decoder_activation"] as? String == "sigmoid", "\(sigmoid.text)")
        }
    }

    /// A negative threshold in the weights' own metadata is refused as the cfg.json's is, as a
    /// model the weights cannot be; 0 (and -0) are accepted.
    @Test func aNegativeThresholdInTheWeightsMetadataIsRefused() throws {
        try LiveService.run { service in
            let negative = try RawHTTP.send("POST", "/v1/models", port: service.port,
                                            body: try Self.bareWeights(metadata: ["threshold": "-0.25"]))
            #expect(negative.status == 422, "\(negative.text)")
            let error = try RawHTTP.error(negative)
            #expect(error["code"] as? String == "model_invalid")
            #expect(error["message"] as? String
                        == "the uploaded weights: metadata threshold is -0.25; expected a finite number, 0 or more")
            #expect(service.models.list().isEmpty)

            let zero = try Self.importForm(service, [("weights", try Self.bareWeights()),
                                                     ("config", Array(#"{"threshold": -0.0}"#.utf8))])
            #expect(zero.status == 201, "\(zero.text)")
            #expect(try zero.json()["threshold"] as? Double == 0)
        }
    }

    /// Settings saed cannot reproduce, or that contradict each other, are refused naming the key
    /// rather than ignored (ignoring them would serve other numbers than the model's).
    @Test func configsSaedCannotServeExactlyAreRefusedNamingTheKey() throws {
        try LiveService.run { service in
            let weights = try Self.bareWeights()
            let long = String(repeating: "n", count: 201)
            let cases: [(String, Int, String?, String)] = [
                (#"{"architecture": "topk", "d_sae": 3}"#, 400, "config.k", "needs its k"),
                (#"{"normalize_activations": "expected_average_only_in"}"#, 400,
                 "config.normalize_activations", "not supported"),
                (#"{"activation_fn_str": "tanh-relu"}"#, 400, "config.activation_fn_str", "not supported"),
                (#"{"finetuning_scaling_factor": true}"#, 400, "config.finetuning_scaling_factor", "not supported"),
                (#"{"name": "\#(long)"}"#, 400, "config.name", "1 to 200 characters, got 201"),
                (#"{"name": ""}"#, 400, "config.name", "1 to 200 characters, got 0"),
                (#"{"name": " \t "}"#, 400, "config.name", "config.name: must not be only white space"),
                (#"{"name": "a\nb"}"#, 400, "config.name", "must not hold control characters, found U+000A"),
                (#"{"normalization_mean": [0, 0, 0, 0], "normalization_std": [1, 1, 1, 1]}"#, 400,
                 "config.normalization_mean", "normalization is not given"),
                (#"{"normalization": "unit", "normalization_std": [1, 1, 1, 1]}"#, 400,
                 "config.normalization_std", "normalization is \"unit\""),
                (#"{"top_k": 2, "batch_top_k": 1}"#, 422, nil, "top_k is 2 and batch_top_k is set too"),
                // A JumpReLU or batch top-k threshold below 0 would let negative codes through.
                (#"{"threshold": -0.5}"#, 400, "config.threshold", "config.threshold: must be 0 or more, got -0.5"),
                (#"{"batch_top_k": 1, "threshold": -1e-30}"#, 400, "config.threshold", "must be 0 or more"),
                // A latent count beyond the weights' d_sae is the cfg.json's key at fault.
                (#"{"top_k": 4}"#, 400, "config.top_k",
                 "config.top_k: is 4 but the weights have 3 latents (W_enc is [d_in, d_sae]); expected 1 to 3"),
                (#"{"batch_top_k": 9}"#, 400, "config.batch_top_k", "is 9 but the weights have 3 latents"),
                (#"{"architecture": "topk", "k": 5}"#, 400, "config.k", "is 5 but the weights have 3 latents"),
                (#"{"activation_fn_str": "topk", "activation_fn_kwargs": {"k": 7}}"#, 400,
                 "config.activation_fn_kwargs.k", "is 7 but the weights have 3 latents"),
            ]
            for (file, status, field, message) in cases {
                let response = try Self.importForm(service, [("weights", weights), ("config", Array(file.utf8))])
                #expect(response.status == status, "\(file.prefix(80)): \(response.text)")
                let error = try RawHTTP.error(response)
                #expect(error["field"] as? String == field, "\(file.prefix(80))")
                #expect((error["message"] as? String)?.contains(message) == true, "\(error)")
            }
            #expect(service.models.list().isEmpty)
        }
    }

    /// A form whose Content-Type lacks its boundary, or names another multipart type, is refused
    /// as such instead of being read as a bare safetensors file.
    @Test func multipartWithoutBoundaryOrOfAnotherKindIsNamedAsSuch() throws {
        try LiveService.run { service in
            let body = Self.form([("weights", try Self.bareWeights())])
            let cases: [(String, Int, String, String?)] = [
                ("multipart/form-data", 400, "invalid_field", "Content-Type"),
                ("multipart/form-data; boundary=", 400, "invalid_field", "Content-Type"),
                ("multipart/form-data; boundary=\"\"", 400, "invalid_field", "Content-Type"),
                ("multipart/mixed; boundary=\(Self.boundary)", 415, "unsupported_media_type", nil),
            ]
            for (contentType, status, code, field) in cases {
                let response = try RawHTTP.send("POST", "/v1/models", port: service.port, body: body,
                                                headers: ["Content-Type": contentType])
                #expect(response.status == status, "\(contentType): \(response.text)")
                let error = try RawHTTP.error(response)
                #expect(error["code"] as? String == code && error["field"] as? String == field, "\(contentType)")
            }
            #expect(service.models.list().isEmpty)
        }
    }

    /// Part parameters are RFC 9110 quoted strings: a `;` or `name=` inside a quoted filename
    /// does not hide the real name, and a part name sent twice is refused naming it.
    @Test func quotedPartParametersAndRepeatedPartsAreReadExactly() throws {
        try LiveService.run { service in
            let weights = try Self.bareWeights()
            var body = Array("--\(Self.boundary)\r\n".utf8)
            body += Array("Content-Disposition: form-data; filename=\"a;name=x \\\"q\\\".st\"; name=\"weights\"\r\n\r\n".utf8)
            body += weights + Array("\r\n--\(Self.boundary)--\r\n".utf8)
            let headers = ["Content-Type": "multipart/form-data; boundary=\"\(Self.boundary)\""]
            let imported = try RawHTTP.send("POST", "/v1/models", port: service.port, body: body, headers: headers)
            #expect(imported.status == 201, "\(imported.text)")

            let twice = try Self.importForm(service, [("weights", Array("junk".utf8)), ("weights", weights)])
            #expect(twice.status == 400, "\(twice.text)")
            let error = try RawHTTP.error(twice)
            #expect(error["field"] as? String == "weights")
            #expect((error["message"] as? String)?.contains("sent twice") == true, "\(error)")
            #expect(service.models.list().count == 1)
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
