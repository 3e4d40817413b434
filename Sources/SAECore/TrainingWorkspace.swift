// One forward and backward pass of the autoencoder over preallocated buffers.
//
// Legend: B = rows in the batch (at most `capacity`), D = inputSize, H = hiddenSize.
// Parameters and gradients are one flat vector each, laid out by `ParameterLayout`
// (W_encᵀ H × D, b_enc H, W_dec H × D unless tied, b_dec D, all row-major).
//
// With a k-sparse code (top-k, batch top-k) and few enough kept latents, the products that
// involve the code skip its zeros (SparseProducts.swift): the decoder forward adds only the
// kept latents' rows of W_dec, dW_dec and dW_encᵀ are summed latent by latent over the rows
// that kept each latent, and ∂loss/∂h is computed only where a latent was kept. Only the
// encoder's forward product stays dense.
//
// A ReLU code trained with L1 or no penalty is skipped the same way, batch by batch, when few
// enough of its entries are positive: where h = 0 the ReLU's slope is 0 and L1's gradient
// sign(0)·w is 0, so nothing flows through a zero, exactly as with a dropped latent. Such a
// code is dense at initialisation (about half its entries positive) and turns sparse as the
// penalty works; each batch takes the dense or the sparse products by its own count of
// positive entries, so the choice depends on the data alone and repeats exactly.

/// What the loss is made of, resolved from the model and the training options.
struct Objective: Sendable {
    var reconstruction: ReconstructionLoss
    var sparsity: SparsityOptions
    /// How the training pass selects the code's surviving latents.
    var selection: CodeSelection
    /// Ng's weight decay λ (0 for none).
    var l2Weights: Float
    /// Whether the gradient along each row of W_dec is removed.
    var normalizesDecoderRows: Bool

    /// Top-k and batch top-k select `sparsity.k` latents; otherwise the model's own
    /// inference selection applies.
    init(config: AutoencoderConfig, options: TrainingOptions) {
        reconstruction = options.reconstruction
        sparsity = options.sparsity
        switch options.sparsity.kind {
        case .topk: selection = .topK(options.sparsity.k)
        case .batchtopk: selection = .batchTopK(options.sparsity.k)
        case .none, .l1, .kl: selection = config.inferenceSelection
        }
        l2Weights = options.l2Weights
        normalizesDecoderRows = options.normalizesDecoderRows
    }
}

/// Buffers for one batch of up to `capacity` rows, and the passes that fill them.
///
/// Allocated once; ``lossAndGradients(x:rows:parameters:gradients:sparsityBeta:deadLatents:)``
/// and ``evaluate(x:rows:parameters:selection:sparsityBeta:)`` allocate nothing. After either,
/// ``code`` holds the batch's code `h` (`B × H`); after ``evaluate``, ``output`` holds the
/// reconstruction for MSE (the logits for BCE). Not thread-safe: one owner uses it at a time.
final class TrainingWorkspace {
    let config: AutoencoderConfig
    let objective: Objective
    let capacity: Int
    let layout: ParameterLayout

    /// `h`, B × H.
    let code: UnsafeMutablePointer<Float>
    /// Decoder logits, then the reconstruction (MSE), B × D.
    let output: UnsafeMutablePointer<Float>
    /// ∂loss/∂logits, B × D.
    let dOutput: UnsafeMutablePointer<Float>
    /// ∂loss/∂h, then ∂loss/∂(encoder pre-activation), B × H (dense products only).
    let dCode: UnsafeMutablePointer<Float>
    /// 1 for latents the selection kept, else 0, B × H (selective training only).
    let mask: UnsafeMutablePointer<Float>
    /// Selection and KL working space: B × H with a selective code, else H.
    let scratch: UnsafeMutablePointer<Float>
    private let scratchCount: Int
    /// `x − b_dec`, B × D (only when the model subtracts the decoder bias).
    let centered: UnsafeMutablePointer<Float>?
    /// Pre-activations before selection, B × H (only with AuxK).
    let preActivation: UnsafeMutablePointer<Float>?
    /// The kept (training) or non-zero (evaluation) entries of the code, up to B × H, row by
    /// row as the selection finds them.
    let kept: SparseRows
    /// The same entries grouped by latent, for the sparse products.
    let keptByLatent: SparseColumns
    /// ∂loss/∂(pre-activation) at each kept entry, in `keptByLatent`'s order.
    let keptGradients: UnsafeMutablePointer<Float>
    /// AuxK's buffers, when it is on.
    let auxiliary: AuxiliaryBuffers?
    /// The smallest positive activation the last training batch kept, or nil when none was
    /// positive (batch top-k's threshold statistic; nil for other selections).
    private(set) var smallestKeptActivation: Float?
    /// Whether ``kept`` lists every non-zero entry of the last training batch's code.
    private(set) var isKeptIndexCurrent = false
    /// Each latent's largest code value over the last batch, from the code-gradient pass
    /// (H floats; dense products only).
    private let columnLargest: UnsafeMutablePointer<Float>
    /// The non-zero code entries the code-gradient pass counted, and over how many rows, when
    /// it ran on the last training batch's code; nil otherwise.
    private var passActiveCount: (rows: Int, count: Int)?

    /// Whether a ReLU code's zeros may be skipped like dropped latents (see the file's
    /// comment): ReLU, no selection, and an L1 penalty or none.
    let skipsZeroCode: Bool
    /// Whether the last ``lossAndGradients`` or ``evaluate`` call took the sparse products.
    private(set) var tookSparseProducts = false

    /// The most kept entries, as a fraction `1/sparseDivisor` of B × H, for which the sparse
    /// products beat OpenBLAS's dense ones (measured at 784 → 1024, batch 256, two cores).
    static let sparseDivisor = 6
    /// ``sparseDivisor``, or 0 to keep every product dense (tests compare the two).
    let sparseLimitDivisor: Int
    /// The bytes of the buffers allocated here, within a few hundred bytes: what a job's memory
    /// estimate must cover for its batch.
    let allocatedBytes: Int

    /// Buffers for batches of up to `capacity` rows; `usesSparseProducts` false keeps every
    /// product dense, whatever the code.
    init(config: AutoencoderConfig, objective: Objective, capacity: Int, usesSparseProducts: Bool = true) {
        precondition(capacity > 0, "a workspace needs room for at least one row")
        self.config = config
        self.objective = objective
        self.capacity = capacity
        self.layout = ParameterLayout(config)
        let (d, h) = (config.inputSize, config.hiddenSize)
        let codeCount = capacity * h
        let outputCount = capacity * d
        skipsZeroCode =
            config.activation == .relu && !objective.selection.isSelective
            && (objective.sparsity.kind == .l1 || objective.sparsity.kind == .none)
        sparseLimitDivisor = usesSparseProducts ? Self.sparseDivisor : 0
        let isSelective = objective.selection.isSelective
            || config.inferenceSelection.isSelective
        // Room to list every entry of the code, for the passes that may skip its zeros: 20
        // bytes per entry, so only where training or evaluation can use it.
        let listsCode = isSelective || skipsZeroCode

        code = .zeroed(codeCount)
        output = .zeroed(outputCount)
        dOutput = .zeroed(outputCount)
        dCode = .zeroed(codeCount)
        mask = .zeroed(objective.selection.isSelective ? codeCount : 1)
        scratchCount = isSelective ? max(codeCount, h) : h
        scratch = .zeroed(scratchCount)
        centered = config.subtractsDecoderBias ? .zeroed(outputCount) : nil
        let hasAuxiliary = objective.sparsity.hasAuxiliaryLoss
        preActivation = hasAuxiliary ? .zeroed(codeCount) : nil
        kept = SparseRows.allocate(rows: capacity, capacity: listsCode ? codeCount : 0)
        keptByLatent = SparseColumns.allocate(hiddenSize: h, capacity: listsCode ? codeCount : 0)
        keptGradients = .zeroed(listsCode ? codeCount : 1)
        columnLargest = .zeroed(h)
        auxiliary =
            hasAuxiliary
            ? AuxiliaryBuffers(capacity: capacity, config: config, auxK: objective.sparsity.auxK)
            : nil
        let listed = listsCode ? codeCount : 0
        let floats =
            2 * codeCount + 2 * outputCount + (objective.selection.isSelective ? codeCount : 1)
            + scratchCount + (config.subtractsDecoderBias ? outputCount : 0)
            + (hasAuxiliary ? codeCount : 0) + max(listed, 1) + h
        // Listings: an Int offset per row or latent, and an Int32 index and a Float per entry.
        let listings = 8 * (capacity + 1) + 8 * listed + 8 * (2 * h + 1) + 8 * listed
        let auxiliaryBytes =
            hasAuxiliary
            ? 20 * capacity * objective.sparsity.auxK + 8 * (capacity + 2 * h + 1)
                + 4 * outputCount + 16 * h
            : 0
        allocatedBytes = 4 * floats + listings + auxiliaryBytes
    }

    deinit {
        let buffers = [code, output, dOutput, dCode, mask, scratch, keptGradients, columnLargest]
        for buffer in buffers {
            buffer.deallocate()
        }
        centered?.deallocate()
        preActivation?.deallocate()
        kept.deallocate()
        keptByLatent.deallocate()
        auxiliary?.deallocate()
    }

    /// Computes the loss of `rows` samples at `x` and writes its gradient into `gradients`.
    ///
    /// `x` is `B × D`; `parameters` and `gradients` are flat vectors in ``ParameterLayout``
    /// order. Gradients are overwritten, not accumulated; they include Ng's weight decay and,
    /// with `normalizesDecoderRows`, have each W_dec row's component removed, but exclude the
    /// optimiser's `weightDecay`. `sparsityBeta` replaces `sparsity.beta`; `deadLatents` (H
    /// flags) picks the latents AuxK may use, or nil for none. Non-finite inputs give a
    /// non-finite loss; nothing here checks.
    func lossAndGradients(
        x: UnsafePointer<Float>,
        rows: Int,
        parameters: UnsafePointer<Float>,
        gradients: UnsafeMutablePointer<Float>,
        sparsityBeta: Float,
        deadLatents: UnsafePointer<Bool>?
    ) -> LossParts {
        precondition(rows > 0 && rows <= capacity, "batch of \(rows) rows, capacity \(capacity)")
        let (d, hidden) = (config.inputSize, config.hiddenSize)
        let p = ParameterPointers(parameters, layout)
        let dWEncT = gradients + layout.wEncT.lowerBound
        let dBEnc = gradients + layout.bEnc.lowerBound
        let dWDec = gradients + layout.wDec.lowerBound
        let dBDec = gradients + layout.bDec.lowerBound

        // Forward: h = act(select((x − c)·W_enc + b_enc)); logits = h·W_dec + b_dec.
        let selection = objective.selection
        passActiveCount = nil
        let input = encode(x: x, rows: rows, p: p, selection: selection, isTraining: true)
        let isSparse =
            if selection.keptPerRow != nil { indexKept(rows: rows, fromMask: true) }
            else if skipsZeroCode { indexNonZero(rows: rows) }
            else { false }
        isKeptIndexCurrent = selection.keptPerRow != nil || isSparse
        tookSparseProducts = isSparse
        decodeLogits(rows: rows, p: p, isSparse: isSparse)

        // Loss, ∂loss/∂logits and db_dec = Σ_rows ∂loss/∂logits. Only AuxK reads the
        // reconstruction afterwards.
        let (reconstruction, squaredError) = objective.reconstruction.lossAndGradient(
            logits: output, target: x, rows: rows, width: d,
            decoderActivation: config.decoderActivation, gradient: dOutput, columnSums: dBDec,
            keepsReconstruction: auxiliary != nil)

        // Decoder: dW_dec = hᵀ·dOutput, dh = dOutput·W_decᵀ.
        backpropagateDecoder(rows: rows, isSparse: isSparse, wDec: p.wDec, dWDec: dWDec)

        // AuxK: the dead latents' reconstruction of the residual adds to dW_dec.
        var auxiliaryLoss = 0.0
        if let auxiliary, let deadLatents, let preActivation {
            auxiliaryLoss = auxiliary.lossAndGradients(
                x: x, reconstruction: output, preActivation: preActivation, rows: rows,
                deadLatents: deadLatents, config: config, sparsity: objective.sparsity,
                wDec: p.wDec, dWDec: dWDec, scratch: scratch)
        }

        // Sparsity adds to ∂loss/∂h; then back through the activation and the selection.
        let sparsity = backpropagateCode(
            rows: rows, isSparse: isSparse, beta: sparsityBeta, dBEnc: dBEnc)
        if let auxiliary, auxiliaryLoss != 0, !isSparse {
            auxiliary.addGradients(hiddenSize: hidden, into: dCode)
        }

        // Encoder: dW_encᵀ = dzᵀ·input (added to dW_dec when tied), db_enc = Σ_rows dz.
        backpropagateEncoder(
            input: input, rows: rows, isSparse: isSparse,
            hasAuxiliary: auxiliaryLoss != 0, dWEncT: dWEncT, dBEnc: dBEnc)
        if config.subtractsDecoderBias {
            // z = (x − b_dec)·W_enc + b_enc, so b_dec also gets −W_enc·db_enc.
            BLAS.gemm(
                transposeA: false, transposeB: false, m: 1, n: d, k: hidden, alpha: -1,
                a: dBEnc, b: p.wEncT, beta: 1, c: dBDec)
        }

        let weightPenalty = addWeightDecay(parameters: parameters, gradients: gradients)
        if objective.normalizesDecoderRows {
            Self.removeRowComponents(of: dWDec, along: p.wDec, rows: hidden, width: d)
        }
        return LossParts(
            reconstruction: reconstruction, sparsity: sparsity, auxiliary: auxiliaryLoss,
            weightPenalty: weightPenalty, squaredError: squaredError)
    }

    /// Scores `rows` samples at `x` without gradients, encoding with `selection`.
    ///
    /// Returns the reconstruction loss, the weighted sparsity penalty (at `sparsityBeta`), the
    /// weight-decay term and the squared error; AuxK is 0. Leaves `h` in ``code`` and the
    /// reconstruction (MSE) or logits (BCE) in ``output``.
    func evaluate(
        x: UnsafePointer<Float>,
        rows: Int,
        parameters: UnsafePointer<Float>,
        selection: CodeSelection,
        sparsityBeta: Float
    ) -> LossParts {
        precondition(rows > 0 && rows <= capacity, "batch of \(rows) rows, capacity \(capacity)")
        let (d, hidden) = (config.inputSize, config.hiddenSize)
        let p = ParameterPointers(parameters, layout)
        isKeptIndexCurrent = false
        passActiveCount = nil
        _ = encode(x: x, rows: rows, p: p, selection: selection, isTraining: false)
        let skipsZeros = selection.isSelective || config.activation == .relu
        let isSparse = skipsZeros && kept.capacity >= rows * hidden && indexNonZero(rows: rows)
        tookSparseProducts = isSparse
        decodeLogits(rows: rows, p: p, isSparse: isSparse)
        let (reconstruction, squaredError) = objective.reconstruction.lossAndGradient(
            logits: output, target: x, rows: rows, width: d,
            decoderActivation: config.decoderActivation, gradient: dOutput)
        // The penalty's gradient lands in dCode, which nothing reads afterwards.
        let sparsity = objective.sparsity.penaltyAndGradient(
            beta: sparsityBeta, code: code, rows: rows, hiddenSize: hidden, gradient: dCode,
            columnScratch: scratch)
        return LossParts(
            reconstruction: reconstruction, sparsity: sparsity,
            weightPenalty: weightPenalty(parameters: parameters), squaredError: squaredError)
    }
}

// MARK: - Steps of the pass

extension TrainingWorkspace {
    private func encode(
        x: UnsafePointer<Float>,
        rows: Int,
        p: ParameterPointers,
        selection: CodeSelection,
        isTraining: Bool
    ) -> UnsafePointer<Float> {
        let buffers = EncoderBuffers(
            code: code, centered: centered, preActivation: isTraining ? preActivation : nil,
            mask: isTraining && selection.isSelective ? mask : nil, scratch: scratch,
            scratchCount: scratchCount)
        return Autoencoder.encodeKernel(
            x: x, rows: rows, config: config, selection: selection, parameters: p,
            buffers: buffers)
    }

    /// Lists the kept (mask = 1) or non-zero entries of the code in ``kept`` and returns
    /// whether they are few enough for the sparse products. Also records the smallest positive
    /// kept activation for batch top-k.
    private func indexKept(rows: Int, fromMask: Bool) -> Bool {
        let hidden = config.hiddenSize
        var count = 0
        var smallest = Float.infinity
        for row in 0..<rows {
            kept.starts[row] = count
            let (h, m) = (code + row * hidden, mask + row * hidden)
            // Branch-free: every entry is written at the next slot, which only a kept entry
            // claims. The slot is below rows × hidden, so within `kept`'s capacity.
            for j in 0..<hidden {
                let value = h[j]
                let isKept = fromMask ? m[j] != 0 : value != 0
                kept.columns[count] = Int32(j)
                kept.values[count] = value
                smallest = min(smallest, isKept && value > 0 ? value : .infinity)
                count += isKept ? 1 : 0
            }
        }
        kept.starts[rows] = count
        if fromMask, case .batchTopK = objective.selection {
            smallestKeptActivation = smallest.isFinite ? smallest : nil
        }
        guard sparseLimitDivisor > 0, count * sparseLimitDivisor <= rows * hidden else { return false }
        keptByLatent.fill(from: kept, rows: rows)
        return true
    }

    /// Lists the non-zero entries of the code in ``kept`` when they are few enough for the
    /// sparse products, and returns whether they were. Counts them first, eight lanes at a
    /// time, so that a dense code costs one quick sweep and no listing.
    private func indexNonZero(rows: Int) -> Bool {
        let total = rows * config.hiddenSize
        var counts = SIMD8<Int32>()
        var i = 0
        while i < total {
            let lanes = min(Lanes.scalarCount, total - i)
            let y = Lanes.load(code + i, count: lanes)
            counts &+= SIMD8<Int32>().replacing(with: 1, where: y .!= 0)
            i += lanes
        }
        guard sparseLimitDivisor > 0, Int(counts.wrappedSum()) * sparseLimitDivisor <= total else {
            return false
        }
        return indexKept(rows: rows, fromMask: false)
    }

    private func decodeLogits(rows: Int, p: ParameterPointers, isSparse: Bool) {
        guard isSparse else {
            Autoencoder.decodeLogitsKernel(
                code: code, rows: rows, config: config, wDec: p.wDec, bDec: p.bDec,
                logits: output)
            return
        }
        let d = config.inputSize
        for row in 0..<rows {
            (output + row * d).update(from: p.bDec, count: d)
        }
        SparseProducts.multiply(kept, rows: rows, by: p.wDec, width: d, addingInto: output)
    }

    /// Writes dW_dec = hᵀ·dOutput and ∂loss/∂h = dOutput·W_decᵀ (into ``keptGradients`` at the
    /// kept entries with sparse products, else into ``dCode``).
    private func backpropagateDecoder(
        rows: Int,
        isSparse: Bool,
        wDec: UnsafePointer<Float>,
        dWDec: UnsafeMutablePointer<Float>
    ) {
        let (d, hidden) = (config.inputSize, config.hiddenSize)
        guard isSparse else {
            BLAS.gemm(
                transposeA: true, transposeB: false, m: hidden, n: d, k: rows,
                a: code, b: dOutput, c: dWDec)
            BLAS.gemm(
                transposeA: false, transposeB: true, m: rows, n: hidden, k: d,
                a: dOutput, b: wDec, c: dCode)
            return
        }
        SparseProducts.transposedProduct(
            pattern: keptByLatent, weights: keptByLatent.values, times: dOutput, width: d,
            into: dWDec, isAccumulating: false)
        SparseProducts.maskedProduct(
            dOutput, transposing: wDec, width: d, pattern: keptByLatent, into: keptGradients)
    }

    /// Adds the sparsity penalty's gradient to ∂loss/∂h and takes it back through the
    /// activation and the selection; returns the weighted penalty. With dense products it also
    /// writes db_enc, the column sums of the result.
    private func backpropagateCode(
        rows: Int,
        isSparse: Bool,
        beta: Float,
        dBEnc: UnsafeMutablePointer<Float>
    ) -> Double {
        let hidden = config.hiddenSize
        let activation = config.activation
        let sparsity = objective.sparsity
        let l1Weight: Float? =
            sparsity.kind == .l1 ? (sparsity.reduction == .sum ? beta : beta / Float(rows)) : nil
        if isSparse {
            // Dropped latents and zeros have no entry at all. Only a ReLU code skipped by its
            // zeros can carry a penalty, L1, whose gradient w·sign(h) is added before the slope
            // as in the dense pass.
            var absoluteSum = 0.0
            for e in 0..<keptByLatent.count {
                let h = keptByLatent.values[e]
                var dz = keptGradients[e]
                if let l1Weight {
                    dz += l1Weight * (h > 0 ? 1 : h < 0 ? -1 : 0)
                    absoluteSum += Double(abs(h))
                }
                keptGradients[e] = dz * activation.slope(atOutput: h)
            }
            return l1Weight.map { Double($0) * absoluteSum } ?? 0
        }
        var penalty = 0.0
        switch sparsity.kind {
        case .kl:
            penalty = sparsity.penaltyAndGradient(
                beta: beta, code: code, rows: rows, hiddenSize: hidden, gradient: dCode,
                columnScratch: scratch)
        case .none, .l1, .topk, .batchtopk:
            break
        }
        let pass = CodeGradientPass(
            code: code, mask: objective.selection.isSelective ? mask : nil, rows: rows,
            width: hidden, l1Weight: l1Weight, gradient: dCode, columnSums: dBEnc,
            columnLargest: columnLargest)
        let (absoluteSum, activeCount) =
            switch activation {
            case .relu: pass.run(ReLUKernel.self)
            case .sigmoid: pass.run(SigmoidKernel.self)
            case .identity: pass.run(IdentityKernel.self)
            }
        passActiveCount = (rows, activeCount)
        return l1Weight.map { Double($0) * absoluteSum } ?? penalty
    }

    private func backpropagateEncoder(
        input: UnsafePointer<Float>,
        rows: Int,
        isSparse: Bool,
        hasAuxiliary: Bool,
        dWEncT: UnsafeMutablePointer<Float>,
        dBEnc: UnsafeMutablePointer<Float>
    ) {
        let (d, hidden) = (config.inputSize, config.hiddenSize)
        guard isSparse else {
            BLAS.gemm(
                transposeA: true, transposeB: false, m: hidden, n: d, k: rows,
                a: dCode, b: input, beta: layout.hasTiedWeights ? 1 : 0, c: dWEncT)
            // backpropagateCode summed dCode into db_enc before AuxK added to it.
            if hasAuxiliary { sumRows(dCode, rows: rows, width: hidden, into: dBEnc) }
            return
        }
        // Tied, dW_encᵀ is dW_dec's matrix, which already holds the decoder's part.
        SparseProducts.transposedProduct(
            pattern: keptByLatent, weights: keptGradients, times: input, width: d,
            into: dWEncT, isAccumulating: layout.hasTiedWeights)
        SparseProducts.columnSums(
            keptByLatent, weights: keptGradients, into: dBEnc, isAccumulating: false)
        if let auxiliary, hasAuxiliary {
            SparseProducts.transposedProduct(
                pattern: auxiliary.byLatent, weights: auxiliary.gradients, times: input,
                width: d, into: dWEncT, isAccumulating: true)
            SparseProducts.columnSums(
                auxiliary.byLatent, weights: auxiliary.gradients, into: dBEnc,
                isAccumulating: true)
        }
    }

    /// Counts the non-zero entries of the first `rows` rows of ``code`` and sets `fired[j]`
    /// for each latent with a positive entry (leaving the other flags as they were).
    ///
    /// Reads the kept entries when ``isKeptIndexCurrent``, else takes what the code-gradient
    /// pass found when it ran on this code, else sweeps the code eight lanes at a time, keeping
    /// each column's largest value in ``scratch``.
    func countActive(rows: Int, fired: UnsafeMutablePointer<Bool>) -> Int {
        if isKeptIndexCurrent {
            // A k-sparse code: only the kept entries can be non-zero.
            var active = 0
            for e in 0..<kept.count(rows: rows) {
                let h = kept.values[e]
                if h != 0 { active += 1 }
                if h > 0 { fired[Int(kept.columns[e])] = true }
            }
            return active
        }
        let hidden = config.hiddenSize
        if let passActiveCount, passActiveCount.rows == rows {
            for j in 0..<hidden where columnLargest[j] > 0 { fired[j] = true }
            return passActiveCount.count
        }
        let largest = scratch
        largest.update(repeating: 0, count: hidden)
        var counts = SIMD8<Int32>()
        for row in 0..<rows {
            let h = code + row * hidden
            for i in stride(from: 0, to: hidden, by: Lanes.scalarCount) {
                let lanes = min(Lanes.scalarCount, hidden - i)
                let y = Lanes.load(h + i, count: lanes)
                counts &+= SIMD8<Int32>(repeating: 0).replacing(with: 1, where: y .!= 0)
                let top = Lanes.load(largest + i, count: lanes)
                top.replacing(with: y, where: y .> top).store(to: largest + i, count: lanes)
            }
        }
        for j in 0..<hidden where largest[j] > 0 { fired[j] = true }
        return Int(counts.wrappedSum())
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

/// The element-wise pass from ∂loss/∂h to ∂loss/∂(encoder pre-activation), dense products.
///
/// In one sweep over the `B × H` code, eight lanes at a time: adds the L1 penalty's gradient
/// `w·sign(h)`, multiplies by the activation's slope and by the selection's mask, and sums the
/// result's columns (db_enc, row 0 first, then each row added in turn). Each element gets the
/// same operations, in the same order, as the separate passes would give it. While the code
/// is at hand it also counts its non-zero entries and keeps each column's largest value (from
/// 0), the firing statistics the trainer records after the step.
private struct CodeGradientPass {
    let code: UnsafePointer<Float>
    let mask: UnsafePointer<Float>?
    let rows: Int
    let width: Int
    /// The L1 weight `w`, or nil when the penalty is not L1.
    let l1Weight: Float?
    let gradient: UnsafeMutablePointer<Float>
    let columnSums: UnsafeMutablePointer<Float>
    /// Receives each column's largest code value, or 0 when none is positive (`width` floats).
    let columnLargest: UnsafeMutablePointer<Float>

    /// Runs the pass; returns `Σ|h|` (0 without L1), summed in eight `Double` lanes, and the
    /// number of non-zero code entries. Compiled once per activation and per kind of pass, so
    /// each loop body is branch-free.
    func run<Kind: ActivationKernel>(_: Kind.Type) -> (absoluteSum: Double, activeCount: Int) {
        switch (l1Weight, mask) {
        case (let weight?, let mask?):
            sweep(Kind.self, l1: L1Penalty(weight: weight), mask: SelectionMask(values: mask))
        case (let weight?, nil):
            sweep(Kind.self, l1: L1Penalty(weight: weight), mask: UnitMask())
        case (nil, let mask?):
            sweep(Kind.self, l1: NoPenalty(), mask: SelectionMask(values: mask))
        case (nil, nil):
            sweep(Kind.self, l1: NoPenalty(), mask: UnitMask())
        }
    }

    @inline(__always)
    private func sweep<Kind: ActivationKernel, Penalty: CodePenalty, Mask: CodeMask>(
        _: Kind.Type, l1 penalty: Penalty, mask: Mask
    ) -> (absoluteSum: Double, activeCount: Int) {
        columnLargest.update(repeating: 0, count: width)
        var sweep = CodeGradientSweep<Kind, Penalty, Mask>(
            code: code, gradient: gradient, penalty: penalty, mask: mask,
            columnLargest: columnLargest)
        sweepRows(rows: rows, width: width, columnSums: columnSums, &sweep)
        return (sweep.absoluteSum.pairwiseSum, Int(sweep.activeCounts.wrappedSum()))
    }
}

/// One chunk of ``CodeGradientPass``.
private struct CodeGradientSweep<Kind: ActivationKernel, Penalty: CodePenalty, Mask: CodeMask>:
    RowSweep
{
    let code: UnsafePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    let penalty: Penalty
    let mask: Mask
    let columnLargest: UnsafeMutablePointer<Float>
    var absoluteSum = WideLanes()
    var activeCounts = SIMD8<Int32>()

    @inline(__always)
    mutating func chunk(at offset: Int, column: Int, lanes: Int) -> Lanes {
        let y = Lanes.load(code + offset, count: lanes)
        // A short chunk's padding lanes load as 0, which neither counts nor raises a maximum.
        activeCounts &+= SIMD8<Int32>().replacing(with: 1, where: y .!= 0)
        let largest = Lanes.load(columnLargest + column, count: lanes)
        largest.replacing(with: y, where: y .> largest)
            .store(to: columnLargest + column, count: lanes)

        var dz = Lanes.load(gradient + offset, count: lanes)
        penalty.add(to: &dz, code: y, lanes: lanes, absoluteSum: &absoluteSum)
        dz = Kind.backpropagate(dz, output: y)
        dz = mask.apply(to: dz, at: offset, lanes: lanes)
        dz.store(to: gradient + offset, count: lanes)
        return dz
    }
}

/// Whether the code gradient pass adds an L1 term.
private protocol CodePenalty {
    /// Adds the penalty's gradient at codes `y` to `dz` and their `|y|` to `absoluteSum`.
    func add(to dz: inout Lanes, code y: Lanes, lanes: Int, absoluteSum: inout WideLanes)
}

/// No penalty term.
private struct NoPenalty: CodePenalty {
    @inline(__always)
    func add(to dz: inout Lanes, code y: Lanes, lanes: Int, absoluteSum: inout WideLanes) {}
}

/// L1 at weight `w`: `dz += w·sign(y)`.
private struct L1Penalty: CodePenalty {
    let weight: Float

    @inline(__always)
    func add(to dz: inout Lanes, code y: Lanes, lanes: Int, absoluteSum: inout WideLanes) {
        let sign = Lanes(repeating: 0).replacing(with: 1, where: y .> 0)
            .replacing(with: -1, where: y .< 0)
        dz += Lanes(repeating: weight) * sign
        absoluteSum.add(y.replacing(with: -y, where: y .< 0), count: lanes)
    }
}

/// Whether the code gradient pass multiplies by the selection's mask.
private protocol CodeMask {
    func apply(to dz: Lanes, at offset: Int, lanes: Int) -> Lanes
}

/// No selection: every latent kept.
private struct UnitMask: CodeMask {
    @inline(__always)
    func apply(to dz: Lanes, at offset: Int, lanes: Int) -> Lanes { dz }
}

/// The selection's 0/1 mask.
private struct SelectionMask: CodeMask {
    let values: UnsafePointer<Float>

    @inline(__always)
    func apply(to dz: Lanes, at offset: Int, lanes: Int) -> Lanes {
        dz * Lanes.load(values + offset, count: lanes)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// Allocates `count` floats set to zero.
    static func zeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(count, 1))
        pointer.initialize(repeating: 0, count: Swift.max(count, 1))
        return pointer
    }
}
