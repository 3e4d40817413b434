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

        var total: Double { reconstruction + sparsity }
    }

    struct Step: Decodable {
        /// The loss at the parameters before the step.
        var loss: Loss
        /// The parameters after the step.
        var parameters: Parameters
    }

    var name: String
    var config: AutoencoderConfig
    var options: TrainingOptions
    var rows: Int
    var batch: [Float]
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
        "sgd_nesterov_identity_code",
    ]

    static func load(_ name: String) throws -> Fixture {
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name).json"))
        return try JSONDecoder().decode(Fixture.self, from: data)
    }
}
