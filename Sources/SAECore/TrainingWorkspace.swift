// One forward and backward pass of the autoencoder over preallocated buffers.
//
// Legend: B = rows in the batch (at most `capacity`), D = inputSize, H = hiddenSize.
// Parameters and gradients are one flat vector each, laid out by `ParameterLayout`:
// W_enc (D × H), b_enc (H), W_dec (H × D), b_dec (D), all row-major.

/// Where each tensor sits inside a flat parameter (or gradient, or optimiser-moment) vector.
struct ParameterLayout: Sendable, Equatable {
    let inputSize: Int
    let hiddenSize: Int

    init(_ config: AutoencoderConfig) {
        inputSize = config.inputSize
        hiddenSize = config.hiddenSize
    }

    var wEnc: Range<Int> { 0..<inputSize * hiddenSize }
    var bEnc: Range<Int> { wEnc.upperBound..<wEnc.upperBound + hiddenSize }
    var wDec: Range<Int> { bEnc.upperBound..<bEnc.upperBound + hiddenSize * inputSize }
    var bDec: Range<Int> { wDec.upperBound..<wDec.upperBound + inputSize }
    var count: Int { bDec.upperBound }
}

/// What the loss is made of, resolved from the model and the training options.
struct Objective: Sendable {
    var reconstruction: ReconstructionLoss
    var sparsity: SparsityOptions
    /// Latents kept per sample, or nil for a dense code.
    var topK: Int?

    /// Top-k sparsity selects `sparsity.k` latents; otherwise the model's own `topK` applies.
    init(config: AutoencoderConfig, options: TrainingOptions) {
        reconstruction = options.reconstruction
        sparsity = options.sparsity
        topK = options.sparsity.kind == .topk ? options.sparsity.k : config.topK
    }
}

/// Buffers for one batch of up to `capacity` rows, and the pass that fills them.
///
/// Allocated once; ``lossAndGradients(x:rows:parameters:gradients:)`` and
/// ``forward(x:rows:parameters:)`` allocate nothing. After either call, ``code`` holds the
/// batch's code `h` (`B × H`) and, after ``forward(x:rows:parameters:)``, ``output`` holds the
/// reconstruction (`B × D`). Not thread-safe: one owner uses it at a time.
final class TrainingWorkspace {
    let config: AutoencoderConfig
    let objective: Objective
    let capacity: Int
    private let layout: ParameterLayout

    /// `h`, B × H.
    let code: UnsafeMutablePointer<Float>
    /// Decoder logits, then the reconstruction (MSE, ``forward``), B × D.
    let output: UnsafeMutablePointer<Float>
    /// ∂loss/∂logits, B × D.
    private let dOutput: UnsafeMutablePointer<Float>
    /// ∂loss/∂h, then ∂loss/∂(encoder pre-activation), B × H.
    private let dCode: UnsafeMutablePointer<Float>
    /// 1 for latents kept by top-k, else 0, B × H (only used with top-k).
    private let mask: UnsafeMutablePointer<Float>
    /// H floats for top-k selection and KL column statistics.
    private let scratch: UnsafeMutablePointer<Float>

    init(config: AutoencoderConfig, objective: Objective, capacity: Int) {
        precondition(capacity > 0, "a workspace needs room for at least one row")
        self.config = config
        self.objective = objective
        self.capacity = capacity
        self.layout = ParameterLayout(config)
        let codeCount = capacity * config.hiddenSize
        let outputCount = capacity * config.inputSize
        code = .allocate(capacity: codeCount)
        output = .allocate(capacity: outputCount)
        dOutput = .allocate(capacity: outputCount)
        dCode = .allocate(capacity: codeCount)
        mask = .allocate(capacity: objective.topK == nil ? 1 : codeCount)
        scratch = .allocate(capacity: config.hiddenSize)
        // Zero everything once so no buffer is ever read uninitialised.
        for (buffer, count) in [(code, codeCount), (output, outputCount), (dOutput, outputCount)] {
            buffer.initialize(repeating: 0, count: count)
        }
        dCode.initialize(repeating: 0, count: codeCount)
        mask.initialize(repeating: 0, count: objective.topK == nil ? 1 : codeCount)
        scratch.initialize(repeating: 0, count: config.hiddenSize)
    }

    deinit {
        for buffer in [code, output, dOutput, dCode, mask, scratch] {
            buffer.deallocate()
        }
    }

    /// Computes the loss of `rows` samples at `x` and writes its gradient into `gradients`.
    ///
    /// `x` is `B × D`; `parameters` and `gradients` are flat vectors in `ParameterLayout` order.
    /// Gradients are overwritten, not accumulated, and exclude weight decay (the optimiser
    /// adds it). Non-finite inputs give a non-finite loss; nothing here checks.
    func lossAndGradients(
        x: UnsafePointer<Float>,
        rows: Int,
        parameters: UnsafePointer<Float>,
        gradients: UnsafeMutablePointer<Float>
    ) -> LossParts {
        precondition(rows > 0 && rows <= capacity, "batch of \(rows) rows, capacity \(capacity)")
        let d = config.inputSize
        let hidden = config.hiddenSize
        let wDec = parameters + layout.wDec.lowerBound

        // Forward: h = act(topK(x·W_enc + b_enc)); logits = h·W_dec + b_dec.
        encode(x: x, rows: rows, parameters: parameters, mask: objective.topK == nil ? nil : mask)
        Autoencoder.decodeLogitsKernel(
            code: code, rows: rows, config: config, wDec: wDec,
            bDec: parameters + layout.bDec.lowerBound, logits: output)

        // Loss, and ∂loss/∂logits.
        let reconstruction = objective.reconstruction.lossAndGradient(
            logits: output, target: x, count: rows * d,
            decoderActivation: config.decoderActivation, gradient: dOutput)

        // Decoder: dW_dec = hᵀ·dOutput, db_dec = Σ_rows dOutput, dh = dOutput·W_decᵀ.
        BLAS.gemm(
            transposeA: true, transposeB: false, m: hidden, n: d, k: rows,
            a: code, b: dOutput, c: gradients + layout.wDec.lowerBound)
        sumRows(dOutput, rows: rows, width: d, into: gradients + layout.bDec.lowerBound)
        BLAS.gemm(
            transposeA: false, transposeB: true, m: rows, n: hidden, k: d,
            a: dOutput, b: wDec, c: dCode)

        // Sparsity adds to ∂loss/∂h; then back through the activation and the top-k selection.
        let sparsity = objective.sparsity.penaltyAndGradient(
            code: code, rows: rows, hiddenSize: hidden, gradient: dCode, columnScratch: scratch)
        config.activation.backpropagate(dCode, output: code, count: rows * hidden)
        if objective.topK != nil {
            for i in 0..<rows * hidden {
                dCode[i] *= mask[i]
            }
        }

        // Encoder: dW_enc = xᵀ·dz, db_enc = Σ_rows dz.
        BLAS.gemm(
            transposeA: true, transposeB: false, m: d, n: hidden, k: rows,
            a: x, b: dCode, c: gradients + layout.wEnc.lowerBound)
        sumRows(dCode, rows: rows, width: hidden, into: gradients + layout.bEnc.lowerBound)

        return LossParts(reconstruction: reconstruction, sparsity: sparsity)
    }

    /// Encodes and decodes `rows` samples, leaving `h` in ``code`` and `x'` in ``output``.
    func forward(x: UnsafePointer<Float>, rows: Int, parameters: UnsafePointer<Float>) {
        precondition(rows > 0 && rows <= capacity, "batch of \(rows) rows, capacity \(capacity)")
        encode(x: x, rows: rows, parameters: parameters, mask: nil)
        Autoencoder.decodeLogitsKernel(
            code: code, rows: rows, config: config,
            wDec: parameters + layout.wDec.lowerBound,
            bDec: parameters + layout.bDec.lowerBound, logits: output)
        config.decoderActivation.apply(output, count: rows * config.inputSize)
    }

    private func encode(
        x: UnsafePointer<Float>,
        rows: Int,
        parameters: UnsafePointer<Float>,
        mask: UnsafeMutablePointer<Float>?
    ) {
        Autoencoder.encodeKernel(
            x: x, rows: rows, config: config, topK: objective.topK,
            wEnc: parameters + layout.wEnc.lowerBound,
            bEnc: parameters + layout.bEnc.lowerBound,
            code: code, mask: mask, scratch: scratch)
    }

    /// Writes the column sums of a `rows × width` matrix into `sums` (`width` floats).
    private func sumRows(
        _ matrix: UnsafePointer<Float>,
        rows: Int,
        width: Int,
        into sums: UnsafeMutablePointer<Float>
    ) {
        sums.update(from: matrix, count: width)
        for row in 1..<rows {
            let values = matrix + row * width
            for j in 0..<width {
                sums[j] += values[j]
            }
        }
    }
}
