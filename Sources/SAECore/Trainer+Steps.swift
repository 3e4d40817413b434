// The steps of an epoch: one batch's optimiser step, the firing statistics, the validation
// pass and the epoch's record.
//
// Legend: B = rows in the batch, D = inputSize, H = hiddenSize, P = parameter count.

extension Trainer {
    /// Running sums of per-batch figures over an epoch.
    struct BatchSums {
        var total = 0.0
        var reconstruction = 0.0
        var sparsity = 0.0
        var auxiliary = 0.0
        var weightPenalty = 0.0
        var squaredError = 0.0
        var activeCount = 0
        /// The learning rate of the epoch's last step.
        var learningRate: Float = 0

        mutating func add(_ parts: LossParts, activeCount: Int) {
            total += parts.total
            reconstruction += parts.reconstruction
            sparsity += parts.sparsity
            auxiliary += parts.auxiliary
            weightPenalty += parts.weightPenalty
            squaredError += parts.squaredError
            self.activeCount += activeCount
        }
    }

    static func checkDatasets(
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

    func makeOptimizer() {
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
    func drawOrder() {
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

    /// Copies the training rows named by `indices` into ``batch``, normalised.
    ///
    /// From ``splitGatherMinimum`` values the rows are cut in four parts shared by both cores
    /// (``SplitWorker``); each row is copied the same way either way.
    func gatherBatch(rows indices: UnsafeBufferPointer<Int>) {
        let count = indices.count
        let width = training.width
        guard count >= 4, count * width >= Self.splitGatherMinimum else {
            training.gather(rows: indices, into: batch, normalization: normalization)
            return
        }
        SplitWorker.run(parts: 4) { part in
            let range = SplitWorker.range(of: part, in: 4, covering: count)
            training.gather(
                rows: UnsafeBufferPointer(rebasing: indices[range]),
                into: batch + range.lowerBound * width, normalization: normalization)
        }
    }

    /// The fewest values in a batch for which gathering is split across two cores.
    static let splitGatherMinimum = 16_384

    /// Computes the loss and gradient of the gathered batch and takes one optimiser step.
    ///
    /// Returns the batch's loss terms and the learning rate used. Throws, without stepping,
    /// when the loss is not finite.
    func trainBatch(rows: Int, epoch: Int) throws -> (LossParts, Float) {
        let step = steps + 1
        let hasAuxiliary = options.sparsity.hasAuxiliaryLoss
        if hasAuxiliary {
            let limit = options.sparsity.deadAfterSamples
            for j in 0..<config.hiddenSize { isDead[j] = sinceFired[j] >= limit }
        }
        let parts = workspace.lossAndGradients(
            x: batch, rows: rows, parameters: UnsafePointer(parameterBase),
            gradients: gradientBase, sparsityBeta: options.sparsityBeta(atStep: step),
            deadLatents: hasAuxiliary ? UnsafePointer(isDead) : nil)
        try checkFinite(parts, epoch: epoch)

        if let maxNorm = options.maxGradientNorm { clipGradients(to: maxNorm) }
        let learningRate = options.learningRate(atStep: step, stepsPerEpoch: stepsPerEpoch)
        takeStep(learningRate: learningRate)
        if options.normalizesDecoderRows {
            TrainingWorkspace.normalizeRows(
                parameterBase + layout.wDec.lowerBound, rows: config.hiddenSize,
                width: config.inputSize)
        }
        if options.sparsity.kind == .batchtopk, let smallest = workspace.smallestKeptActivation {
            let rate = options.sparsity.thresholdRate
            config.threshold = config.threshold.map { (1 - rate) * $0 + rate * smallest } ?? smallest
        }
        return (parts, learningRate)
    }

    private func checkFinite(_ parts: LossParts, epoch: Int) throws {
        guard !parts.total.isFinite else { return }
        let what =
            if !parts.reconstruction.isFinite { "reconstruction loss" }
            else if !parts.sparsity.isFinite { "sparsity penalty" }
            else if !parts.auxiliary.isFinite { "auxiliary loss" }
            else { "weight penalty" }
        throw TrainingError.nonFinite(epoch: epoch, step: steps + 1, what: what)
    }

    /// Scales the gradient by `maxNorm / (‖g‖₂ + 1e-6)` when `‖g‖₂ > maxNorm`, as torch's
    /// `clip_grad_norm_` does (the norm summed in `Double`).
    private func clipGradients(to maxNorm: Float) {
        var squares = 0.0
        for g in gradients {
            squares += Double(g) * Double(g)
        }
        let norm = squares.squareRoot()
        guard norm > Double(maxNorm) else { return }
        let scale = Float(Double(maxNorm) / (norm + 1e-6))
        for i in gradients.indices {
            gradients[i] *= scale
        }
    }

    private func takeStep(learningRate: Float) {
        let gradients = UnsafeBufferPointer(self.gradients)
        adam?.learningRate = learningRate
        adam?.update(parameters, gradients: gradients)
        sgd?.learningRate = learningRate
        sgd?.update(parameters, gradients: gradients)
        steps += 1
    }

    /// Counts the non-zero entries of the batch's code, marks the latents that fired
    /// (`h > 0`) and advances the samples-since-fired counters.
    func recordFiring(rows: Int) -> Int {
        let hiddenSize = config.hiddenSize
        firedInBatch.update(repeating: false, count: hiddenSize)
        let active = workspace.countActive(rows: rows, fired: firedInBatch)
        for j in 0..<hiddenSize {
            if firedInBatch[j] {
                hasFired[j] = true
                sinceFired[j] = 0
            } else {
                sinceFired[j] += rows
            }
        }
        return active
    }

    /// Validation figures after an epoch.
    struct ValidationScores {
        var loss: Double
        var reconstruction: Double
        /// Mean over validation batches of the weighted sparsity term `beta · L_s`.
        var sparsity: Double
        var l0: Double
        /// Latents that were not positive for any validation row.
        var deadCount: Int
        var squaredError: Double
    }

    /// Scores the validation set under the current parameters, in batches in file order,
    /// encoding as inference does.
    func scoreValidation() -> ValidationScores? {
        guard let validation else { return nil }
        let capacity = workspace.capacity
        let width = config.inputSize
        let beta = options.sparsityBeta(atStep: max(steps, 1))
        var squaredError = 0.0
        var loss = 0.0
        var sparsity = 0.0
        var active = 0
        var batches = 0
        // `firedInBatch` is scratch between epochs: here it marks latents that fire on the set.
        let hidden = config.hiddenSize
        firedInBatch.update(repeating: false, count: hidden)
        for first in stride(from: 0, to: validation.rows, by: capacity) {
            let count = min(capacity, validation.rows - first)
            for i in 0..<count { validationRows[i] = first + i }
            validation.gather(
                rows: UnsafeBufferPointer(start: validationRows, count: count), into: batch,
                normalization: normalization)
            let parts = workspace.evaluate(
                x: batch, rows: count, parameters: UnsafePointer(parameterBase),
                selection: config.inferenceSelection, sparsityBeta: beta)
            squaredError += parts.squaredError
            loss += parts.total
            sparsity += parts.sparsity
            batches += 1
            for i in 0..<count * hidden where workspace.code[i] != 0 {
                active += 1
                if workspace.code[i] > 0 { firedInBatch[i % hidden] = true }
            }
        }
        let rows = Double(validation.rows)
        let dead = (0..<hidden).count(where: { !firedInBatch[$0] })
        return ValidationScores(
            loss: loss / Double(batches), reconstruction: squaredError / (rows * Double(width)),
            sparsity: sparsity / Double(batches), l0: Double(active) / rows, deadCount: dead,
            squaredError: squaredError)
    }

    func makeRecord(
        epoch: Int,
        sums: BatchSums,
        validation scores: ValidationScores?,
        seconds: Double
    ) -> EpochRecord {
        let rows = training.rows
        let batches = Double(stepsPerEpoch)
        let dead = (0..<config.hiddenSize).count(where: { !hasFired[$0] })
        var record = EpochRecord(
            epoch: epoch, loss: sums.total / batches,
            reconstruction: sums.reconstruction / batches, sparsity: sums.sparsity / batches,
            l0: Double(sums.activeCount) / Double(rows),
            deadFraction: Double(dead) / Double(config.hiddenSize), deadCount: dead,
            validationReconstruction: scores?.reconstruction, validationL0: scores?.l0,
            seconds: seconds, samplesPerSecond: seconds > 0 ? Double(rows) / seconds : 0,
            steps: steps)
        record.fvu = trainingMoments.fractionOfVarianceUnexplained(sums.squaredError)
        record.normalizedMSE = trainingMoments.normalizedSquaredError(sums.squaredError)
        record.auxiliaryLoss = options.sparsity.hasAuxiliaryLoss ? sums.auxiliary / batches : nil
        record.weightPenalty = options.l2Weights > 0 ? sums.weightPenalty / batches : nil
        record.learningRate = Double(sums.learningRate)
        if let scores, let moments = validationMoments {
            record.validationLoss = scores.loss
            record.validationSparsity = scores.sparsity
            record.validationDeadCount = scores.deadCount
            record.validationDeadFraction = Double(scores.deadCount) / Double(config.hiddenSize)
            record.validationFVU = moments.fractionOfVarianceUnexplained(scores.squaredError)
            record.validationNormalizedMSE = moments.normalizedSquaredError(scores.squaredError)
        }
        return record
    }
}
