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
        /// What ``TrainingWorkspace/evaluate`` gave on the same batch: its loss parts, its
        /// reconstruction and whether it took the sparse products.
        var evaluated: LossParts
        var reconstruction: [Float]
        var evaluationWasSparse: Bool
    }

    /// The sparsity coefficient passed to the workspace: not `sparsity.beta`, as under warmup.
    static func warmedBeta(_ options: TrainingOptions) -> Float { 0.37 * options.sparsity.beta }

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
                        gradients: g.baseAddress!, sparsityBeta: warmedBeta(options),
                        deadLatents: nil)
                }
            }
        }
        let active = fired.withUnsafeMutableBufferPointer {
            workspace.countActive(rows: rows, fired: $0.baseAddress!)
        }
        let tookSparseProducts = workspace.tookSparseProducts
        let evaluated = batch.withUnsafeBufferPointer { x in
            parameters.withUnsafeBufferPointer { p in
                workspace.evaluate(
                    x: x.baseAddress!, rows: rows, parameters: p.baseAddress!,
                    selection: config.inferenceSelection, sparsityBeta: warmedBeta(options))
            }
        }
        let reconstruction = Array(UnsafeBufferPointer(start: workspace.output, count: rows * config.inputSize))
        return Outcome(
            parts: parts, gradients: gradients, tookSparseProducts: tookSparseProducts,
            active: active, evaluated: evaluated, reconstruction: reconstruction,
            evaluationWasSparse: workspace.tookSparseProducts)
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

        // The penalty is taken at the coefficient passed, not at sparsity.beta.
        if sparsity.kind == .l1 {
            let l1 = model.encode(batch, rows: Self.rows).reduce(0.0) { $0 + Double($1) }
            let weight = Double(Self.warmedBeta(options)) / (sparsity.reduction == .sum ? 1 : Double(Self.rows))
            #expect(abs(sparse.parts.sparsity - weight * l1) <= 1e-6 * weight * l1)
        }
        let relative = abs(sparse.parts.total - dense.parts.total) / dense.parts.total
        #expect(relative <= 1e-6, "loss \(sparse.parts.total) against \(dense.parts.total)")
        #expect(abs(sparse.parts.sparsity - dense.parts.sparsity) <= 1e-6 * max(dense.parts.sparsity, 1e-3))
        var worst: Float = 0
        for (i, (a, b)) in zip(sparse.gradients, dense.gradients).enumerated() {
            worst = max(worst, abs(a - b))
            #expect(abs(a - b) <= 1e-6 + 1e-5 * abs(b), "gradient \(i): sparse \(a), dense \(b)")
        }
        print("largest gradient difference, sparse against dense products: \(worst)")

        // Evaluation (validation) skips the zeros the same way and gives the same figures.
        let (sparseEvaluation, denseEvaluation) = (sparse.evaluationWasSparse, dense.evaluationWasSparse)
        #expect(sparseEvaluation)
        #expect(!denseEvaluation)
        #expect(abs(sparse.evaluated.total - dense.evaluated.total) <= 1e-6 * dense.evaluated.total)
        #expect(abs(sparse.evaluated.squaredError - dense.evaluated.squaredError) <= 1e-6 * dense.evaluated.squaredError)
        for (i, (a, b)) in zip(sparse.reconstruction, dense.reconstruction).enumerated() {
            #expect(abs(a - b) <= 1e-6 + 1e-5 * abs(b), "reconstruction \(i): sparse \(a), dense \(b)")
        }
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
        // L0 falls from about 23 to about 4.5 over the six epochs, crossing 64 / 6 midway.
        options.sparsity = SparsityOptions(kind: .l1, beta: 0.02, reduction: .mean)
        options.batchSize = 20
        options.epochs = 6
        options.learningRate = 0.003
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
        // The code ends sparse enough for the skipping products (below 64 / 6 per row), and
        // alive: the sparse batches list entries.
        #expect(l0 < 64.0 / 6 && l0 >= 1, "final L0 \(l0)")
        #expect(first.wEnc.map(\.bitPattern) == second.wEnc.map(\.bitPattern))
        #expect(first.wDec.map(\.bitPattern) == second.wDec.map(\.bitPattern))
        #expect(first.bEnc.map(\.bitPattern) == second.bEnc.map(\.bitPattern))
    }
}
