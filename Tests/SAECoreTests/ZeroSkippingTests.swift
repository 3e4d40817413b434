import Testing

@testable import SAECore

/// A ReLU code trained with L1 or no penalty has its zeros skipped, batch by batch, when few
/// enough entries are positive (TrainingWorkspace). The sparse products must give the dense
/// products' loss and gradients up to float rounding, be taken only for a sparse enough code,
/// and never for a code whose zeros carry a gradient.
struct ZeroSkippingTests {
    struct Outcome {
        var parts: LossParts
        var gradients: [Float]
        var tookSparseProducts: Bool
        var active: Int
    }

    static let rows = 12

    static func config(tied: Bool = false, subtractsDecoderBias: Bool = false) -> AutoencoderConfig {
        AutoencoderConfig(
            inputSize: 20, hiddenSize: 64, activation: .relu, decoderActivation: .identity,
            hasTiedWeights: tied, subtractsDecoderBias: subtractsDecoderBias)
    }

    static func batch(_ config: AutoencoderConfig) -> [Float] {
        var generator = SeededGenerator(seed: 5)
        return (0..<rows * config.inputSize).map { _ in generator.nextUnitFloat() }
    }

    /// One pass of `model` over `batch` in a fresh workspace.
    static func pass(
        _ model: Autoencoder, batch: [Float], options: TrainingOptions, usesSparseProducts: Bool
    ) -> Outcome {
        let config = model.config
        let workspace = TrainingWorkspace(
            config: config, objective: Objective(config: config, options: options),
            capacity: rows, usesSparseProducts: usesSparseProducts)
        let parameters = model.flatParameters()
        var gradients = [Float](repeating: .nan, count: parameters.count)
        var fired = [Bool](repeating: false, count: config.hiddenSize)
        let parts = batch.withUnsafeBufferPointer { x in
            parameters.withUnsafeBufferPointer { p in
                gradients.withUnsafeMutableBufferPointer { g in
                    workspace.lossAndGradients(
                        x: x.baseAddress!, rows: rows, parameters: p.baseAddress!,
                        gradients: g.baseAddress!, sparsityBeta: options.sparsity.beta,
                        deadLatents: nil)
                }
            }
        }
        let active = fired.withUnsafeMutableBufferPointer {
            workspace.countActive(rows: rows, fired: $0.baseAddress!)
        }
        return Outcome(
            parts: parts, gradients: gradients, tookSparseProducts: workspace.tookSparseProducts,
            active: active)
    }

    static let sparsities: [SparsityOptions] = [
        SparsityOptions(kind: .none),
        SparsityOptions(kind: .l1, beta: 0.02, reduction: .sum),
        SparsityOptions(kind: .l1, beta: 0.3, reduction: .mean),
    ]

    @Test(arguments: sparsities, [(false, false), (true, false), (false, true)])
    func sparseProductsGiveTheDenseGradients(
        sparsity: SparsityOptions, variant: (tied: Bool, subtractsDecoderBias: Bool)
    ) {
        let config = Self.config(tied: variant.tied, subtractsDecoderBias: variant.subtractsDecoderBias)
        let batch = Self.batch(config)
        let model = Autoencoder.initialized(config: config, seed: 9)
            .withSparseCode(for: Self.batch(config), rows: Self.rows)
        var options = TrainingOptions()
        options.sparsity = sparsity
        options.l2Weights = 0.01

        let sparse = Self.pass(model, batch: batch, options: options, usesSparseProducts: true)
        let dense = Self.pass(model, batch: batch, options: options, usesSparseProducts: false)
        let (sparseTook, denseTook) = (sparse.tookSparseProducts, dense.tookSparseProducts)
        #expect(sparseTook)
        #expect(!denseTook)
        // Even latents fire for one row each, odd ones never: 32 of 12 × 64 entries.
        let (sparseActive, denseActive) = (sparse.active, dense.active)
        #expect(sparseActive == 32)
        #expect(denseActive == 32)

        let relative = abs(sparse.parts.total - dense.parts.total) / dense.parts.total
        #expect(relative <= 1e-6, "loss \(sparse.parts.total) against \(dense.parts.total)")
        #expect(abs(sparse.parts.sparsity - dense.parts.sparsity) <= 1e-6 * max(dense.parts.sparsity, 1e-3))
        var worst: Float = 0
        for (i, (a, b)) in zip(sparse.gradients, dense.gradients).enumerated() {
            worst = max(worst, abs(a - b))
            #expect(abs(a - b) <= 1e-6 + 1e-5 * abs(b), "gradient \(i): sparse \(a), dense \(b)")
        }
        print("largest gradient difference, sparse against dense products: \(worst)")
        // Latents that never fire get no encoder gradient either way.
        let h = config.hiddenSize
        for j in stride(from: 1, to: h, by: 2) {
            #expect(sparse.gradients[h * config.inputSize + j] == 0)
        }
    }

    @Test func aDenseCodeKeepsTheDenseProducts() {
        // At initialisation about half the ReLU entries are positive, above the 1/6 limit.
        let config = Self.config()
        let model = Autoencoder.initialized(config: config, seed: 9)
        var options = TrainingOptions()
        options.sparsity = SparsityOptions(kind: .l1, beta: 0.02)
        let outcome = Self.pass(model, batch: Self.batch(config), options: options, usesSparseProducts: true)
        let (took, active) = (outcome.tookSparseProducts, outcome.active)
        #expect(!took)
        #expect(active * TrainingWorkspace.sparseDivisor > Self.rows * config.hiddenSize)
    }

    @Test func codesWhoseZerosCarryAGradientAreNeverSkipped() {
        func skips(_ activation: Activation, _ sparsity: SparsityOptions, threshold: Float? = nil) -> Bool {
            var config = Self.config()
            config.activation = activation
            config.threshold = threshold
            var options = TrainingOptions()
            options.sparsity = sparsity
            if activation == .sigmoid { options.sparsity.rho = 0.05 }
            return TrainingWorkspace(
                config: config, objective: Objective(config: config, options: options), capacity: 4
            ).skipsZeroCode
        }
        #expect(skips(.relu, SparsityOptions(kind: .l1, beta: 0.1)))
        #expect(skips(.relu, SparsityOptions(kind: .none)))
        // KL's gradient reaches every entry through the latent's mean; identity and sigmoid
        // have a slope at zero; a threshold selection carries a mask.
        #expect(!skips(.relu, SparsityOptions(kind: .kl, beta: 0.1, rho: 0.05)))
        #expect(!skips(.identity, SparsityOptions(kind: .l1, beta: 0.1)))
        #expect(!skips(.sigmoid, SparsityOptions(kind: .l1, beta: 0.1)))
        #expect(!skips(.relu, SparsityOptions(kind: .l1, beta: 0.1), threshold: 0.05))
        // Top-k skips its dropped latents by its own path, not this one.
        #expect(!skips(.relu, SparsityOptions(kind: .topk, k: 4)))
    }

    @Test func trainingASparseReLUCodeRepeatsBitForBit() throws {
        // Two trainers on the same data and seed, whose batches cross from dense to sparse
        // products as the L1 penalty works, give the same weights bit for bit.
        let config = AutoencoderConfig(
            inputSize: 20, hiddenSize: 64, activation: .relu, decoderActivation: .identity)
        var generator = SeededGenerator(seed: 31)
        let values = (0..<200 * 20).map { _ in generator.nextUnitFloat() }
        let data = Dataset(rows: 200, width: 20, storage: .floats(values))
        var options = TrainingOptions()
        options.sparsity = SparsityOptions(kind: .l1, beta: 0.05, reduction: .sum)
        options.batchSize = 20
        options.epochs = 6
        options.learningRate = 0.01
        func train() throws -> (Autoencoder, Double) {
            let trainer = try Trainer(
                model: Autoencoder.initialized(config: config, seed: 4), options: options,
                training: data, validation: nil)
            var last: EpochRecord?
            for _ in 0..<options.epochs { last = try trainer.trainEpoch() }
            return (trainer.model, try #require(last).l0)
        }
        let (first, l0) = try train()
        let (second, _) = try train()
        // The code ends sparse enough for the skipping products (below 64 / 6 per row).
        #expect(l0 < 64.0 / 6, "final L0 \(l0)")
        #expect(first.wEnc.map(\.bitPattern) == second.wEnc.map(\.bitPattern))
        #expect(first.wDec.map(\.bitPattern) == second.wDec.map(\.bitPattern))
        #expect(first.bEnc.map(\.bitPattern) == second.bEnc.map(\.bitPattern))
    }
}
