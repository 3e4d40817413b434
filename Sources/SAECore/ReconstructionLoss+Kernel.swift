// Reconstruction losses and their gradients over raw pointers (training's inner loop).
//
// Legend: N = rows × inputSize elements; `target` is the batch x, `output` the decoder's result.

extension ReconstructionLoss {
    /// Returns the loss of a decoded batch and writes its gradient w.r.t. the decoder logits.
    ///
    /// - Parameters:
    ///   - logits: `N` decoder pre-activations `z = h · W_dec + b_dec`. For MSE they are turned
    ///     into the reconstruction `decoderActivation(z)` in place; for BCE they are left as is.
    ///   - target: the `N` inputs being reconstructed.
    ///   - gradient: receives `N` values of `∂loss/∂z`.
    /// - Returns: `loss`, MSE `Σ(x' − x)² / N`, or for BCE the mean over elements of
    ///   `max(z, 0) − z·x + log(1 + exp(−|z|))`, which is
    ///   `−[x·log σ(z) + (1 − x)·log(1 − σ(z))]` written so it cannot overflow (BCE ignores
    ///   `decoderActivation` and treats it as sigmoid); and `squaredError`, `Σ(x' − x)²` with
    ///   `x' = σ(z)` for BCE, for the variance metrics.
    func lossAndGradient(
        logits: UnsafeMutablePointer<Float>,
        target: UnsafePointer<Float>,
        count: Int,
        decoderActivation: Activation,
        gradient: UnsafeMutablePointer<Float>
    ) -> (loss: Double, squaredError: Double) {
        if count == 0 { return (0, 0) }
        switch self {
        case .mse:
            decoderActivation.apply(logits, count: count)
            let sum = Self.squaredError(
                output: logits, target: target, count: count, gradient: gradient)
            decoderActivation.backpropagate(gradient, output: logits, count: count)
            return (sum / Double(count), sum)
        case .bce:
            return Self.crossEntropy(
                logits: logits, target: target, count: count, gradient: gradient)
        }
    }

    /// The sum of squared errors, with `gradient = 2(x' − x) / N`.
    private static func squaredError(
        output: UnsafePointer<Float>,
        target: UnsafePointer<Float>,
        count: Int,
        gradient: UnsafeMutablePointer<Float>
    ) -> Double {
        let scale = 2 / Float(count)
        var sum = 0.0
        for i in stride(from: 0, to: count, by: Lanes.scalarCount) {
            let lanes = min(Lanes.scalarCount, count - i)
            let difference = Lanes.load(output + i, count: lanes) - .load(target + i, count: lanes)
            (scale * difference).store(to: gradient + i, count: lanes)
            sum += Double((difference * difference).sum(ofFirst: lanes))
        }
        return sum
    }

    /// Binary cross-entropy on logits, with `gradient = (σ(z) − x) / N`.
    private static func crossEntropy(
        logits: UnsafePointer<Float>,
        target: UnsafePointer<Float>,
        count: Int,
        gradient: UnsafeMutablePointer<Float>
    ) -> (loss: Double, squaredError: Double) {
        let scale = 1 / Float(count)
        var sum = 0.0
        var squares = 0.0
        for i in stride(from: 0, to: count, by: Lanes.scalarCount) {
            let lanes = min(Lanes.scalarCount, count - i)
            let z = Lanes.load(logits + i, count: lanes)
            let t = Lanes.load(target + i, count: lanes)
            // e = exp(−|z|) ∈ (0, 1] serves the sigmoid and the softplus log(1 + e).
            let (sigmoid, e) = SIMDMath.sigmoid(z)
            ((sigmoid - t) * scale).store(to: gradient + i, count: lanes)
            let positivePart = z.replacing(with: 0, where: z .< 0)
            let terms = positivePart - z * t + SIMDMath.log1pUnit(e)
            sum += Double(terms.sum(ofFirst: lanes))
            let difference = sigmoid - t
            squares += Double((difference * difference).sum(ofFirst: lanes))
        }
        return (sum / Double(count), squares)
    }
}
