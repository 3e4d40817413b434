import Foundation
import SAECore
import Testing

/// Stopping after epoch e, saving a checkpoint to a file, reading it back and resuming must
/// give bit-identical records (timings aside) and weights to never stopping.
struct TrainerCheckpointTests {
    /// A recipe that exercises every piece of state a checkpoint must carry.
    struct Recipe: Sendable, CustomTestStringConvertible {
        var name: String
        var config: AutoencoderConfig
        var options: TrainingOptions
        var usesBytes: Bool

        var testDescription: String { name }
    }

    static let recipes: [Recipe] = [
        Recipe(
            name: "batchtopk+auxk, tied, unit-norm, −b_dec, standardize, median, cosine, clip",
            config: AutoencoderConfig(
                inputSize: 16, hiddenSize: 24, activation: .relu, decoderActivation: .identity,
                hasTiedWeights: true, subtractsDecoderBias: true),
            options: TrainingOptions(
                epochs: 5, batchSize: 32, learningRate: 0.01, seed: 9,
                sparsity: SparsityOptions(
                    kind: .batchtopk, k: 3, auxK: 4, deadAfterSamples: 48, thresholdRate: 0.1),
                normalization: .standardize, decoderBiasInit: .geometricMedian, warmupSteps: 5,
                learningRateDecay: .cosine, decayEndFactor: 0.1, maxGradientNorm: 0.5,
                normalizesDecoderRows: true),
            usesBytes: false),
        Recipe(
            name: "l1 mean, sgd nesterov, bytes, mean b_dec, l2 weights, linear decay",
            config: AutoencoderConfig(
                inputSize: 16, hiddenSize: 12, activation: .relu, decoderActivation: .sigmoid),
            options: TrainingOptions(
                epochs: 4, batchSize: 20, learningRate: 0.3, seed: 4,
                sparsity: SparsityOptions(kind: .l1, beta: 1e-3, reduction: .mean),
                optimizer: .sgd, momentum: 0.9, nesterov: true, decoderBiasInit: .mean,
                l2Weights: 1e-4, learningRateDecay: .linear, sparsityWarmupSteps: 17),
            usesBytes: true),
        Recipe(
            name: "topk+auxk, adam, untied, zero b_dec",
            config: AutoencoderConfig(
                inputSize: 16, hiddenSize: 32, activation: .relu, decoderActivation: .identity),
            options: TrainingOptions(
                epochs: 4, batchSize: 16, learningRate: 0.005, seed: 2,
                sparsity: SparsityOptions(kind: .topk, k: 2, auxK: 6, deadAfterSamples: 40),
                decoderBiasInit: .zero),
            usesBytes: false),
    ]

    static func data(_ recipe: Recipe, rows: Int = 200, seed: UInt64 = 5) -> Dataset {
        let floats = TrainerTests.syntheticData(rows: rows, seed: seed)
        guard recipe.usesBytes, case .floats(let values) = floats.storage else { return floats }
        return Dataset(
            rows: rows, width: 16, storage: .bytes(values.map { UInt8(($0 * 255).rounded()) }))
    }

    static func scratchFile() throws -> URL {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("saed-checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("checkpoint.safetensors")
    }

    static func timeless(_ record: EpochRecord) -> EpochRecord {
        var record = record
        record.seconds = 0
        record.samplesPerSecond = 0
        return record
    }

    static func bits(_ model: Autoencoder) -> [UInt32] {
        (model.wEnc + model.bEnc + model.wDec + model.bDec).map(\.bitPattern)
    }

    @Test(arguments: recipes)
    func resumingAfterEachEpochMatchesNeverStopping(_ recipe: Recipe) throws {
        let model = Autoencoder.initialized(config: recipe.config, seed: 3)
        let validation = Self.data(recipe, rows: 48, seed: 6)
        let epochs = recipe.options.epochs

        // Uninterrupted.
        let straight = try Trainer(
            model: model, options: recipe.options, training: Self.data(recipe),
            validation: validation)
        var expected = [EpochRecord]()
        for _ in 0..<epochs {
            expected.append(Self.timeless(try #require(try straight.trainEpoch())))
        }

        // Stopped after epoch 2, saved, read back into fresh datasets and resumed.
        let first = try Trainer(
            model: model, options: recipe.options, training: Self.data(recipe),
            validation: validation)
        var records = [EpochRecord]()
        for _ in 0..<2 { records.append(Self.timeless(try #require(try first.trainEpoch()))) }
        let url = try Self.scratchFile()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let saved = first.checkpoint()
        try saved.write(to: url)
        let loaded = try TrainingCheckpoint.read(from: url)
        #expect(loaded == saved)

        let resumed = try Trainer(
            resuming: loaded, options: recipe.options, training: Self.data(recipe),
            validation: Self.data(recipe, rows: 48, seed: 6))
        #expect(resumed.epochsCompleted == 2 && resumed.steps == first.steps)
        for _ in 2..<epochs { records.append(Self.timeless(try #require(try resumed.trainEpoch()))) }

        #expect(records == expected)
        #expect(Self.bits(resumed.model) == Self.bits(straight.model))
        #expect(resumed.model.config == straight.model.config)
        #expect(resumed.adam == straight.adam && resumed.sgd == straight.sgd)
        #expect(resumed.generatorState == straight.generatorState)
        #expect(resumed.samplesSinceFired == straight.samplesSinceFired)
        print("\(recipe.name): \(epochs) epochs, final loss \(expected.last?.loss ?? .nan)")
    }

    @Test func zeroEpochsGiveTheInitialModelReadyToSave() throws {
        let recipe = Self.recipes[0]
        var options = recipe.options
        options.epochs = 0
        options.decoderBiasInit = .zero
        let trainer = try Trainer(
            model: Autoencoder.initialized(config: recipe.config, seed: 3), options: options,
            training: Self.data(recipe), validation: nil)
        let model = trainer.model
        #expect(trainer.steps == 0 && trainer.epochsCompleted == 0)
        #expect(model.bDec.allSatisfy { $0 == 0 })
        #expect(model.config.batchTopK == 3 && model.config.threshold == nil)
        let checkpoint = trainer.checkpoint()
        #expect(checkpoint.epochsCompleted == 0 && checkpoint.model == model)
    }

    @Test func resumingWithOtherOptionsOrDataIsRefusedNamingWhat() throws {
        let recipe = Self.recipes[2]
        let trainer = try Trainer(
            model: Autoencoder.initialized(config: recipe.config, seed: 3),
            options: recipe.options, training: Self.data(recipe), validation: nil)
        _ = try trainer.trainEpoch()
        let checkpoint = trainer.checkpoint()

        var longer = recipe.options
        longer.epochs = 9  // only the epoch count may change
        _ = try Trainer(
            resuming: checkpoint, options: longer, training: Self.data(recipe), validation: nil)

        var other = recipe.options
        other.batchSize = 17
        #expect(throws: CheckpointError.self) {
            try Trainer(
                resuming: checkpoint, options: other, training: Self.data(recipe),
                validation: nil)
        }
        do {
            _ = try Trainer(
                resuming: checkpoint, options: other, training: Self.data(recipe),
                validation: nil)
        } catch let error as CheckpointError {
            guard case .mismatch(let field, _) = error else { throw error }
            #expect(field == "options.batchSize", "\(error.message)")
            #expect(error.code == "checkpoint_mismatch")
        }

        let shifted = Self.data(recipe, seed: 77)
        #expect(
            throws: CheckpointError.mismatch(
                field: "training",
                message: "the rows differ from those the checkpoint was trained on")
        ) {
            try Trainer(
                resuming: checkpoint, options: recipe.options, training: shifted,
                validation: nil)
        }
        let fewer = Self.data(recipe, rows: 150)
        #expect(throws: CheckpointError.self) {
            try Trainer(
                resuming: checkpoint, options: recipe.options, training: fewer, validation: nil)
        }
    }

    @Test func damagedCheckpointFilesAreRejectedWithClearErrors() throws {
        let recipe = Self.recipes[1]
        let trainer = try Trainer(
            model: Autoencoder.initialized(config: recipe.config, seed: 3),
            options: recipe.options, training: Self.data(recipe), validation: nil)
        _ = try trainer.trainEpoch()
        let url = try Self.scratchFile()
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        try trainer.checkpoint().write(to: url)
        let good = try AtomicFile.read(contentsOf: url)

        // A model file is safetensors but not a checkpoint.
        let model = trainer.model
        try SafeTensors.write(
            [SafeTensors.Tensor(name: "W_enc", shape: [16, 12], values: model.wEnc)], to: url)
        #expect(throws: CheckpointError.self) { try TrainingCheckpoint.read(from: url) }

        // A truncated file fails in the safetensors reader, naming the file.
        try AtomicFile.write(Array(good.prefix(good.count - 9)), to: url)
        #expect(throws: DataError.self) { try TrainingCheckpoint.read(from: url) }

        // A state from another format version, and a tensor of the wrong shape.
        try AtomicFile.write(good, to: url)
        let (tensors, metadata) = try SafeTensors.read(contentsOf: url)
        let ordered = tensors.values.sorted { $0.name < $1.name }
        var future = metadata
        future["state"] = metadata["state"]?.replacingOccurrences(
            of: "\"version\":1", with: "\"version\":99")
        try SafeTensors.write(ordered, metadata: future, to: url)
        do {
            _ = try TrainingCheckpoint.read(from: url)
            Issue.record("a future version was accepted")
        } catch let error as CheckpointError {
            #expect(error.message.contains("version 99"), "\(error.message)")
            #expect(error.message.hasPrefix("checkpoint.safetensors:"))
        }
        var misshapen = ordered
        let index = try #require(misshapen.firstIndex { $0.name == "b_enc" })
        misshapen[index] = SafeTensors.Tensor(
            name: "b_enc", shape: [11], values: Array(repeating: 0, count: 11))
        try SafeTensors.write(misshapen, metadata: metadata, to: url)
        #expect(
            throws: CheckpointError.invalid(
                file: "checkpoint.safetensors", reason: "'b_enc' has shape [11]; expected [12]")
        ) { try TrainingCheckpoint.read(from: url) }
    }
}
