// Reconstruction losses and their gradients over raw pointers (training's inner loop).
//
// Legend: B = rows, D = width (inputSize), N = B × D elements; `target` is the batch x.
//
// One pass over the batch does all the element-wise work of the decoder's end: the decoder
// activation, the loss and squared error, the gradient through the activation, and the column
// sums of that gradient (∂loss/∂b_dec). Each row is taken eight lanes at a time; the loss sums
// run in eight `Double` lanes, added pairwise at the end, so they run in a fixed order.

extension ReconstructionLoss {
    /// Returns the loss of a decoded batch and writes its gradient w.r.t. the decoder logits.
    ///
    /// - Parameters:
    ///   - logits: `B × D` decoder pre-activations `z = h · W_dec + b_dec`. For MSE and
    ///     `keepsReconstruction` they are turned into the reconstruction `decoderActivation(z)`
    ///     in place; else (and always for BCE) they are left as they are.
    ///   - target: the `B × D` inputs being reconstructed.
    ///   - gradient: receives `B × D` values of `∂loss/∂z`.
    ///   - columnSums: when given, receives the `D` column sums of `gradient`, row 0 first and
    ///     each later row added in turn.
    ///   - keepsReconstruction: whether MSE leaves the reconstruction in `logits`. Training
    ///     skips it when nothing reads it: the write back is a second trip to each line of a
    ///     buffer the matrix product left partly in the other core's cache.
    /// - Returns: `loss`, MSE `Σ(x' − x)² / N`, or for BCE the mean over elements of
    ///   `max(z, 0) − z·x + log(1 + exp(−|z|))`, which is
    ///   `−[x·log σ(z) + (1 − x)·log(1 − σ(z))]` written so it cannot overflow (BCE ignores
    ///   `decoderActivation` and treats it as sigmoid); and `squaredError`, `Σ(x' − x)²` with
    ///   `x' = σ(z)` for BCE, for the variance metrics.
    func lossAndGradient(
        logits: UnsafeMutablePointer<Float>,
        target: UnsafePointer<Float>,
        rows: Int,
        width: Int,
        decoderActivation: Activation,
        gradient: UnsafeMutablePointer<Float>,
        columnSums: UnsafeMutablePointer<Float>? = nil,
        keepsReconstruction: Bool = true
    ) -> (loss: Double, squaredError: Double) {
        let count = rows * width
        if count == 0 { return (0, 0) }
        let pass = ElementPass(
            logits: logits, target: target, rows: rows, width: width, gradient: gradient,
            columnSums: columnSums, keepsReconstruction: keepsReconstruction)
        switch (self, decoderActivation) {
        case (.mse, .relu):
            let sum = pass.squaredError(ReLUKernel.self)
            return (sum / Double(count), sum)
        case (.mse, .sigmoid):
            let sum = pass.squaredError(SigmoidKernel.self)
            return (sum / Double(count), sum)
        case (.mse, .identity):
            let sum = pass.squaredError(IdentityKernel.self)
            return (sum / Double(count), sum)
        case (.bce, _):
            let (sum, squares) = pass.crossEntropy()
            return (sum / Double(count), squares)
        }
    }
}

/// The buffers of one loss pass.
private struct ElementPass {
    let logits: UnsafeMutablePointer<Float>
    let target: UnsafePointer<Float>
    let rows: Int
    let width: Int
    let gradient: UnsafeMutablePointer<Float>
    let columnSums: UnsafeMutablePointer<Float>?
    let keepsReconstruction: Bool

    /// MSE: `x' = act(z)` (in place when `keepsReconstruction`) and
    /// `gradient = act'·2(x' − x) / N`; returns `Σ(x' − x)²`.
    ///
    /// Compiled once per activation, so each loop body is branch-free.
    ///
    /// From ``splitMinimum`` elements the columns are cut in ``partCount`` parts shared by
    /// both cores (see ``SplitWorker``). Every element and column sum gets the same operations
    /// either way; only the returned sum changes, by rounding, as the parts' lane sums are
    /// added in order at the end.
    func squaredError<Kind: ActivationKernel>(_: Kind.Type) -> Double {
        let scale = 2 / Float(rows * width)
        let sweep = SquaredErrorSweep<Kind>(
            logits: logits, target: target, gradient: gradient, scale: scale,
            keepsReconstruction: keepsReconstruction)
        let parts = Self.partCount
        guard rows * width >= Self.splitMinimum, width >= parts * Lanes.scalarCount else {
            var whole = sweep
            sweepRows(rows: rows, width: width, columnSums: columnSums, &whole)
            return whole.sum.pairwiseSum
        }
        return withUnsafeTemporaryAllocation(of: WideLanes.self, capacity: parts) { sums in
            SplitWorker.run(parts: parts) { part in
                var own = sweep
                let columns = SplitWorker.range(
                    of: part, in: parts, covering: width, alignment: Lanes.scalarCount)
                sweepRows(
                    rows: rows, width: width, columns: columns, columnSums: columnSums, &own)
                sums[part] = own.sum
            }
            return sums.dropFirst().reduce(sums[0], +).pairwiseSum
        }
    }

    /// How many column ranges a split MSE pass is cut into.
    static let partCount = 4

    /// The fewest elements for which the MSE pass is split across two cores.
    static let splitMinimum = 16_384

    /// Binary cross-entropy on logits, `gradient = (σ(z) − x) / N`; returns the sum of the
    /// element losses and `Σ(σ(z) − x)²`.
    func crossEntropy() -> (sum: Double, squares: Double) {
        var sweep = CrossEntropySweep(
            logits: logits, target: target, gradient: gradient, scale: 1 / Float(rows * width))
        sweepRows(rows: rows, width: width, columnSums: columnSums, &sweep)
        return (sweep.sum.pairwiseSum, sweep.squares.pairwiseSum)
    }
}

/// One chunk of the MSE pass: see ``ElementPass/squaredError(_:)``.
private struct SquaredErrorSweep<Kind: ActivationKernel>: RowSweep {
    let logits: UnsafeMutablePointer<Float>
    let target: UnsafePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    let scale: Float
    let keepsReconstruction: Bool
    var sum = WideLanes()

    @inline(__always)
    mutating func chunk(at offset: Int, column: Int, lanes: Int) -> Lanes {
        let output = Kind.apply(.load(logits + offset, count: lanes))
        if keepsReconstruction { output.store(to: logits + offset, count: lanes) }
        let difference = output - .load(target + offset, count: lanes)
        let g = Kind.backpropagate(scale * difference, output: output)
        g.store(to: gradient + offset, count: lanes)
        sum.add(difference * difference, count: lanes)
        return g
    }
}

/// One chunk of the BCE pass: see ``ElementPass/crossEntropy()``.
private struct CrossEntropySweep: RowSweep {
    let logits: UnsafeMutablePointer<Float>
    let target: UnsafePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    let scale: Float
    var sum = WideLanes()
    var squares = WideLanes()

    @inline(__always)
    mutating func chunk(at offset: Int, column: Int, lanes: Int) -> Lanes {
        let z = Lanes.load(logits + offset, count: lanes)
        let t = Lanes.load(target + offset, count: lanes)
        // e = exp(−|z|) ∈ (0, 1] serves the sigmoid and the softplus log(1 + e).
        let (sigmoid, e) = SIMDMath.sigmoid(z)
        let difference = sigmoid - t
        let g = difference * scale
        g.store(to: gradient + offset, count: lanes)
        let positivePart = z.replacing(with: 0, where: z .< 0)
        sum.add(positivePart - z * t + SIMDMath.log1pUnit(e), count: lanes)
        squares.add(difference * difference, count: lanes)
        return g
    }
}
