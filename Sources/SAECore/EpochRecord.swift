/// What one epoch of training achieved, as the ``Trainer`` reports it.
///
/// Every field except ``seconds`` and ``samplesPerSecond`` is a pure function of the model,
/// the options (seed included) and the data: the same inputs give bit-identical records.
///
/// The variance metrics compare the squared error `SSE = Σ_rows ‖x − x'‖²` (with `x` the
/// normalised input and `x'` the decoder's output, `σ(logits)` for BCE) against two baselines
/// of the same set: the fraction of variance unexplained `FVU = SSE / Σ_rows ‖x − x̄‖²`, `x̄` the
/// set's per-feature mean (1 means no better than predicting the mean), and the normalised MSE
/// `NMSE = SSE / Σ_rows ‖x‖²` (1 means no better than predicting zero). For the training set
/// the SSE is summed over the epoch's batches as each was seen, before its step.
///
/// Fields added after the first release are optional, so records stored before them decode.
package struct EpochRecord: Codable, Sendable, Equatable {
    /// 1-based epoch number.
    package var epoch: Int
    /// Mean over the epoch's batches of the total loss (reconstruction + weighted sparsity).
    package var loss: Double
    /// Mean over batches of the reconstruction loss (MSE or BCE, as trained).
    package var reconstruction: Double
    /// Mean over batches of the weighted sparsity term `beta · L_s` (0 for none and top-k).
    package var sparsity: Double
    /// Mean number of non-zero code entries per training sample, as seen while training.
    package var l0: Double
    /// Fraction of latents that never fired (`h > 0`) on any training sample of the epoch.
    package var deadFraction: Double
    /// Number of latents that never fired; `deadFraction × hiddenSize`.
    package var deadCount: Int
    /// Element-mean MSE of the reconstructions of the validation set after the epoch,
    /// or nil without a validation set.
    package var validationReconstruction: Double?
    /// Mean non-zero code entries per validation sample, or nil without a validation set.
    package var validationL0: Double?
    /// Wall-clock seconds for the whole epoch, validation included.
    package var seconds: Double
    /// Training samples divided by ``seconds``.
    package var samplesPerSecond: Double
    /// Optimiser steps taken in total, over all epochs so far.
    package var steps: Int
    /// Training FVU over the epoch, `SSE / Σ‖x − x̄‖²`; nil when the set has no variance.
    package var fvu: Double?
    /// Training normalised MSE over the epoch, `SSE / Σ‖x‖²`; nil when the set is all zero.
    package var normalizedMSE: Double?
    /// Mean over batches of the weighted AuxK term; nil when AuxK is off.
    package var auxiliaryLoss: Double?
    /// Mean over batches of Ng's weight decay `l2Weights/2 · ‖W‖²`; nil when it is off.
    package var weightPenalty: Double?
    /// The learning rate of the epoch's last step.
    package var learningRate: Double?
    /// Mean over validation batches (of the training batch size, in file order) of
    /// reconstruction + weighted sparsity + weight penalty, as ``loss`` without AuxK, encoded
    /// as inference does; nil without a validation set.
    package var validationLoss: Double?
    /// FVU of the validation set after the epoch, against its own mean; nil without one.
    package var validationFVU: Double?
    /// Normalised MSE of the validation set after the epoch; nil without one.
    package var validationNormalizedMSE: Double?
    /// Mean over validation batches of the weighted sparsity term, as ``sparsity`` for the
    /// training set; nil without a validation set.
    package var validationSparsity: Double?
    /// Fraction of latents that did not fire (`h > 0`) on any validation sample after the
    /// epoch, encoding as inference does; nil without a validation set.
    package var validationDeadFraction: Double?
    /// Number of latents that did not fire on any validation sample; nil without one.
    package var validationDeadCount: Int?

    /// The coding keys: the property names, except that acronyms are spelt as words
    /// (`normalizedMse`, `validationFvu`), so a snake_case round trip (`normalized_mse`) that
    /// capitalises each word finds them again.
    enum CodingKeys: String, CodingKey {
        case epoch, loss, reconstruction, sparsity, l0, deadFraction, deadCount
        case validationReconstruction, validationL0, seconds, samplesPerSecond, steps
        case fvu
        case normalizedMSE = "normalizedMse"
        case auxiliaryLoss, weightPenalty, learningRate, validationLoss
        case validationFVU = "validationFvu"
        case validationNormalizedMSE = "validationNormalizedMse"
        case validationSparsity, validationDeadFraction, validationDeadCount
    }

    /// A record with every field given.
    package init(
        epoch: Int,
        loss: Double,
        reconstruction: Double,
        sparsity: Double,
        l0: Double,
        deadFraction: Double,
        deadCount: Int,
        validationReconstruction: Double?,
        validationL0: Double?,
        seconds: Double,
        samplesPerSecond: Double,
        steps: Int,
        fvu: Double? = nil,
        normalizedMSE: Double? = nil,
        auxiliaryLoss: Double? = nil,
        weightPenalty: Double? = nil,
        learningRate: Double? = nil,
        validationLoss: Double? = nil,
        validationFVU: Double? = nil,
        validationNormalizedMSE: Double? = nil
    ) {
        self.epoch = epoch
        self.loss = loss
        self.reconstruction = reconstruction
        self.sparsity = sparsity
        self.l0 = l0
        self.deadFraction = deadFraction
        self.deadCount = deadCount
        self.validationReconstruction = validationReconstruction
        self.validationL0 = validationL0
        self.seconds = seconds
        self.samplesPerSecond = samplesPerSecond
        self.steps = steps
        self.fvu = fvu
        self.normalizedMSE = normalizedMSE
        self.auxiliaryLoss = auxiliaryLoss
        self.weightPenalty = weightPenalty
        self.learningRate = learningRate
        self.validationLoss = validationLoss
        self.validationFVU = validationFVU
        self.validationNormalizedMSE = validationNormalizedMSE
    }
}
