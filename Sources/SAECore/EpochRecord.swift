/// What one epoch of training achieved, as the ``Trainer`` reports it.
///
/// Every field except ``seconds`` and ``samplesPerSecond`` is a pure function of the model,
/// the options (seed included) and the data: the same inputs give bit-identical records.
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
        steps: Int
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
    }
}
