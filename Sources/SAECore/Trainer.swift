/// Trains an ``Autoencoder`` on an in-memory ``Dataset``, one epoch per call.
///
/// Each epoch visits every training sample once, in a seeded shuffled order (or file order with
/// `shuffle: false`), in batches of `batchSize`; the last, smaller batch is trained too. Rows are
/// normalised as they are gathered (see ``normalization``). Each batch takes one optimiser step
/// as ``TrainingOptions`` describes. After the epoch the validation set, if any, is scored in
/// batches with the updated model, encoding the way inference does.
///
/// All buffers are allocated in the initialiser; an epoch allocates nothing per batch. Dense
/// matrix products go through OpenBLAS; with a k-sparse code the products with the code skip
/// its zeros. Given the same model, options and data, every epoch's record (apart from timings)
/// and the weights are bit-identical from run to run, and a trainer resumed from a
/// ``checkpoint()`` continues exactly as the original would have.
///
/// Epochs run with subnormal floats flushed to zero on the calling thread (see
/// `withSubnormalsFlushedToZero`); the thread's setting is restored when the call returns.
///
/// Not thread-safe: create it and call it from one thread or serial queue. Training the same
/// model from two threads needs two trainers.
package final class Trainer {
    /// The options this trainer was built with, as validated.
    package let options: TrainingOptions
    /// How gathered rows are normalised, fitted to the training set (or restored from a
    /// checkpoint). Store it beside the model and apply it to inputs at encode time.
    package let normalization: Normalization
    /// Epochs run to completion so far; a stopped epoch does not count.
    package internal(set) var epochsCompleted: Int = 0
    /// Optimiser steps taken so far, including those of a stopped epoch.
    package internal(set) var steps: Int = 0
    /// The Adam state when `options.optimizer` is `.adam`, for checkpoints.
    package internal(set) var adam: Adam?
    /// The SGD state when `options.optimizer` is `.sgd`, for checkpoints.
    package internal(set) var sgd: SGD?
    /// The shuffle generator's state; the next epoch's order is drawn from it.
    package var generatorState: SeededGenerator.State { generator.state }
    /// Optimiser steps in one epoch: `⌈training.rows / batchSize⌉`.
    package let stepsPerEpoch: Int

    /// The model's configuration; batch top-k updates its threshold after every step.
    var config: AutoencoderConfig
    let training: Dataset
    let validation: Dataset?
    let layout: ParameterLayout
    let workspace: TrainingWorkspace
    var generator: SeededGenerator
    /// `Σ‖x − mean‖²` and `Σ‖x‖²` of each normalised set, for FVU and normalised MSE.
    let trainingMoments: DataMoments
    let validationMoments: DataMoments?
    /// A hash of the training data, computed when first needed, for checkpoints.
    var cachedFingerprint: UInt64?

    // Owned buffers, allocated once. Legend: P = parameter count, C = batch capacity.
    /// P flat parameters in `ParameterLayout` order.
    let parameters: UnsafeMutableBufferPointer<Float>
    /// P gradients of the last batch.
    let gradients: UnsafeMutableBufferPointer<Float>
    /// C × inputSize gathered, normalised samples.
    let batch: UnsafeMutablePointer<Float>
    /// The epoch's visiting order, `training.rows` indices.
    let order: UnsafeMutablePointer<Int>
    /// C consecutive row indices for scoring the validation set.
    let validationRows: UnsafeMutablePointer<Int>
    /// Per latent: fired (`h > 0`) at least once this epoch.
    let hasFired: UnsafeMutablePointer<Bool>
    /// Per latent: fired in the current batch.
    let firedInBatch: UnsafeMutablePointer<Bool>
    /// Per latent: training samples since it last fired, counted in whole batches.
    let sinceFired: UnsafeMutablePointer<Int>
    /// Per latent: dead for AuxK (`sinceFired ≥ deadAfterSamples`) before the current batch.
    let isDead: UnsafeMutablePointer<Bool>

    var parameterBase: UnsafeMutablePointer<Float> {
        parameters.baseAddress!  // safe: allocated with a positive count
    }
    var gradientBase: UnsafeMutablePointer<Float> {
        gradients.baseAddress!  // safe: allocated with a positive count
    }

    /// The model as trained so far (a copy).
    ///
    /// With top-k sparsity its `config.topK` is `options.sparsity.k`; with batch top-k its
    /// `config.batchTopK` is `k` and `config.threshold` the learnt threshold (nil before the
    /// first step), so the saved model encodes the way it was trained.
    package var model: Autoencoder {
        Autoencoder(config: config, flat: UnsafeBufferPointer(parameters))
    }

    /// Per latent, the training samples since it last fired (whole batches).
    package var samplesSinceFired: [Int] {
        Array(UnsafeBufferPointer(start: sinceFired, count: config.hiddenSize))
    }

    /// Prepares to train `model` from where it stands.
    ///
    /// Before the first step the trainer fits ``normalization`` to the training set, sets
    /// `b_dec` as `options.decoderBiasInit` asks and, with `normalizesDecoderRows`, scales the
    /// rows of `W_dec` to unit norm; ``model`` shows the result even with `epochs: 0`. With
    /// `topk` the model's `topK` becomes `options.sparsity.k`; with `batchtopk` its `batchTopK`
    /// does (and `topK` is cleared). An empty validation set counts as none.
    ///
    /// Memory, with `C = min(batchSize, training.rows)`, `P` parameters, `H` latents:
    /// about `4·C·(4·inputSize + 4·H) + 16·P + 8·training.rows` bytes (more with batch top-k or
    /// AuxK), besides the datasets (which are shared, not copied).
    ///
    /// - Throws: ``TrainingError/invalidOption(field:message:)`` for options out of range or
    ///   contradicting the model (see ``TrainingOptions/validate(for:)``), an empty training
    ///   set, or `bce` with a normalised value outside [0, 1] in either set, and ``TrainingError/widthMismatch(dataset:expected:actual:)`` when a dataset's
    ///   width differs from `model.config.inputSize`.
    package convenience init(
        model: Autoencoder,
        options: TrainingOptions,
        training: Dataset,
        validation: Dataset?
    ) throws {
        var config = model.config
        switch options.sparsity.kind {
        case .topk:
            config.topK = options.sparsity.k
        case .batchtopk:
            config.topK = nil
            config.batchTopK = options.sparsity.k
        case .none, .l1, .kl:
            break
        }
        try options.validate(for: config)
        try Self.checkDatasets(training: training, validation: validation, model: config)

        training.adviseHugePages()
        let normalization = Normalization.fitted(options.normalization, to: training)
        if options.reconstruction == .bce {
            try Self.checkProbabilities(training, named: "training", normalization: normalization)
            if let validation {
                try Self.checkProbabilities(validation, named: "validation", normalization: normalization)
            }
        }
        let trainingMoments = DataMoments(training, normalization: normalization)
        var flat = model.flatParameters()
        Self.prepareParameters(
            &flat, config: config, options: options, training: training,
            normalization: normalization, moments: trainingMoments)
        self.init(
            config: config, flat: flat, options: options, training: training,
            validation: validation, normalization: normalization,
            trainingMoments: trainingMoments, generator: SeededGenerator(seed: options.seed))
        makeOptimizer()
    }

    /// The shared initialiser: takes ready parameters and allocates every buffer.
    init(
        config: AutoencoderConfig,
        flat: [Float],
        options: TrainingOptions,
        training: Dataset,
        validation: Dataset?,
        normalization: Normalization,
        trainingMoments: DataMoments,
        generator: SeededGenerator
    ) {
        self.config = config
        self.options = options
        self.training = training
        let validation = validation.flatMap { $0.rows > 0 ? $0 : nil }
        self.validation = validation
        self.normalization = normalization
        self.trainingMoments = trainingMoments
        self.validationMoments = validation.map { DataMoments($0, normalization: normalization) }
        self.layout = ParameterLayout(config)
        self.generator = generator
        let capacity = min(options.batchSize, training.rows)
        self.stepsPerEpoch = (training.rows + capacity - 1) / capacity
        self.workspace = TrainingWorkspace(
            config: config, objective: Objective(config: config, options: options),
            capacity: capacity)

        let hidden = config.hiddenSize
        parameters = .allocate(capacity: layout.count)
        _ = parameters.initialize(from: flat)
        gradients = .allocate(capacity: layout.count)
        gradients.initialize(repeating: 0)
        batch = .zeroed(capacity * config.inputSize)
        order = .allocate(capacity: training.rows)
        order.initialize(repeating: 0, count: training.rows)
        validationRows = .allocate(capacity: capacity)
        validationRows.initialize(repeating: 0, count: capacity)
        hasFired = .allocate(capacity: hidden)
        hasFired.initialize(repeating: false, count: hidden)
        firedInBatch = .allocate(capacity: hidden)
        firedInBatch.initialize(repeating: false, count: hidden)
        sinceFired = .allocate(capacity: hidden)
        sinceFired.initialize(repeating: 0, count: hidden)
        isDead = .allocate(capacity: hidden)
        isDead.initialize(repeating: false, count: hidden)
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
        batch.deallocate()
        order.deallocate()
        validationRows.deallocate()
        hasFired.deallocate()
        firedInBatch.deallocate()
        sinceFired.deallocate()
        isDead.deallocate()
    }

    /// Runs one epoch over the training set, then scores the validation set.
    ///
    /// - Parameters:
    ///   - shouldStop: asked before every batch; returning true abandons the epoch. Steps
    ///     already taken stay applied, ``epochsCompleted`` does not advance, and the shuffle
    ///     drawn for the abandoned epoch is not reused.
    ///   - onBatch: called after each batch with the batches done and the epoch's total.
    ///   - onProgress: called after each batch (after `onBatch`) with the same counts, the
    ///     batch's loss and the step's learning rate.
    /// - Returns: the epoch's record, or nil if `shouldStop` stopped it.
    /// - Throws: ``TrainingError/nonFinite(epoch:step:what:)`` when a batch's loss is NaN or
    ///   infinite; that batch's step is not applied.
    package func trainEpoch(
        shouldStop: () -> Bool = { false },
        onBatch: ((_ done: Int, _ total: Int) -> Void)? = nil,
        onProgress: ((BatchProgress) -> Void)? = nil
    ) throws -> EpochRecord? {
        try withSubnormalsFlushedToZero {
            try runEpoch(shouldStop: shouldStop, onBatch: onBatch, onProgress: onProgress)
        }
    }

    private func runEpoch(
        shouldStop: () -> Bool,
        onBatch: ((_ done: Int, _ total: Int) -> Void)?,
        onProgress: ((BatchProgress) -> Void)?
    ) throws -> EpochRecord? {
        let clock = ContinuousClock()
        let started = clock.now
        let epoch = epochsCompleted + 1
        let rows = training.rows
        let capacity = workspace.capacity
        drawOrder()
        hasFired.update(repeating: false, count: config.hiddenSize)

        var sums = BatchSums()
        for index in 0..<stepsPerEpoch {
            if shouldStop() { return nil }
            let first = index * capacity
            let count = min(capacity, rows - first)
            let rowIndices = UnsafeBufferPointer(start: order + first, count: count)
            gatherBatch(rows: rowIndices)

            let (parts, learningRate) = try trainBatch(rows: count, epoch: epoch)
            sums.add(parts, activeCount: recordFiring(rows: count))
            onBatch?(index + 1, stepsPerEpoch)
            onProgress?(
                BatchProgress(
                    done: index + 1, total: stepsPerEpoch, loss: parts.total,
                    reconstruction: parts.reconstruction, step: steps,
                    learningRate: learningRate))
            sums.learningRate = learningRate
        }

        let scores = scoreValidation()
        epochsCompleted = epoch
        let seconds = (clock.now - started).seconds
        return makeRecord(epoch: epoch, sums: sums, validation: scores, seconds: seconds)
    }
}

/// How far an epoch has got, reported after each batch.
package struct BatchProgress: Sendable, Equatable {
    /// Batches done in this epoch, 1-based.
    package var done: Int
    /// Batches in the epoch.
    package var total: Int
    /// The batch's total loss (as ``LossParts/total``), before its step.
    package var loss: Double
    /// The batch's reconstruction loss.
    package var reconstruction: Double
    /// Optimiser steps taken so far, this batch's included.
    package var step: Int
    /// The learning rate this batch's step used.
    package var learningRate: Float

    /// A progress report with every field given.
    package init(
        done: Int, total: Int, loss: Double, reconstruction: Double, step: Int,
        learningRate: Float
    ) {
        self.done = done
        self.total = total
        self.loss = loss
        self.reconstruction = reconstruction
        self.step = step
        self.learningRate = learningRate
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    fileprivate var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
