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
/// `rho` for KL, `k` for top-k. Decoding fills missing keys with the initialiser's defaults.
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
    /// Latents kept per sample for top-k, in `1...hiddenSize`.
    package var k: Int

    /// Options with the given fields; the defaults are L1 with sum reduction.
    package init(
        kind: SparsityKind = .l1,
        beta: Float = 1e-5,
        reduction: L1Reduction = .sum,
        rho: Float = 0.05,
        k: Int = 32
    ) {
        self.kind = kind
        self.beta = beta
        self.reduction = reduction
        self.rho = rho
        self.k = k
    }

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
    }
}

/// Everything the ``Trainer`` needs besides the model and the data.
///
/// The defaults are PyTorch's: Adam with lr 1e-3, betas (0.9, 0.999), eps 1e-8 and no weight
/// decay; SGD's momentum, dampening and Nesterov default to off. Decoding fills missing keys
/// with these defaults. ``Trainer/init(model:options:training:validation:)`` checks the ranges.
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
        nesterov: Bool = false
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
    }
}
