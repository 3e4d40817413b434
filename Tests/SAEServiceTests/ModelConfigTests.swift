import Foundation
import SAECore
import Testing
@testable import SAEService

/// Models keep their whole configuration and input normalisation, and the encode,
/// reconstruct and decode routes apply them: standardize, batch top-k's learnt threshold,
/// tied weights and b_dec subtraction. Hand computations are plain Double loops.
@Suite(.serialized)
struct ModelConfigTests {
    typealias Support = ModelConfigSupport

    /// Passes when `|a − b| ≤ tolerance · (1 + |b|)` everywhere; reports the worst element.
    static func expectClose(_ a: [[Double]], _ b: [[Double]], tolerance: Double, _ what: String) {
        var worst = 0.0
        for (rowA, rowB) in zip(a, b) {
            guard rowA.count == rowB.count else { worst = .infinity; break }
            for (x, y) in zip(rowA, rowB) { worst = max(worst, abs(x - y) / (1 + abs(y))) }
        }
        let isSameShape = a.count == b.count
        #expect(isSameShape && worst <= tolerance, "\(what): largest relative difference \(worst)")
    }

    @Test func standardizeModelStoresItsStatisticsAndAnswersInTheCallersUnits() throws {
        try LiveService.run { service in
            let data = Support.rows(48, width: 3, scales: [10, 0.5, 200], offsets: [5, -1, 1000])
            try Support.writeCSV(service, "std.csv", data)
            let id = try Support.trainModel(service, """
                {"dataset": {"path": "std.csv"}, "model": {"hidden_size": 4}, "normalization": "standardize",
                 "sparsity": {"kind": "none"}, "epochs": 1, "batch_size": 8, "seed": 3}
                """)

            // Population mean and standard deviation per column, by hand.
            let mean = (0..<3).map { j in data.reduce(0.0) { $0 + Double($1[j]) } / 48 }
            let std = (0..<3).map { j in
                (data.reduce(0.0) { $0 + pow(Double($1[j]) - mean[j], 2) } / 48).squareRoot()
            }
            let info = try Support.modelJSON(service, id)
            #expect(info["normalization"] as? String == "standardize")
            Self.expectClose([try #require(info["normalization_mean"] as? [Double])], [mean], tolerance: 1e-6, "mean")
            Self.expectClose([try #require(info["normalization_std"] as? [Double])], [std], tolerance: 1e-6, "std")

            // Raw rows in, standardised inside, raw units back out.
            let model = try Support.savedWeights(service, id)
            let inputs = Array(data.prefix(3)) + [[-20, 3, 900]]
            let standardized = inputs.map { row in (0..<3).map { (Double(row[$0]) - mean[$0]) / std[$0] } }
            let codes = standardized.map { Support.plainEncode($0, model, threshold: nil) }
            let outputs = codes.map { code in
                zip(Support.plainDecode(code, model), zip(mean, std)).map { $0 * $1.1 + $1.0 }
            }
            let answered = try Support.rowsOperation(service, id, "encode", inputs, answer: "codes")
            Self.expectClose(answered, codes, tolerance: 1e-4, "encode")
            let rebuilt = try Support.rowsOperation(service, id, "reconstruct", inputs, answer: "reconstructions")
            Self.expectClose(rebuilt, outputs, tolerance: 1e-4, "reconstruct")
            let decoded = try Support.rowsOperation(
                service, id, "decode", field: "codes", codes.map { $0.map(Float.init) }, answer: "outputs")
            Self.expectClose(decoded, outputs, tolerance: 1e-4, "decode")
        }
    }

    @Test func batchTopKModelEncodesWithItsLearntThresholdTiedAndCentred() throws {
        try LiveService.run { service in
            let data = Support.rows(64, width: 5, seed: 11)
            try Support.writeCSV(service, "b.csv", data)
            let id = try Support.trainModel(service, """
                {"dataset": {"path": "b.csv"}, "model": {"hidden_size": 8, "tied_weights": true,
                 "subtract_decoder_bias": true}, "sparsity": {"kind": "batchtopk", "k": 2},
                 "optimizer": {"learning_rate": 0.01}, "epochs": 2, "batch_size": 16, "seed": 4}
                """)

            let info = try Support.modelJSON(service, id)
            let threshold = try #require(info["threshold"] as? Double)
            #expect(info["batch_top_k"] as? Int == 2 && info["top_k"] == nil)
            #expect(info["tied_weights"] as? Bool == true && info["subtract_decoder_bias"] as? Bool == true)
            #expect(info["normalization"] as? String == "none")

            // The weights file carries the same configuration.
            let model = try Support.savedWeights(service, id)
            #expect(model.config.threshold == Float(threshold) && model.config.batchTopK == 2)
            #expect(model.config.hasTiedWeights && model.config.subtractsDecoderBias)
            // W_dec[j][i] (8 × 5) is W_enc[i][j] (5 × 8).
            let transpose: [Float] = (0..<40).map { (index: Int) -> Float in
                model.wEnc[(index % 5) * 8 + index / 5]
            }
            #expect(model.wDec == transpose)

            // JumpReLU at inference: z > θ survives, whatever the batch.
            let inputs = Array(data.prefix(6))
            let expected = inputs.map { Support.plainEncode($0.map(Double.init), model, threshold: threshold) }
            let answered = try Support.rowsOperation(service, id, "encode", inputs, answer: "codes")
            Self.expectClose(answered, expected, tolerance: 1e-5, "encode")
            let alone = try Support.rowsOperation(service, id, "encode", [inputs[3]], answer: "codes")
            Self.expectClose(alone, [expected[3]], tolerance: 1e-5, "one row alone")
            // The threshold matters here: some positive pre-activations fall below it.
            let dense = inputs.map { Support.plainEncode($0.map(Double.init), model, threshold: nil) }
            let cut = zip(dense.joined(), expected.joined()).filter { $0 > 0 && $1 == 0 }.count
            #expect(cut > 0 && expected.joined().contains { $0 > 0 }, "threshold \(threshold)")
        }
    }

    @Test func storedInfoWrittenBeforeTheNewKeysReadsWithDefaults() throws {
        let old = #"""
            {"activation":"relu","created_at":"2026-01-01T00:00:00Z","decoder_activation":"sigmoid",
             "hidden_size":3,"id":"model_old","input_size":4,"normalization":"unit","top_k":2}
            """#
        let info = try APIJSON.decoder.decode(ModelInfo.self, from: Data(old.utf8))
        #expect(info.config == AutoencoderConfig(
            inputSize: 4, hiddenSize: 3, activation: .relu, decoderActivation: .sigmoid, topK: 2))
        #expect(info.normalization == .unit && info.inputNormalization == .unit)
        #expect(!info.tiedWeights && !info.subtractDecoderBias && info.threshold == nil)
        // And it writes back with the new keys.
        let again = try APIJSON.decoder.decode(ModelInfo.self, from: Data(try APIJSON.bytes(info)))
        #expect(again == info)
    }
}
