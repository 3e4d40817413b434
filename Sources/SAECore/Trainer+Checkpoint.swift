// Taking a checkpoint from a trainer and resuming a trainer from one, bit for bit.

extension Trainer {
    /// The trainer's complete state, to continue later exactly from here.
    ///
    /// Take it between calls to ``trainEpoch(shouldStop:onBatch:onProgress:)``, normally after
    /// an epoch ends. The first call hashes the training data once (about 20 ms per 50 MB).
    package func checkpoint() -> TrainingCheckpoint {
        TrainingCheckpoint(
            model: model, options: options, normalization: normalization, adam: adam, sgd: sgd,
            generator: generator.state, samplesSinceFired: samplesSinceFired,
            epochsCompleted: epochsCompleted, steps: steps, trainingRows: training.rows,
            trainingFingerprint: trainingFingerprint())
    }

    /// Continues training from `checkpoint`.
    ///
    /// The trainer takes the checkpoint's weights, threshold, optimiser state, generator,
    /// dead-latent counters, epochs, steps and normalisation; nothing is re-initialised. Given
    /// the same training data and `options` equal to the checkpoint's (only `epochs` may
    /// differ, which changes a decaying learning rate's schedule), the epochs that follow are
    /// bit-identical to those an uninterrupted trainer would have run, apart from timings.
    ///
    /// - Throws: ``TrainingError`` as ``init(model:options:training:validation:)`` does;
    ///   ``CheckpointError/mismatch(field:message:)`` when `options` differ from the
    ///   checkpoint's, the training set is not the one it was trained on (row count or content
    ///   hash), or its parts do not fit together.
    package convenience init(
        resuming checkpoint: TrainingCheckpoint,
        options: TrainingOptions,
        training: Dataset,
        validation: Dataset?
    ) throws {
        let config = checkpoint.model.config
        try options.validate(for: config)
        try Self.checkSameOptions(options, as: checkpoint.options)
        try Self.checkDatasets(training: training, validation: validation, model: config)
        if training.rows != checkpoint.trainingRows {
            throw CheckpointError.mismatch(
                field: "training",
                message: "the set has \(training.rows) rows but the checkpoint was trained on "
                    + "\(checkpoint.trainingRows)")
        }
        let fingerprint = training.fingerprint()
        if fingerprint != checkpoint.trainingFingerprint {
            throw CheckpointError.mismatch(
                field: "training",
                message: "the rows differ from those the checkpoint was trained on")
        }
        try Self.checkParts(of: checkpoint, options: options)

        self.init(
            config: config, flat: checkpoint.model.flatParameters(), options: options,
            training: training, validation: validation, normalization: checkpoint.normalization,
            trainingMoments: DataMoments(training, normalization: checkpoint.normalization),
            generator: SeededGenerator(state: checkpoint.generator))
        adam = checkpoint.adam
        sgd = checkpoint.sgd
        epochsCompleted = checkpoint.epochsCompleted
        steps = checkpoint.steps
        for (j, count) in checkpoint.samplesSinceFired.enumerated() { sinceFired[j] = count }
        cachedFingerprint = fingerprint
    }

    /// The training data's hash, computed once.
    func trainingFingerprint() -> UInt64 {
        if let cachedFingerprint { return cachedFingerprint }
        let fingerprint = training.fingerprint()
        cachedFingerprint = fingerprint
        return fingerprint
    }

    /// Throws naming the first stored option, other than `epochs`, that differs.
    private static func checkSameOptions(
        _ options: TrainingOptions,
        as saved: TrainingOptions
    ) throws {
        var (given, stored) = (options, saved)
        given.epochs = stored.epochs
        guard given != stored else { return }
        let differing = zip(Mirror(reflecting: given).children, Mirror(reflecting: stored).children)
            .first { "\($0.0.value)" != "\($0.1.value)" }
        let name = differing?.0.label ?? "options"
        throw CheckpointError.mismatch(
            field: "options.\(name)",
            message: "is \(differing.map { "\($0.0.value)" } ?? "different") but the checkpoint "
                + "was trained with \(differing.map { "\($0.1.value)" } ?? "other options")")
    }

    /// Checks that the checkpoint's state fits its model and the options' optimiser.
    private static func checkParts(of checkpoint: TrainingCheckpoint, options: TrainingOptions)
        throws
    {
        func mismatch(_ field: String, _ message: String) -> CheckpointError {
            .mismatch(field: field, message: message)
        }
        let config = checkpoint.model.config
        let count = ParameterLayout(config).count
        switch options.optimizer {
        case .adam:
            guard let adam = checkpoint.adam,
                adam.firstMoment.count == count && adam.secondMoment.count == count
            else { throw mismatch("adam", "the checkpoint holds no Adam state for \(count) values") }
        case .sgd:
            let bufferCount = options.momentum == 0 ? 0 : count
            guard let sgd = checkpoint.sgd, sgd.momentumBuffer.count == bufferCount else {
                throw mismatch("sgd", "the checkpoint holds no SGD state for \(count) values")
            }
        }
        if !checkpoint.normalization.fits(width: config.inputSize) {
            throw mismatch("normalization", "its statistics do not have \(config.inputSize) values")
        }
        if checkpoint.samplesSinceFired.count != config.hiddenSize {
            throw mismatch("samplesSinceFired", "must hold \(config.hiddenSize) counts")
        }
        let g = checkpoint.generator
        if g.s0 | g.s1 | g.s2 | g.s3 == 0 {
            throw mismatch("generator", "the state must not be all zero")
        }
    }
}

extension Dataset {
    /// A 64-bit hash of the shape, storage type and every stored value.
    ///
    /// Eight bytes at a time, each word folded in by a multiply-xorshift step. Not
    /// cryptographic: it tells a checkpoint's training set from a different one.
    package func fingerprint() -> UInt64 {
        var hash: UInt64 = 0x243F_6A88_85A3_08D3
        func mix(_ word: UInt64) {
            hash = (hash ^ word) &* 0x9E37_79B9_7F4A_7C15
            hash ^= hash >> 29
        }
        mix(UInt64(rows))
        mix(UInt64(width))
        func mixBytes(_ bytes: UnsafeRawBufferPointer) {
            let words = bytes.count / 8
            for i in 0..<words {
                mix(bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
            }
            var tail: UInt64 = 0
            for i in (words * 8)..<bytes.count {
                tail = tail << 8 | UInt64(bytes[i])
            }
            mix(tail ^ UInt64(bytes.count))
        }
        switch storage {
        case .bytes(let values):
            mix(1)
            values.withUnsafeBytes(mixBytes)
        case .floats(let values):
            mix(2)
            values.withUnsafeBytes(mixBytes)
        }
        return hash
    }
}
