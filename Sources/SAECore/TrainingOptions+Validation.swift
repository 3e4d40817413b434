extension TrainingOptions {
    /// Checks that these options can train a model of `config`, throwing the first problem found.
    ///
    /// Only the fields the chosen methods use are checked: `sparsity.rho` only for KL,
    /// `momentum` only for SGD, and so on. Ranges follow torch.optim where it has one.
    ///
    /// - Throws: ``TrainingError/invalidOption(field:message:)`` naming the field.
    package func validate(for config: AutoencoderConfig) throws {
        try validateModel(config)
        try validateSchedule()
        try validateOptimizer()
        try validateSparsity(for: config)
        try validateAuxiliary(for: config)
        if reconstruction == .bce && config.decoderActivation != .sigmoid {
            throw invalid(
                "reconstruction",
                "bce reads the decoder output as probabilities, so it needs the sigmoid "
                    + "decoder activation, not \(config.decoderActivation.rawValue)")
        }
    }

    private func validateModel(_ config: AutoencoderConfig) throws {
        if config.inputSize < 1 {
            throw invalid("model.inputSize", "must be at least 1, not \(config.inputSize)")
        }
        if config.hiddenSize < 1 {
            throw invalid("model.hiddenSize", "must be at least 1, not \(config.hiddenSize)")
        }
        if let topK = config.topK, !(1...config.hiddenSize).contains(topK) {
            throw invalid("model.topK", "must be in 1...\(config.hiddenSize), not \(topK)")
        }
        if let batchTopK = config.batchTopK, !(1...config.hiddenSize).contains(batchTopK) {
            throw invalid(
                "model.batchTopK", "must be in 1...\(config.hiddenSize), not \(batchTopK)")
        }
        if let threshold = config.threshold, !threshold.isFinite {
            throw invalid("model.threshold", "must be a finite number, not \(threshold)")
        }
    }

    private func validateSchedule() throws {
        if epochs < 0 { throw invalid("epochs", "must be at least 0, not \(epochs)") }
        if batchSize < 1 { throw invalid("batchSize", "must be at least 1, not \(batchSize)") }
        try requireNonNegative(learningRate, "learningRate")
        try requireNonNegative(weightDecay, "weightDecay")
        try requireNonNegative(l2Weights, "l2Weights")
        if warmupSteps < 0 {
            throw invalid("warmupSteps", "must be at least 0, not \(warmupSteps)")
        }
        if sparsityWarmupSteps < 0 {
            throw invalid(
                "sparsityWarmupSteps", "must be at least 0, not \(sparsityWarmupSteps)")
        }
        if !(decayEndFactor >= 0 && decayEndFactor <= 1) {
            throw invalid("decayEndFactor", "must be in [0, 1], not \(decayEndFactor)")
        }
        if let maxGradientNorm, !(maxGradientNorm.isFinite && maxGradientNorm > 0) {
            throw invalid(
                "maxGradientNorm", "must be a finite number > 0, not \(maxGradientNorm)")
        }
    }

    private func requireNonNegative(_ value: Float, _ field: String) throws {
        if !(value.isFinite && value >= 0) {
            throw invalid(field, "must be a finite number ≥ 0, not \(value)")
        }
    }

    private func validateOptimizer() throws {
        switch optimizer {
        case .adam:
            if !(beta1 >= 0 && beta1 < 1) {
                throw invalid("beta1", "must be in [0, 1), not \(beta1)")
            }
            if !(beta2 >= 0 && beta2 < 1) {
                throw invalid("beta2", "must be in [0, 1), not \(beta2)")
            }
            if !(epsilon.isFinite && epsilon >= 0) {
                throw invalid("epsilon", "must be a finite number ≥ 0, not \(epsilon)")
            }
        case .sgd:
            if !(momentum.isFinite && momentum >= 0) {
                throw invalid("momentum", "must be a finite number ≥ 0, not \(momentum)")
            }
            if !dampening.isFinite {
                throw invalid("dampening", "must be a finite number, not \(dampening)")
            }
            if nesterov && (momentum <= 0 || dampening != 0) {
                throw invalid("nesterov", "needs momentum > 0 and dampening 0")
            }
        }
    }

    private func validateSparsity(for config: AutoencoderConfig) throws {
        switch sparsity.kind {
        case .none:
            break
        case .l1, .kl:
            if !(sparsity.beta.isFinite && sparsity.beta >= 0) {
                throw invalid(
                    "sparsity.beta", "must be a finite number ≥ 0, not \(sparsity.beta)")
            }
        case .topk, .batchtopk:
            if !(1...config.hiddenSize).contains(sparsity.k) {
                throw invalid(
                    "sparsity.k", "must be in 1...\(config.hiddenSize), not \(sparsity.k)")
            }
            if config.activation == .sigmoid {
                throw invalid(
                    "sparsity.kind",
                    "\(sparsity.kind.rawValue) zeroes the dropped pre-activations, which sigmoid "
                        + "maps to 0.5, so the code would not be sparse; use the relu or identity "
                        + "activation")
            }
        }
        if sparsity.kind == .batchtopk
            && !(sparsity.thresholdRate > 0 && sparsity.thresholdRate <= 1)
        {
            throw invalid(
                "sparsity.thresholdRate", "must be in (0, 1], not \(sparsity.thresholdRate)")
        }
        if sparsity.kind == .kl {
            if !(sparsity.rho > 0 && sparsity.rho < 1) {
                throw invalid("sparsity.rho", "must be in (0, 1), not \(sparsity.rho)")
            }
            if config.activation != .sigmoid {
                throw invalid(
                    "sparsity.kind",
                    "kl treats each latent's mean activation as a probability, so it needs the "
                        + "sigmoid activation, not \(config.activation.rawValue)")
            }
        }
    }

    private func validateAuxiliary(for config: AutoencoderConfig) throws {
        guard sparsity.isKSparse && sparsity.auxK != 0 else { return }
        if !(0...config.hiddenSize).contains(sparsity.auxK) {
            throw invalid(
                "sparsity.auxK", "must be in 0...\(config.hiddenSize), not \(sparsity.auxK)")
        }
        try requireNonNegative(sparsity.auxCoefficient, "sparsity.auxCoefficient")
        if sparsity.deadAfterSamples < 1 {
            throw invalid(
                "sparsity.deadAfterSamples",
                "must be at least 1, not \(sparsity.deadAfterSamples)")
        }
        if reconstruction != .mse {
            throw invalid(
                "sparsity.auxK",
                "AuxK reconstructs the residual x − x' in squared error, so it needs the mse "
                    + "reconstruction, not \(reconstruction.rawValue)")
        }
    }

    private func invalid(_ field: String, _ message: String) -> TrainingError {
        .invalidOption(field: field, message: message)
    }
}
