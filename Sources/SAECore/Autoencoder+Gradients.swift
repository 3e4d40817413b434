/// The terms of the training loss for one batch.
package struct LossParts: Sendable, Equatable {
    /// MSE or BCE, a mean over the batch's elements.
    package var reconstruction: Double
    /// The weighted sparsity term `beta · L_s`; 0 for `none`, `topk` and `batchtopk`.
    package var sparsity: Double
    /// The weighted AuxK term `auxCoefficient · Σ(ê − e)² / (B·D)`; 0 when AuxK is off or no
    /// latent is dead.
    package var auxiliary: Double
    /// Ng's weight decay `l2Weights/2 · ‖W‖²`; 0 when off.
    package var weightPenalty: Double
    /// `Σ(x' − x)²` over the batch's elements (with `x' = σ(z)` for BCE), for the variance
    /// metrics; not part of the loss.
    package var squaredError: Double

    /// The terms of a batch's loss.
    package init(
        reconstruction: Double,
        sparsity: Double,
        auxiliary: Double = 0,
        weightPenalty: Double = 0,
        squaredError: Double = 0
    ) {
        self.reconstruction = reconstruction
        self.sparsity = sparsity
        self.auxiliary = auxiliary
        self.weightPenalty = weightPenalty
        self.squaredError = squaredError
    }

    /// The loss the optimiser minimises: reconstruction + sparsity + auxiliary + weight penalty.
    package var total: Double { reconstruction + sparsity + auxiliary + weightPenalty }
}

/// Gradients of the loss, one array per parameter, shaped like ``Autoencoder``'s fields.
///
/// With tied weights `dWEnc` is the gradient with respect to the one shared matrix (both of
/// its uses summed), and `dWDec` is the same gradient transposed.
package struct Gradients: Sendable, Equatable {
    /// `∂loss/∂W_enc`, `inputSize × hiddenSize`.
    package var dWEnc: [Float]
    /// `∂loss/∂b_enc`, `hiddenSize`.
    package var dBEnc: [Float]
    /// `∂loss/∂W_dec`, `hiddenSize × inputSize`.
    package var dWDec: [Float]
    /// `∂loss/∂b_dec`, `inputSize`.
    package var dBDec: [Float]
}

extension Autoencoder {
    /// Returns the loss of one batch and its gradients with respect to every parameter.
    ///
    /// This is the training step's own pass, not a separate path: the ``Trainer`` runs the same
    /// kernels. `batch` is `rows × inputSize`, row-major and already normalised, with
    /// `rows > 0`. The loss follows `options.reconstruction`, `options.sparsity` (at its full
    /// `beta`; with `topk` or `batchtopk`, `options.sparsity.k` latents are kept; otherwise the
    /// config's selection applies) and `options.l2Weights`. AuxK uses the latents flagged in
    /// `deadLatents` (`hiddenSize` flags), none when nil. With `options.normalizesDecoderRows`
    /// the W_dec gradient has each row's component removed. The gradients exclude the
    /// optimiser's `weightDecay`. Options are not validated here; see
    /// ``Trainer/init(model:options:training:validation:)`` for the checked path.
    package func lossAndGradients(
        batch: [Float],
        rows: Int,
        options: TrainingOptions,
        deadLatents: [Bool]? = nil
    ) -> (LossParts, Gradients) {
        precondition(rows > 0, "a batch needs at least one row, not \(rows)")
        let (d, h) = (config.inputSize, config.hiddenSize)
        precondition(d > 0 && h > 0, "empty model \(config)")
        precondition(
            batch.count == rows * d, "batch has \(batch.count) values, not \(rows)×\(d)")
        precondition(deadLatents.map { $0.count == h } ?? true, "deadLatents needs \(h) flags")
        let layout = ParameterLayout(config)
        let workspace = TrainingWorkspace(
            config: config, objective: Objective(config: config, options: options), capacity: rows)
        let parameters = flatParameters()
        var gradients = [Float](repeating: 0, count: layout.count)
        let dead = deadLatents ?? []

        let parts = batch.withUnsafeBufferPointer { x in
            parameters.withUnsafeBufferPointer { parameters in
                gradients.withUnsafeMutableBufferPointer { gradients in
                    dead.withUnsafeBufferPointer { dead in
                        // safe: rows, inputSize and hiddenSize are positive, so no buffer used
                        // here is empty
                        workspace.lossAndGradients(
                            x: x.baseAddress!, rows: rows, parameters: parameters.baseAddress!,
                            gradients: gradients.baseAddress!, sparsityBeta: options.sparsity.beta,
                            deadLatents: deadLatents == nil ? nil : dead.baseAddress)
                    }
                }
            }
        }
        let unpacked = Gradients(
            dWEnc: transposed(Array(gradients[layout.wEncT]), rows: h, columns: d),
            dBEnc: Array(gradients[layout.bEnc]),
            dWDec: Array(gradients[layout.wDec]), dBDec: Array(gradients[layout.bDec]))
        return (parts, unpacked)
    }
}
