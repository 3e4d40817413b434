import Foundation
import SAECore
import Testing

/// Checks `Autoencoder.lossAndGradients` against central finite differences of a `Double`
/// reference loss (Support/ReferenceLoss.swift).
///
/// Every valid combination of encoder activation, sparsity kind (none, L1 sum and mean, KL,
/// top-k, batch top-k, each k-sparse kind with and without AuxK), reconstruction loss, tied
/// weights and unit-norm decoder rows is checked; subtracting `b_dec` and Ng's weight decay
/// alternate across the cases, and the decoder activation rotates. Each k-sparse case runs
/// twice: with 6 latents (dense products) and with 32 (sparse products). So does each ReLU
/// case with L1 or no penalty: the second time with 32 latents whose biases leave one code
/// entry in ten positive, which the trainer skips the zeros of (sparse products).
///
/// Tolerance: |analytic − numeric| ≤ 2e-5 + 1e-3·|numeric| per parameter. The analytic side
/// runs in `Float`, whose rounding (~1e-7 relative) dominates; the step h = 1e-6 in `Double`
/// keeps truncation error near 1e-12. Random data keeps every ReLU input, selection threshold
/// and KL clamp well away from the kinks the step could cross.
struct AutoencoderGradientTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var activation: Activation
        var decoderActivation: Activation
        var reconstruction: ReconstructionLoss
        var sparsity: SparsityOptions
        var hasTiedWeights = false
        var normalizesDecoderRows = false
        var subtractsDecoderBias = false
        var l2Weights: Float = 0
        var threshold: Float?
        /// 6 latents take the dense products; 32 with k ≤ 3 take the sparse ones.
        var hiddenSize = 6
        /// Whether the encoder biases are lowered so that a ReLU code is sparse enough for the
        /// products that skip its zeros (`Autoencoder.withSparseCode`).
        var hasSparseCode = false

        var config: AutoencoderConfig {
            AutoencoderConfig(
                inputSize: 7, hiddenSize: hiddenSize, activation: activation,
                decoderActivation: decoderActivation, threshold: threshold,
                hasTiedWeights: hasTiedWeights, subtractsDecoderBias: subtractsDecoderBias)
        }

        var options: TrainingOptions {
            var options = TrainingOptions()
            options.reconstruction = reconstruction
            options.sparsity = sparsity
            options.normalizesDecoderRows = normalizesDecoderRows
            options.l2Weights = l2Weights
            return options
        }

        var testDescription: String {
            var text = "\(activation.rawValue)→\(decoderActivation.rawValue) "
                + "\(reconstruction.rawValue) \(sparsity.kind.rawValue)"
            if sparsity.kind == .l1 { text += "/\(sparsity.reduction.rawValue)" }
            if sparsity.auxK > 0 { text += "+auxk" }
            if let threshold { text += " θ=\(threshold)" }
            if hasTiedWeights { text += " tied" }
            if normalizesDecoderRows { text += " unit-norm" }
            if subtractsDecoderBias { text += " −b_dec" }
            if l2Weights > 0 { text += " l2" }
            if hiddenSize != 6 { text += " H=\(hiddenSize)" }
            if hasSparseCode { text += " sparse code" }
            return text
        }
    }

    static let sparsities: [SparsityOptions] = [
        SparsityOptions(kind: .none),
        SparsityOptions(kind: .l1, beta: 0.01, reduction: .sum),
        SparsityOptions(kind: .l1, beta: 0.05, reduction: .mean),
        SparsityOptions(kind: .kl, beta: 0.3, rho: 0.1),
        SparsityOptions(kind: .topk, k: 3),
        SparsityOptions(kind: .batchtopk, k: 2),
        SparsityOptions(kind: .topk, k: 2, auxK: 2, auxCoefficient: 0.5),
        SparsityOptions(kind: .batchtopk, k: 3, auxK: 3, auxCoefficient: 0.25),
    ]

    /// Every valid combination, with the secondary options spread across them.
    static let cases: [Case] = {
        var cases: [Case] = []
        for activation in Activation.allCases {
            for sparsity in sparsities {
                for reconstruction in ReconstructionLoss.allCases {
                    for tied in [false, true] {
                        for unitNorm in [false, true] {
                            let index = cases.count
                            let decoders: [Activation] = [.relu, .identity, .sigmoid]
                            var testCase = Case(
                                activation: activation,
                                decoderActivation: reconstruction == .bce
                                    ? .sigmoid : decoders[index % 3],
                                reconstruction: reconstruction, sparsity: sparsity,
                                hasTiedWeights: tied, normalizesDecoderRows: unitNorm)
                            testCase.subtractsDecoderBias = index % 3 == 1
                            testCase.l2Weights = index % 4 == 2 ? 0.02 : 0
                            guard (try? testCase.options.validate(for: testCase.config)) != nil
                            else { continue }
                            cases.append(testCase)
                            if sparsity.isKSparse {
                                testCase.hiddenSize = 32
                                cases.append(testCase)
                            } else if activation == .relu, sparsity.kind != .kl {
                                testCase.hiddenSize = 32
                                testCase.hasSparseCode = true
                                cases.append(testCase)
                            }
                        }
                    }
                }
            }
        }
        // A model with a learnt threshold, trained with L1: selection by z > θ.
        cases.append(
            Case(
                activation: .relu, decoderActivation: .identity, reconstruction: .mse,
                sparsity: SparsityOptions(kind: .l1, beta: 0.01), threshold: 0.05))
        return cases
    }()

    @Test func everyCombinationIsCovered() {
        #expect(Self.cases.count > 100)
        #expect(Self.cases.contains { $0.hiddenSize == 32 && $0.sparsity.auxK > 0 })
        #expect(Self.cases.contains { $0.hasTiedWeights && $0.normalizesDecoderRows })
        #expect(Self.cases.contains { $0.sparsity.auxK > 0 && $0.subtractsDecoderBias })
        #expect(Self.cases.contains { $0.hasSparseCode && $0.hasTiedWeights && $0.sparsity.kind == .l1 })
        #expect(Self.cases.contains { $0.hasSparseCode && $0.subtractsDecoderBias })
    }

    @Test(arguments: cases)
    func analyticGradientsMatchFiniteDifferences(_ testCase: Case) {
        let rows = 5
        let config = testCase.config
        let options = testCase.options
        var model = Autoencoder.initialized(config: config, seed: 11)
        if testCase.normalizesDecoderRows { model = model.withUnitDecoderRows() }
        var generator = SeededGenerator(seed: 12)
        let batch = (0..<rows * config.inputSize).map { _ in generator.nextUnitFloat() }
        if testCase.hasSparseCode {
            model = model.withSparseCode(for: batch, rows: rows)
            let positive = model.encode(batch, rows: rows).count { $0 > 0 }
            #expect(positive * 6 <= rows * config.hiddenSize, "\(positive) positive entries")
            #expect(positive > 0)
        }
        // Latents 1, 3 and 5 count as dead for AuxK.
        let dead = (0..<config.hiddenSize).map { $0 % 2 == 1 }
        let deadLatents = options.sparsity.auxK > 0 ? dead : nil

        let (parts, gradients) = model.lossAndGradients(
            batch: batch, rows: rows, options: options, deadLatents: deadLatents)
        let analytic =
            gradients.dWEnc + gradients.dBEnc + (config.hasTiedWeights ? [] : gradients.dWDec)
            + gradients.dBDec
        var parameters = (model.wEnc + model.bEnc + (config.hasTiedWeights ? [] : model.wDec)
            + model.bDec).map(Double.init)
        let x = batch.map(Double.init)
        let residual = ReferenceLoss.residual(
            parameters: parameters, x: x, rows: rows, config: config, options: options)
        func loss(_ p: [Double]) -> Double {
            ReferenceLoss.loss(
                parameters: p, x: x, rows: rows, config: config, options: options,
                deadLatents: deadLatents, residual: residual)
        }

        // The Float forward loss agrees with the Double reference.
        let referenceLoss = loss(parameters)
        #expect(abs(parts.total - referenceLoss) <= 1e-6 * max(1, abs(referenceLoss)))
        if options.sparsity.auxK > 0 { #expect(parts.auxiliary > 0) }

        // With 32 latents every third weight (and every bias) keeps the check quick; the
        // stride is coprime to both widths, so each latent's rows are still sampled.
        let weightCount = config.inputSize * config.hiddenSize
        let checked = parameters.indices.filter { i in
            testCase.hiddenSize == 6 || i % 3 == 0 || (weightCount..<weightCount + 32).contains(i)
                || i >= parameters.count - config.inputSize
        }
        let step = 1e-6
        var worst = 0.0
        for i in checked {
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

    @Test func wideBatchSplitAcrossCoresMatchesFiniteDifferences() {
        // 32 rows of 604 reach the size from which the MSE pass cuts its columns in four
        // parts (at 152, 304 and 456), the last with a 4-wide tail after its full chunks;
        // b_dec's gradient is that pass's column sums, so check it around the cuts and ends.
        let rows = 32
        let config = AutoencoderConfig(
            inputSize: 604, hiddenSize: 4, activation: .relu, decoderActivation: .relu)
        var options = TrainingOptions()
        options.reconstruction = .mse
        options.sparsity = SparsityOptions(kind: .l1, beta: 1e-3, reduction: .mean)
        let model = Autoencoder.initialized(config: config, seed: 21)
        var generator = SeededGenerator(seed: 22)
        let batch = (0..<rows * config.inputSize).map { _ in generator.nextUnitFloat() }

        let (parts, gradients) = model.lossAndGradients(batch: batch, rows: rows, options: options)
        var parameters = (model.wEnc + model.bEnc + model.wDec + model.bDec).map(Double.init)
        let x = batch.map(Double.init)
        func loss(_ p: [Double]) -> Double {
            ReferenceLoss.loss(
                parameters: p, x: x, rows: rows, config: config, options: options,
                deadLatents: nil, residual: nil)
        }
        let referenceLoss = loss(parameters)
        #expect(abs(parts.total - referenceLoss) <= 1e-6 * max(1, abs(referenceLoss)))

        let bDecStart = parameters.count - config.inputSize
        let columns = [0, 1, 151, 152, 153, 303, 304, 455, 456, 599, 600, 601, 603]
        let step = 1e-6
        for column in columns {
            let i = bDecStart + column
            let saved = parameters[i]
            parameters[i] = saved + step
            let above = loss(parameters)
            parameters[i] = saved - step
            let below = loss(parameters)
            parameters[i] = saved
            let numeric = (above - below) / (2 * step)
            let analytic = Double(gradients.dBDec[column])
            #expect(
                abs(analytic - numeric) <= 2e-5 + 1e-3 * abs(numeric),
                "b_dec[\(column)]: analytic \(analytic), numeric \(numeric)")
        }
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
    /// A copy whose encoder biases leave each even latent positive for the one row of `batch`
    /// where its pre-activation is largest, and each odd latent positive for none: one code
    /// entry in ten at five rows, with every pre-activation at least 1e-4 from ReLU's kink.
    func withSparseCode(for batch: [Float], rows: Int) -> Autoencoder {
        var linear = self
        linear.config.activation = .identity
        let z = linear.encode(batch, rows: rows)
        var copy = self
        let h = config.hiddenSize
        for j in 0..<h {
            let column = (0..<rows).map { z[$0 * h + j] }.sorted(by: >)
            let cut = j % 2 == 1 ? column[0] + 0.1 : (column[0] + column[1]) / 2
            copy.bEnc[j] -= cut
            let shifted = column.map { $0 - cut }
            precondition(shifted.allSatisfy { abs($0) >= 1e-4 }, "latent \(j) sits on the kink")
        }
        return copy
    }

    /// A copy whose encoder keeps `topK` latents.
    func with(topK: Int?) -> Autoencoder {
        var copy = self
        copy.config.topK = topK
        return copy
    }

    /// A copy whose decoder rows have unit norm (with tied weights, the encoder's columns too).
    func withUnitDecoderRows() -> Autoencoder {
        var copy = self
        let (d, h) = (config.inputSize, config.hiddenSize)
        for j in 0..<h {
            let norm = (0..<d).reduce(0.0) { $0 + Double(wDec[j * d + $1] * wDec[j * d + $1]) }
                .squareRoot()
            for i in 0..<d { copy.wDec[j * d + i] = Float(Double(wDec[j * d + i]) / norm) }
        }
        if config.hasTiedWeights {
            for i in 0..<d {
                for j in 0..<h { copy.wEnc[i * h + j] = copy.wDec[j * d + i] }
            }
        }
        return copy
    }
}
