import Foundation
import SAECore
import Testing
@testable import SAEService

/// `ServedModel` through the routes: values that stop being finite inside the model are
/// refused as `non_finite_output` naming the row, for JSON and raw float32 alike, instead of
/// being answered as infinities or as codes silently zeroed.
@Suite(.serialized)
struct ServedModelTests {
    static let raw = ["Content-Type": "application/octet-stream"]

    static func expectNonFinite(_ response: TestResponse, _ what: String) throws {
        #expect(response.status == 422, "\(response.text)")
        let error = try RawHTTP.error(response)
        #expect(error["code"] as? String == "non_finite_output")
        #expect((error["message"] as? String)?.hasPrefix(what) == true, "\(error)")
    }

    /// A σ of 1.4e-45 (positive, so accepted) turns the finite input 1 into +∞: before the
    /// check, the threshold selection dropped the resulting NaN pre-activations and encode
    /// answered 200 with all-zero codes.
    @Test func standardisationThatOverflowsIsNamedNotZeroed() throws {
        try LiveService.run { service in
            let config = #"""
                {"normalization": "standardize", "normalization_mean": [0, 0, 0, 0],
                 "normalization_std": [1e-45, 1, 1, 1], "threshold": 0.01, "batch_top_k": 1}
                """#
            let imported = try ModelImportConfigTests.importForm(service, [
                ("weights", try ModelImportConfigTests.bareWeights()), ("config", Array(config.utf8))])
            let id = try #require(try imported.json()["id"] as? String, "\(imported.text)")

            // Row 0 is all zeros, which standardises to zeros; row 1 overflows.
            let rows: [Float] = [0, 0, 0, 0, 1, 0, 0, 0]
            for operation in ["encode", "reconstruct"] {
                let json = try TestHTTPClient.request(
                    "POST", "/v1/models/\(id)/\(operation)", port: service.port,
                    body: #"{"inputs": [[0, 0, 0, 0], [1, 0, 0, 0]]}"#)
                try Self.expectNonFinite(json, "standardised inputs[1]")
                let binary = try RawHTTP.send("POST", "/v1/models/\(id)/\(operation)", port: service.port,
                                              body: Float32Bytes.encode(rows), headers: Self.raw)
                try Self.expectNonFinite(binary, "standardised inputs[1]")
            }
        }
    }

    /// Codes of 3e38 decode past float32's range (column 1 sums (0.1 + 0.5 + 0.9)·3e38); the
    /// raw answer used to carry +∞ while the JSON one was refused.
    @Test func rawAnswersRefuseOverflowAsJSONOnesDo() throws {
        try LiveService.run { service in
            try LiveService.saveTinyModel(service)
            let codes: [Float] = [1, 2, 3, 3e38, 3e38, 3e38]
            let binary = try RawHTTP.send("POST", "/v1/models/model_tiny/decode", port: service.port,
                                          body: Float32Bytes.encode(codes), headers: Self.raw)
            try Self.expectNonFinite(binary, "outputs[1]")
            let json = try TestHTTPClient.request(
                "POST", "/v1/models/model_tiny/decode", port: service.port,
                body: #"{"codes": [[1, 2, 3], [3e38, 3e38, 3e38]]}"#)
            try Self.expectNonFinite(json, "outputs[1]")

            // Finite rows still pass: ReLU of the hand-worked linear decode [1.8, 3.9, −2, −0.45].
            let fine = try RawHTTP.send("POST", "/v1/models/model_tiny/decode", port: service.port,
                                        body: Float32Bytes.encode([1, 2, 3]), headers: Self.raw)
            #expect(fine.status == 200)
            let values = Float32Bytes.decode(fine.body).map(Double.init)
            #expect(zip(values, [1.8, 3.9, 0, 0]).allSatisfy { abs($0 - $1) < 1e-6 }, "\(values)")
        }
    }
}
