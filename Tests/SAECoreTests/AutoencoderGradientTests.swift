import Foundation
import SAECore
import Testing

/// Checks `Autoencoder.lossAndGradients` against central finite differences of a `Double`
/// reference loss (Support/ReferenceLoss.swift).
///
/// Tolerance: |analytic − numeric| ≤ 2e-5 + 1e-3·|numeric| per parameter. The analytic side
/// runs in `Float`, whose rounding (~1e-7 relative) dominates; the step h = 1e-6 in `Double`
/// keeps truncation error near 1e-12. Random data keeps every ReLU input, top-k threshold and
/// KL clamp well away from the kinks the step could cross.
struct AutoencoderGradientTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var activation: Activation
        var decoderActivation: Activation
        var reconstruction: ReconstructionLoss
        var sparsity: SparsityOptions

        var testDescription: String {
            "\(activation.rawValue)→\(decoderActivation.rawValue), \(reconstruction.rawValue), "
                + "\(sparsity.kind.rawValue)/\(sparsity.reduction.rawValue)"
        }
    }

    static let cases: [Case] = [
        Case(
            activation: .relu, decoderActivation: .relu, reconstruction: .mse,
            sparsity: SparsityOptions(kind: .l1, beta: 0.01, reduction: .sum)),
        Case(
            activation: .relu, decoderActivation: .sigmoid, reconstruction: .mse,
            sparsity: SparsityOptions(kind: .l1, beta: 0.05, reduction: .mean)),
        Case(
            activation: .relu, decoderActivation: .identity, reconstruction: .mse,
            sparsity: SparsityOptions(kind: .none)),
        Case(
            activation: .identity, decoderActivation: .identity, reconstruction: .mse,
            sparsity: SparsityOptions(kind: .l1, beta: 0.02, reduction: .sum)),
        Case(
            activation: .sigmoid, decoderActivation: .sigmoid, reconstruction: .mse,
            sparsity: SparsityOptions(kind: .kl, beta: 0.3, rho: 0.1)),
        Case(
            activation: .sigmoid, decoderActivation: .sigmoid, reconstruction: .bce,
            sparsity: SparsityOptions(kind: .kl, beta: 0.3, rho: 0.2)),
        Case(
            activation: .relu, decoderActivation: .sigmoid, reconstruction: .bce,
            sparsity: SparsityOptions(kind: .l1, beta: 0.01, reduction: .sum)),
        Case(
            activation: .relu, decoderActivation: .identity, reconstruction: .mse,
            sparsity: SparsityOptions(kind: .topk, k: 3)),
        Case(
            activation: .identity, decoderActivation: .relu, reconstruction: .mse,
            sparsity: SparsityOptions(kind: .topk, k: 2)),
    ]

    @Test(arguments: cases)
    func analyticGradientsMatchFiniteDifferences(_ testCase: Case) {
        let (rows, inputSize, hiddenSize) = (5, 7, 6)
        let config = AutoencoderConfig(
            inputSize: inputSize, hiddenSize: hiddenSize, activation: testCase.activation,
            decoderActivation: testCase.decoderActivation)
        let model = Autoencoder.initialized(config: config, seed: 11)
        var generator = SeededGenerator(seed: 12)
        let batch = (0..<rows * inputSize).map { _ in generator.nextUnitFloat() }
        var options = TrainingOptions()
        options.reconstruction = testCase.reconstruction
        options.sparsity = testCase.sparsity

        let (parts, gradients) = model.lossAndGradients(batch: batch, rows: rows, options: options)
        let analytic = gradients.dWEnc + gradients.dBEnc + gradients.dWDec + gradients.dBDec
        var parameters = (model.wEnc + model.bEnc + model.wDec + model.bDec).map(Double.init)
        let x = batch.map(Double.init)
        func loss(_ p: [Double]) -> Double {
            ReferenceLoss.loss(parameters: p, x: x, rows: rows, config: config, options: options)
        }

        // The Float forward loss agrees with the Double reference.
        let referenceLoss = loss(parameters)
        #expect(abs(parts.total - referenceLoss) <= 1e-6 * max(1, abs(referenceLoss)))

        let step = 1e-6
        var worst = 0.0
        for i in parameters.indices {
            let saved = parameters[i]
            parameters[i] = saved + step
            let above = loss(parameters)
            parameters[i] = saved - step
            let below = loss(parameters)
            parameters[i] = saved
            let numeric = (above - below) / (2 * step)
            let difference = abs(Double(analytic[i]) - numeric)
            worst = max(worst, difference)
            #expect(
                difference <= 2e-5 + 1e-3 * abs(numeric),
                "parameter \(i): analytic \(analytic[i]), numeric \(numeric)")
        }
        print("\(testCase.testDescription): largest gradient difference \(worst)")
    }

    @Test func gradientsAreZeroForLatentsTopKDropped() {
        // With the identity activation only the top-k mask can zero a latent's gradient.
        let config = AutoencoderConfig(
            inputSize: 4, hiddenSize: 5, activation: .identity, decoderActivation: .identity)
        let model = Autoencoder.initialized(config: config, seed: 3)
        var options = TrainingOptions()
        options.sparsity = SparsityOptions(kind: .topk, k: 1)
        let batch: [Float] = [0.2, 0.9, 0.4, 0.1]

        let (_, gradients) = model.lossAndGradients(batch: batch, rows: 1, options: options)
        let code = model.with(topK: 1).encode(batch, rows: 1)
        for j in 0..<5 where code[j] == 0 {
            #expect(gradients.dBEnc[j] == 0)
            #expect((0..<4).allSatisfy { gradients.dWEnc[$0 * 5 + j] == 0 })
        }
        #expect(gradients.dBEnc.filter { $0 != 0 }.count == 1)
    }
}

extension Autoencoder {
    /// A copy whose encoder keeps `topK` latents.
    func with(topK: Int?) -> Autoencoder {
        var copy = self
        copy.config.topK = topK
        return copy
    }
}
