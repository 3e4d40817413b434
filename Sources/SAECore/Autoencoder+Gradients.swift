/// The two terms of the training loss for one batch.
package struct LossParts: Sendable, Equatable {
    /// MSE or BCE, a mean over the batch's elements.
    package var reconstruction: Double
    /// The weighted sparsity term `beta · L_s`; 0 for `none` and `topk`.
    package var sparsity: Double

    /// The two terms of a batch's loss.
    package init(reconstruction: Double, sparsity: Double) {
        self.reconstruction = reconstruction
        self.sparsity = sparsity
    }

    /// The loss the optimiser minimises.
    package var total: Double { reconstruction + sparsity }
}

/// Gradients of the loss, one array per parameter, shaped like ``Autoencoder``'s fields.
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
    /// kernels. `batch` is `rows × inputSize`, row-major, with `rows > 0`. The loss follows
    /// `options.reconstruction` and `options.sparsity` (with `topk`, `options.sparsity.k` latents
    /// are kept per sample; otherwise `config.topK` applies when set). The gradients exclude
    /// weight decay, which the optimiser adds. Options are not validated here; see
    /// ``Trainer/init(model:options:training:validation:)`` for the checked path.
    package func lossAndGradients(
        batch: [Float],
        rows: Int,
        options: TrainingOptions
    ) -> (LossParts, Gradients) {
        precondition(rows > 0, "a batch needs at least one row, not \(rows)")
        precondition(config.inputSize > 0 && config.hiddenSize > 0, "empty model \(config)")
        precondition(
            batch.count == rows * config.inputSize,
            "batch has \(batch.count) values, not \(rows)×\(config.inputSize)")
        let layout = ParameterLayout(config)
        let workspace = TrainingWorkspace(
            config: config, objective: Objective(config: config, options: options), capacity: rows)
        let parameters = flatParameters()
        var gradients = [Float](repeating: 0, count: layout.count)

        let parts = batch.withUnsafeBufferPointer { x in
            parameters.withUnsafeBufferPointer { parameters in
                gradients.withUnsafeMutableBufferPointer { gradients in
                    // safe: rows, inputSize and hiddenSize are positive, so no buffer is empty
                    workspace.lossAndGradients(
                        x: x.baseAddress!, rows: rows, parameters: parameters.baseAddress!,
                        gradients: gradients.baseAddress!)
                }
            }
        }
        let unpacked = Gradients(
            dWEnc: Array(gradients[layout.wEnc]), dBEnc: Array(gradients[layout.bEnc]),
            dWDec: Array(gradients[layout.wDec]), dBDec: Array(gradients[layout.bDec]))
        return (parts, unpacked)
    }

    /// The parameters as one vector in `ParameterLayout` order.
    func flatParameters() -> [Float] {
        wEnc + bEnc + wDec + bDec
    }

    /// Rebuilds a model from a flat vector in `ParameterLayout` order.
    init(config: AutoencoderConfig, flat: UnsafeBufferPointer<Float>) {
        let layout = ParameterLayout(config)
        precondition(
            flat.count == layout.count, "\(flat.count) parameters, layout needs \(layout.count)")
        self.init(
            config: config,
            wEnc: Array(flat[layout.wEnc]), bEnc: Array(flat[layout.bEnc]),
            wDec: Array(flat[layout.wDec]), bDec: Array(flat[layout.bDec]))
    }
}
