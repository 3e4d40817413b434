import Foundation

/// Which sparsity penalty shapes the code during training.
package enum SparsityKind: String, Codable, Sendable, CaseIterable {
    /// No penalty: a plain autoencoder.
    case none
    /// `beta · Σ|h|`, summed or averaged over the batch (see ``L1Reduction``).
    case l1
    /// Ng's KL-divergence penalty pulling each latent's mean activation towards `rho`.
    /// Needs a code in (0, 1), so the trainer requires the sigmoid activation.
    case kl
    /// A k-sparse code: only the `k` largest pre-activations of each sample survive.
    case topk
    /// Batch top-k: the `B·k` largest pre-activations of a batch of `B` samples survive, and
    /// the model learns a threshold that encodes without a batch (``AutoencoderConfig/threshold``).
    case batchtopk
}

/// How the L1 penalty combines the samples of a batch.
package enum L1Reduction: String, Codable, Sendable, CaseIterable {
    /// `beta · Σ|h|` over every entry of the batch's code.
    case sum
    /// The same sum divided by the number of samples in the batch.
    case mean
}

/// The reconstruction term of the loss.
package enum ReconstructionLoss: String, Codable, Sendable, CaseIterable {
    /// Mean squared error over all `batch × inputSize` elements (torch `MSELoss`).
    case mse
    /// Binary cross-entropy on the decoder's logits, mean over elements
    /// (torch `BCEWithLogitsLoss`). Needs the sigmoid decoder activation.
    case bce
}

/// Which optimiser updates the parameters.
package enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    /// torch.optim.Adam (no AMSGrad).
    case adam
    /// torch.optim.SGD, with optional momentum, dampening and Nesterov.
    case sgd
}

/// The sparsity penalty and its hyper-parameters.
///
/// Only the fields of the chosen ``kind`` matter: `beta` and `reduction` for L1, `beta` and
/// `rho` for KL, `k` (and the AuxK fields) for top-k and batch top-k, `thresholdRate` for batch
/// top-k. Decoding fills missing keys with the initialiser's defaults.
///
/// AuxK (Gao et al., "Scaling and evaluating sparse autoencoders"): with `auxK > 0`, a latent
/// that has not fired (`h > 0`) for `deadAfterSamples` training samples counts as dead. Each
/// row's residual `e = x − x'` is then reconstructed from the `auxK` largest pre-activations of
/// the dead latents alone, `ê = act(z_dead) · W_dec` (no bias), and the loss gains
/// `auxCoefficient · Σ(e − ê)² / (B·D)`, the residual held constant. It sends gradient to dead
/// latents so they can revive.
///
/// The default `beta` of 1e-5 suits the `sum` reduction on inputs in [0, 1] at batch 64: on
/// Fashion-MNIST (784 → 128) it gives about 22 active latents per sample after three epochs.
package struct SparsityOptions: Codable, Sendable, Equatable {
    /// Which penalty applies.
    package var kind: SparsityKind
    /// Weight of the penalty in the total loss; must be finite and non-negative.
    package var beta: Float
    /// How L1 combines the batch's samples.
    package var reduction: L1Reduction
    /// Target mean activation for KL, in (0, 1).
    package var rho: Float
    /// Latents kept per sample for top-k (per batch, on average, for batch top-k), in
    /// `1...hiddenSize`.
    package var k: Int
    /// Dead latents the AuxK loss may use per sample, in `0...hiddenSize`; 0 turns AuxK off.
    package var auxK: Int
    /// Weight of the AuxK loss (α in the paper), finite and non-negative.
    package var auxCoefficient: Float
    /// Training samples without firing after which a latent counts as dead, at least 1.
    package var deadAfterSamples: Int
    /// Batch top-k's threshold update rate `r`, in (0, 1]: after each batch,
    /// `θ ← (1 − r)·θ + r·m`, `m` the smallest positive activation the batch kept (the first
    /// batch sets `θ = m`).
    package var thresholdRate: Float

    /// Options with the given fields; the defaults are L1 with sum reduction and AuxK off.
    package init(
        kind: SparsityKind = .l1,
        beta: Float = 1e-5,
        reduction: L1Reduction = .sum,
        rho: Float = 0.05,
        k: Int = 32,
        auxK: Int = 0,
        auxCoefficient: Float = 1.0 / 32,
        deadAfterSamples: Int = 10_000,
        thresholdRate: Float = 0.01
    ) {
        self.kind = kind
        self.beta = beta
        self.reduction = reduction
        self.rho = rho
        self.k = k
        self.auxK = auxK
        self.auxCoefficient = auxCoefficient
        self.deadAfterSamples = deadAfterSamples
        self.thresholdRate = thresholdRate
    }

    /// Whether the code keeps a fixed number of latents (top-k or batch top-k).
    package var isKSparse: Bool { kind == .topk || kind == .batchtopk }

    /// Whether the AuxK loss is on.
    package var hasAuxiliaryLoss: Bool { isKSparse && auxK > 0 }

    /// Decodes the keys present and takes the initialiser's defaults for the rest.
    package init(from decoder: any Decoder) throws {
        let defaults = SparsityOptions()
        let values = try decoder.container(keyedBy: CodingKeys.self)
        kind = try values.decodeIfPresent(SparsityKind.self, forKey: .kind) ?? defaults.kind
        beta = try values.decodeIfPresent(Float.self, forKey: .beta) ?? defaults.beta
        reduction =
            try values.decodeIfPresent(L1Reduction.self, forKey: .reduction) ?? defaults.reduction
        rho = try values.decodeIfPresent(Float.self, forKey: .rho) ?? defaults.rho
        k = try values.decodeIfPresent(Int.self, forKey: .k) ?? defaults.k
        auxK = try values.decodeIfPresent(Int.self, forKey: .auxK) ?? defaults.auxK
        auxCoefficient =
            try values.decodeIfPresent(Float.self, forKey: .auxCoefficient)
            ?? defaults.auxCoefficient
        deadAfterSamples =
            try values.decodeIfPresent(Int.self, forKey: .deadAfterSamples)
            ?? defaults.deadAfterSamples
        thresholdRate =
            try values.decodeIfPresent(Float.self, forKey: .thresholdRate) ?? defaults.thresholdRate
    }
}

/// How the trainer sets `b_dec` before the first step.
package enum DecoderBiasInit: String, Codable, Sendable, CaseIterable {
    /// `b_dec = 0`.
    case zero
    /// The per-feature mean of the (normalised) training set.
    case mean
    /// The geometric median of up to ``Trainer/geometricMedianSampleSize`` evenly spaced
    /// training rows: the point minimising the sum of Euclidean distances to them, found by
    /// Weiszfeld's iteration.
    case geometricMedian = "geometric_median"
}

/// The shape of the learning rate after warm-up.
package enum LearningRateDecay: String, Codable, Sendable, CaseIterable {
    /// The learning rate stays at `learningRate`.
    case constant
    /// Falls in a straight line to `decayEndFactor · learningRate`.
    case linear
    /// Follows half a cosine down to `decayEndFactor · learningRate`.
    case cosine
}

/// Everything the ``Trainer`` needs besides the model and the data.
///
/// The defaults are PyTorch's: Adam with lr 1e-3, betas (0.9, 0.999), eps 1e-8 and no weight
/// decay; SGD's momentum, dampening and Nesterov default to off; every later addition defaults
/// to off. Decoding fills missing keys with these defaults.
/// ``Trainer/init(model:options:training:validation:)`` checks the ranges.
///
/// One optimiser step `t` (1-based, counted over the whole run) does, in order:
/// 1. the loss `L_r + beta_t · L_s [+ AuxK] [+ l2Weights/2 · ||W||²]` and its gradient, with
///    `beta_t = beta · min(1, t / sparsityWarmupSteps)`;
/// 2. with `normalizesDecoderRows`, each row `w_j` of `W_dec` loses the gradient's component
///    along it: `g_j ← g_j − (g_j · w_j) w_j`;
/// 3. with `maxGradientNorm`, the whole gradient is scaled by `max / (‖g‖₂ + 1e-6)` when
///    `‖g‖₂ > max` (torch's `clip_grad_norm_`);
/// 4. the optimiser step at learning rate `lr_t` (see ``learningRate(atStep:stepsPerEpoch:)``);
/// 5. with `normalizesDecoderRows`, each row of `W_dec` is divided by its norm.
package struct TrainingOptions: Codable, Sendable, Equatable {
    /// Passes over the training set the caller intends to run (the trainer runs one per call).
    package var epochs: Int
    /// Samples per optimiser step; the last batch of an epoch may be smaller.
    package var batchSize: Int
    /// Step size for either optimiser, finite and non-negative.
    package var learningRate: Float
    /// Adam's first-moment decay, in [0, 1).
    package var beta1: Float
    /// Adam's second-moment decay, in [0, 1).
    package var beta2: Float
    /// Adam's denominator term, non-negative.
    package var epsilon: Float
    /// L2 penalty added to every gradient as `weightDecay · parameter` (torch semantics).
    package var weightDecay: Float
    /// Seeds the per-epoch shuffle.
    package var seed: UInt64
    /// Whether each epoch visits the samples in a fresh seeded order; `false` keeps file order.
    package var shuffle: Bool
    /// The sparsity penalty.
    package var sparsity: SparsityOptions
    /// The reconstruction term of the loss.
    package var reconstruction: ReconstructionLoss
    /// Which optimiser takes the steps.
    package var optimizer: OptimizerKind
    /// SGD momentum factor, non-negative.
    package var momentum: Float
    /// SGD dampening for momentum.
    package var dampening: Float
    /// SGD Nesterov momentum; needs `momentum > 0` and `dampening == 0`.
    package var nesterov: Bool
    /// How raw values become model inputs; nil picks `unit` for byte data, `none` for floats.
    package var normalization: NormalizationKind?
    /// How `b_dec` is set before training; nil keeps the model's.
    package var decoderBiasInit: DecoderBiasInit?
    /// Ng's weight decay `λ`: the loss gains `λ/2 · (‖W_enc‖² + ‖W_dec‖²)` (biases excluded,
    /// a tied matrix counted once) and the gradient `λ·W`. Finite, non-negative. Unlike
    /// `weightDecay`, which the optimiser adds to every parameter's gradient, this is part of the
    /// loss and reported in it.
    package var l2Weights: Float
    /// Steps over which the learning rate rises linearly from `learningRate / warmupSteps` to
    /// `learningRate`; 0 for none.
    package var warmupSteps: Int
    /// The learning rate's shape after warm-up.
    package var learningRateDecay: LearningRateDecay
    /// The fraction of `learningRate` that linear or cosine decay ends at, in [0, 1].
    package var decayEndFactor: Float
    /// Steps over which the sparsity weight `beta` rises linearly from `beta / steps` to
    /// `beta`; 0 for none.
    package var sparsityWarmupSteps: Int
    /// The largest global L2 norm of the gradient before it is scaled down; nil for no clipping.
    package var maxGradientNorm: Float?
    /// Keeps every row of `W_dec` at unit L2 norm: the gradient along each row is removed before
    /// the step and the rows are renormalised after it (and once before training).
    package var normalizesDecoderRows: Bool

    /// Options with the given fields; every default is PyTorch's where PyTorch has one.
    package init(
        epochs: Int = 10,
        batchSize: Int = 64,
        learningRate: Float = 1e-3,
        beta1: Float = 0.9,
        beta2: Float = 0.999,
        epsilon: Float = 1e-8,
        weightDecay: Float = 0,
        seed: UInt64 = 0,
        shuffle: Bool = true,
        sparsity: SparsityOptions = SparsityOptions(),
        reconstruction: ReconstructionLoss = .mse,
        optimizer: OptimizerKind = .adam,
        momentum: Float = 0,
        dampening: Float = 0,
        nesterov: Bool = false,
        normalization: NormalizationKind? = nil,
        decoderBiasInit: DecoderBiasInit? = nil,
        l2Weights: Float = 0,
        warmupSteps: Int = 0,
        learningRateDecay: LearningRateDecay = .constant,
        decayEndFactor: Float = 0,
        sparsityWarmupSteps: Int = 0,
        maxGradientNorm: Float? = nil,
        normalizesDecoderRows: Bool = false
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.seed = seed
        self.shuffle = shuffle
        self.sparsity = sparsity
        self.reconstruction = reconstruction
        self.optimizer = optimizer
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.normalization = normalization
        self.decoderBiasInit = decoderBiasInit
        self.l2Weights = l2Weights
        self.warmupSteps = warmupSteps
        self.learningRateDecay = learningRateDecay
        self.decayEndFactor = decayEndFactor
        self.sparsityWarmupSteps = sparsityWarmupSteps
        self.maxGradientNorm = maxGradientNorm
        self.normalizesDecoderRows = normalizesDecoderRows
    }

    /// Decodes the keys present and takes the initialiser's defaults for the rest.
    package init(from decoder: any Decoder) throws {
        let d = TrainingOptions()
        let values = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            try values.decodeIfPresent(T.self, forKey: key) ?? fallback
        }
        epochs = try value(.epochs, d.epochs)
        batchSize = try value(.batchSize, d.batchSize)
        learningRate = try value(.learningRate, d.learningRate)
        beta1 = try value(.beta1, d.beta1)
        beta2 = try value(.beta2, d.beta2)
        epsilon = try value(.epsilon, d.epsilon)
        weightDecay = try value(.weightDecay, d.weightDecay)
        seed = try value(.seed, d.seed)
        shuffle = try value(.shuffle, d.shuffle)
        sparsity = try value(.sparsity, d.sparsity)
        reconstruction = try value(.reconstruction, d.reconstruction)
        optimizer = try value(.optimizer, d.optimizer)
        momentum = try value(.momentum, d.momentum)
        dampening = try value(.dampening, d.dampening)
        nesterov = try value(.nesterov, d.nesterov)
        normalization = try values.decodeIfPresent(NormalizationKind.self, forKey: .normalization)
        decoderBiasInit = try values.decodeIfPresent(
            DecoderBiasInit.self, forKey: .decoderBiasInit)
        l2Weights = try value(.l2Weights, d.l2Weights)
        warmupSteps = try value(.warmupSteps, d.warmupSteps)
        learningRateDecay = try value(.learningRateDecay, d.learningRateDecay)
        decayEndFactor = try value(.decayEndFactor, d.decayEndFactor)
        sparsityWarmupSteps = try value(.sparsityWarmupSteps, d.sparsityWarmupSteps)
        maxGradientNorm = try values.decodeIfPresent(Float.self, forKey: .maxGradientNorm)
        normalizesDecoderRows = try value(.normalizesDecoderRows, d.normalizesDecoderRows)
    }
}

// MARK: - Schedules

extension TrainingOptions {
    /// The learning rate of 1-based optimiser step `t`, with `T = epochs · stepsPerEpoch` steps
    /// planned and `W = warmupSteps`:
    ///
    ///     t ≤ W:     lr · t / W
    ///     otherwise: lr · f(p),  p = clamp((t − W − 1) / max(1, T − W), 0, 1)
    ///     constant:  f = 1
    ///     linear:    f = 1 − (1 − e)·p
    ///     cosine:    f = e + (1 − e)·(1 + cos(π·p)) / 2,   e = decayEndFactor
    ///
    /// so the first step after warm-up runs at the full rate. Computed in `Double`.
    package func learningRate(atStep t: Int, stepsPerEpoch: Int) -> Float {
        let base = Double(learningRate)
        if warmupSteps > 0 && t <= warmupSteps {
            return Float(base * Double(t) / Double(warmupSteps))
        }
        if learningRateDecay == .constant { return learningRate }
        let total = epochs * stepsPerEpoch
        let progress = Double(t - warmupSteps - 1) / Double(max(1, total - warmupSteps))
        let p = min(max(progress, 0), 1)
        let end = Double(decayEndFactor)
        let factor: Double
        switch learningRateDecay {
        case .constant: factor = 1
        case .linear: factor = 1 - (1 - end) * p
        case .cosine: factor = end + (1 - end) * (1 + cos(Double.pi * p)) / 2
        }
        return Float(base * factor)
    }

    /// The sparsity weight of 1-based step `t`: `beta · min(1, t / sparsityWarmupSteps)`.
    package func sparsityBeta(atStep t: Int) -> Float {
        guard sparsityWarmupSteps > 0 && t < sparsityWarmupSteps else { return sparsity.beta }
        return Float(Double(sparsity.beta) * Double(t) / Double(sparsityWarmupSteps))
    }
}
