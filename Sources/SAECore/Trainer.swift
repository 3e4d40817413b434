/// Trains an ``Autoencoder`` on an in-memory ``Dataset``, one epoch per call.
///
/// Each epoch visits every training sample once, in a seeded shuffled order (or file order with
/// `shuffle: false`), in batches of `batchSize`; the last, smaller batch is trained too. Each
/// batch takes one optimiser step on `reconstruction + beta · sparsity`. After the epoch the
/// validation set, if any, is scored in batches with the updated model.
///
/// All buffers are allocated in the initialiser; an epoch allocates nothing per batch. Every
/// matrix product goes through OpenBLAS. Given the same model, options and data, every epoch's
/// record (apart from timings) and the weights are bit-identical from run to run.
///
/// Epochs run with subnormal floats flushed to zero on the calling thread (see
/// `withSubnormalsFlushedToZero`); the thread's setting is restored when the call returns.
///
/// Not thread-safe: create it and call it from one thread or serial queue. Training the same
/// model from two threads needs two trainers.
package final class Trainer {
    /// The options this trainer was built with, as validated.
    package let options: TrainingOptions
    /// Epochs run to completion so far; a stopped epoch does not count.
    package private(set) var epochsCompleted: Int = 0
    /// Optimiser steps taken so far, including those of a stopped epoch.
    package private(set) var steps: Int = 0
    /// The Adam state when `options.optimizer` is `.adam`, for checkpoints.
    package private(set) var adam: Adam?
    /// The SGD state when `options.optimizer` is `.sgd`, for checkpoints.
    package private(set) var sgd: SGD?
    /// The shuffle generator's state; the next epoch's order is drawn from it.
    package var generatorState: SeededGenerator.State { generator.state }

    private let config: AutoencoderConfig
    private let training: Dataset
    private let validation: Dataset?
    private let layout: ParameterLayout
    private let workspace: TrainingWorkspace
    private var generator: SeededGenerator

    // Owned buffers, allocated once. Legend: P = parameter count, C = batch capacity.
    /// P flat parameters in `ParameterLayout` order.
    private let parameters: UnsafeMutableBufferPointer<Float>
    /// P gradients of the last batch.
    private let gradients: UnsafeMutableBufferPointer<Float>
    /// C × inputSize gathered samples.
    private let batch: UnsafeMutablePointer<Float>
    /// The epoch's visiting order, `training.rows` indices.
    private let order: UnsafeMutablePointer<Int>
    /// C consecutive row indices for scoring the validation set.
    private let validationRows: UnsafeMutablePointer<Int>
    /// Per latent: fired (`h > 0`) at least once this epoch.
    private let hasFired: UnsafeMutablePointer<Bool>

    private var parameterBase: UnsafeMutablePointer<Float> {
        parameters.baseAddress!  // safe: allocated with a positive count
    }
    private var gradientBase: UnsafeMutablePointer<Float> {
        gradients.baseAddress!  // safe: allocated with a positive count
    }

    /// The model as trained so far (a copy).
    ///
    /// With top-k sparsity its `config.topK` is `options.sparsity.k`, so the saved model
    /// encodes the way it was trained.
    package var model: Autoencoder {
        Autoencoder(config: config, flat: UnsafeBufferPointer(parameters))
    }

    /// Prepares to train `model` from where it stands.
    ///
    /// With `options.sparsity.kind == .topk`, the trained model's `topK` becomes
    /// `options.sparsity.k`. An empty validation set counts as none.
    ///
    /// Memory, with `C = min(batchSize, training.rows)` and `P` parameters: about
    /// `4·C·(3·inputSize + 3·hiddenSize) + 16·P + 8·training.rows` bytes, besides the datasets
    /// (which are shared, not copied).
    ///
    /// - Throws: ``TrainingError/invalidOption(field:message:)`` for options out of range or
    ///   contradicting the model (see ``TrainingOptions/validate(for:)``) or an empty training
    ///   set, and ``TrainingError/widthMismatch(dataset:expected:actual:)`` when a dataset's
    ///   width differs from `model.config.inputSize`.
    package init(
        model: Autoencoder,
        options: TrainingOptions,
        training: Dataset,
        validation: Dataset?
    ) throws {
        try options.validate(for: model.config)
        try Self.checkDatasets(training: training, validation: validation, model: model.config)

        var config = model.config
        if options.sparsity.kind == .topk { config.topK = options.sparsity.k }
        self.config = config
        self.options = options
        self.training = training
        self.validation = validation.flatMap { $0.rows > 0 ? $0 : nil }
        self.layout = ParameterLayout(config)
        self.generator = SeededGenerator(seed: options.seed)
        let capacity = min(options.batchSize, training.rows)
        self.workspace = TrainingWorkspace(
            config: config, objective: Objective(config: config, options: options),
            capacity: capacity)

        parameters = .allocate(capacity: layout.count)
        _ = parameters.initialize(from: model.flatParameters())
        gradients = .allocate(capacity: layout.count)
        gradients.initialize(repeating: 0)
        batch = .allocate(capacity: capacity * config.inputSize)
        batch.initialize(repeating: 0, count: capacity * config.inputSize)
        order = .allocate(capacity: training.rows)
        order.initialize(repeating: 0, count: training.rows)
        validationRows = .allocate(capacity: capacity)
        validationRows.initialize(repeating: 0, count: capacity)
        hasFired = .allocate(capacity: config.hiddenSize)
        hasFired.initialize(repeating: false, count: config.hiddenSize)
        makeOptimizer()
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
        batch.deallocate()
        order.deallocate()
        validationRows.deallocate()
        hasFired.deallocate()
    }

    /// Runs one epoch over the training set, then scores the validation set.
    ///
    /// - Parameters:
    ///   - shouldStop: asked before every batch; returning true abandons the epoch. Steps
    ///     already taken stay applied, ``epochsCompleted`` does not advance, and the shuffle
    ///     drawn for the abandoned epoch is not reused.
    ///   - onBatch: called after each batch with the batches done and the epoch's total.
    /// - Returns: the epoch's record, or nil if `shouldStop` stopped it.
    /// - Throws: ``TrainingError/nonFinite(epoch:step:what:)`` when a batch's loss is NaN or
    ///   infinite; that batch's step is not applied.
    package func trainEpoch(
        shouldStop: () -> Bool = { false },
        onBatch: ((_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> EpochRecord? {
        try withSubnormalsFlushedToZero {
            try runEpoch(shouldStop: shouldStop, onBatch: onBatch)
        }
    }

    private func runEpoch(
        shouldStop: () -> Bool,
        onBatch: ((_ done: Int, _ total: Int) -> Void)?
    ) throws -> EpochRecord? {
        let clock = ContinuousClock()
        let started = clock.now
        let epoch = epochsCompleted + 1
        let rows = training.rows
        let capacity = workspace.capacity
        let batchCount = (rows + capacity - 1) / capacity
        drawOrder()
        hasFired.update(repeating: false, count: config.hiddenSize)

        var sums = BatchSums()
        for index in 0..<batchCount {
            if shouldStop() { return nil }
            let first = index * capacity
            let count = min(capacity, rows - first)
            let rowIndices = UnsafeBufferPointer(start: order + first, count: count)
            training.gather(rows: rowIndices, into: batch)

            let parts = workspace.lossAndGradients(
                x: batch, rows: count, parameters: UnsafePointer(parameterBase),
                gradients: gradientBase)
            try checkFinite(parts, epoch: epoch)
            takeStep()
            sums.add(parts, activeCount: countActive(rows: count))
            onBatch?(index + 1, batchCount)
        }

        let scores = scoreValidation()
        epochsCompleted = epoch
        let seconds = (clock.now - started).seconds
        let dead = (0..<config.hiddenSize).count(where: { !hasFired[$0] })
        let batches = Double(batchCount)
        return EpochRecord(
            epoch: epoch, loss: sums.total / batches,
            reconstruction: sums.reconstruction / batches, sparsity: sums.sparsity / batches,
            l0: Double(sums.activeCount) / Double(rows),
            deadFraction: Double(dead) / Double(config.hiddenSize), deadCount: dead,
            validationReconstruction: scores?.reconstruction, validationL0: scores?.l0,
            seconds: seconds, samplesPerSecond: seconds > 0 ? Double(rows) / seconds : 0,
            steps: steps)
    }
}

// MARK: - Steps of an epoch

extension Trainer {
    /// Running sums of per-batch figures over an epoch.
    private struct BatchSums {
        var total = 0.0
        var reconstruction = 0.0
        var sparsity = 0.0
        var activeCount = 0

        mutating func add(_ parts: LossParts, activeCount: Int) {
            total += parts.total
            reconstruction += parts.reconstruction
            sparsity += parts.sparsity
            self.activeCount += activeCount
        }
    }

    private static func checkDatasets(
        training: Dataset,
        validation: Dataset?,
        model config: AutoencoderConfig
    ) throws {
        if training.rows < 1 {
            throw TrainingError.invalidOption(field: "training", message: "the set has no rows")
        }
        if training.width != config.inputSize {
            throw TrainingError.widthMismatch(
                dataset: "training", expected: config.inputSize, actual: training.width)
        }
        if let validation, validation.width != config.inputSize {
            throw TrainingError.widthMismatch(
                dataset: "validation", expected: config.inputSize, actual: validation.width)
        }
    }

    private func makeOptimizer() {
        switch options.optimizer {
        case .adam:
            adam = Adam(
                parameterCount: layout.count, learningRate: options.learningRate,
                beta1: options.beta1, beta2: options.beta2, epsilon: options.epsilon,
                weightDecay: options.weightDecay)
        case .sgd:
            sgd = SGD(
                parameterCount: layout.count, learningRate: options.learningRate,
                momentum: options.momentum, dampening: options.dampening,
                weightDecay: options.weightDecay, isNesterov: options.nesterov)
        }
    }

    /// Fills ``order`` with `0..<rows`, shuffled by Fisher–Yates when `options.shuffle` is set.
    ///
    /// Starting each epoch from the identity makes the order depend only on the generator's
    /// state, so a checkpointed state reproduces it.
    private func drawOrder() {
        let rows = training.rows
        for i in 0..<rows { order[i] = i }
        guard options.shuffle else { return }
        for i in stride(from: rows - 1, through: 1, by: -1) {
            let j = generator.nextIndex(below: i + 1)
            let held = order[i]
            order[i] = order[j]
            order[j] = held
        }
    }

    private func checkFinite(_ parts: LossParts, epoch: Int) throws {
        guard !parts.total.isFinite else { return }
        let what = parts.reconstruction.isFinite ? "sparsity penalty" : "reconstruction loss"
        throw TrainingError.nonFinite(epoch: epoch, step: steps + 1, what: what)
    }

    private func takeStep() {
        let gradients = UnsafeBufferPointer(self.gradients)
        adam?.update(parameters, gradients: gradients)
        sgd?.update(parameters, gradients: gradients)
        steps += 1
    }

    /// Counts the non-zero entries of the batch's code and marks the latents that fired.
    private func countActive(rows: Int) -> Int {
        let hiddenSize = config.hiddenSize
        let code = workspace.code
        var active = 0
        for row in 0..<rows {
            let h = code + row * hiddenSize
            for j in 0..<hiddenSize {
                if h[j] != 0 { active += 1 }
                if h[j] > 0 { hasFired[j] = true }
            }
        }
        return active
    }

    /// Element-mean MSE and mean L0 of the validation set under the current parameters.
    private func scoreValidation() -> (reconstruction: Double, l0: Double)? {
        guard let validation else { return nil }
        let capacity = workspace.capacity
        let width = config.inputSize
        var squaredError = 0.0
        var active = 0
        for first in stride(from: 0, to: validation.rows, by: capacity) {
            let count = min(capacity, validation.rows - first)
            for i in 0..<count { validationRows[i] = first + i }
            validation.gather(
                rows: UnsafeBufferPointer(start: validationRows, count: count), into: batch)
            workspace.forward(x: batch, rows: count, parameters: UnsafePointer(parameterBase))

            let output = workspace.output
            for i in 0..<count * width {
                let difference = output[i] - batch[i]
                squaredError += Double(difference * difference)
            }
            for i in 0..<count * config.hiddenSize where workspace.code[i] != 0 {
                active += 1
            }
        }
        let rows = Double(validation.rows)
        return (squaredError / (rows * Double(width)), Double(active) / rows)
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    fileprivate var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
