import Foundation
import SAECore

/// A golden case written by scripts/reference_sae.py (NumPy, float64).
struct Fixture: Decodable {
    struct Parameters: Decodable {
        var wEnc: [Double]
        var bEnc: [Double]
        var wDec: [Double]
        var bDec: [Double]

        var flat: [Double] { wEnc + bEnc + wDec + bDec }
    }

    struct Gradients: Decodable {
        var dWEnc: [Double]
        var dBEnc: [Double]
        var dWDec: [Double]
        var dBDec: [Double]

        var flat: [Double] { dWEnc + dBEnc + dWDec + dBDec }
    }

    struct Loss: Decodable {
        var reconstruction: Double
        var sparsity: Double
        var auxiliary: Double
        var weightPenalty: Double

        var total: Double { reconstruction + sparsity + auxiliary + weightPenalty }
    }

    struct Step: Decodable {
        /// The loss at the parameters before the step.
        var loss: Loss
        /// The parameters after the step.
        var parameters: Parameters
        /// Batch top-k's threshold after the step.
        var threshold: Double?
    }

    var name: String
    var config: AutoencoderConfig
    var options: TrainingOptions
    var rows: Int
    /// The raw batch; the trainer normalises it as `options.normalization` says.
    var batch: [Float]
    /// The latents AuxK may use in the `loss` and `gradients` check.
    var deadLatents: [Bool]?
    var initial: Parameters
    var loss: Loss
    var gradients: Gradients
    var steps: [Step]

    /// The fixture's starting model, with the exact float32 weights NumPy started from.
    var model: Autoencoder {
        Autoencoder(
            config: config, wEnc: initial.wEnc.map(Float.init), bEnc: initial.bEnc.map(Float.init),
            wDec: initial.wDec.map(Float.init), bDec: initial.bDec.map(Float.init))
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static let names = [
        "l1_mse_relu", "kl_mse_sigmoid", "topk_mse_identity_decoder", "bce_l1_mean",
        "sgd_nesterov_identity_code", "batchtopk_auxk_tied_centred",
        "topk_auxk_unit_norm_clip_cosine", "l1_l2weights_mean_bias_linear_warmup",
        "kl_tied_unit_norm_median_sgd", "standardize_l1_identity",
    ]

    /// The batch as a dataset, and normalised as the trainer will see it.
    var dataset: Dataset {
        Dataset(rows: rows, width: config.inputSize, storage: .floats(batch))
    }

    var normalizedBatch: [Float] {
        var values = batch
        Normalization.fitted(options.normalization, to: dataset).apply(to: &values)
        return values
    }

    static func load(_ name: String) throws -> Fixture {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).json"))
        return try JSONDecoder().decode(Fixture.self, from: data)
    }
}
