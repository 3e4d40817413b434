import SAECore
import Testing

struct TrainerTests {
    /// 240 samples of 16 values: each mixes 2 of 6 fixed non-negative patterns, plus noise.
    static func syntheticData(rows: Int = 240, seed: UInt64 = 5) -> Dataset {
        var generator = SeededGenerator(seed: seed)
        let patterns = (0..<6).map { _ in (0..<16).map { _ in generator.nextUnitFloat() } }
        var values = [Float]()
        for _ in 0..<rows {
            let first = generator.nextIndex(below: 6)
            let second = generator.nextIndex(below: 6)
            let weight = generator.nextUnitFloat()
            for i in 0..<16 {
                let mixed = weight * patterns[first][i] + (1 - weight) * patterns[second][i]
                values.append(min(max(mixed + 0.05 * (generator.nextUnitFloat() - 0.5), 0), 1))
            }
        }
        return Dataset(rows: rows, width: 16, storage: .floats(values))
    }

    static func trainer(
        options: TrainingOptions = TrainingOptions(batchSize: 32, learningRate: 0.01),
        activation: Activation = .relu,
        decoderActivation: Activation = .sigmoid,
        training: Dataset = syntheticData(),
        validation: Dataset? = nil
    ) throws -> Trainer {
        let config = AutoencoderConfig(
            inputSize: 16, hiddenSize: 8, activation: activation,
            decoderActivation: decoderActivation)
        let model = Autoencoder.initialized(config: config, seed: 1)
        return try Trainer(
            model: model, options: options, training: training, validation: validation)
    }

    @Test func lossDecreasesOnSyntheticData() throws {
        var options = TrainingOptions(batchSize: 16, learningRate: 0.01)
        options.sparsity = SparsityOptions(kind: .l1, beta: 1e-4, reduction: .mean)
        let trainer = try Self.trainer(options: options)
        var records = [EpochRecord]()
        for _ in 0..<20 {
            records.append(try #require(try trainer.trainEpoch()))
        }
        let first = records[0].loss
        let last = records[records.count - 1].loss
        print("loss \(first) → \(last) over \(records.count) epochs")
        #expect(last < 0.25 * first)
        #expect(records.map(\.epoch) == Array(1...20))
        #expect(records.last?.steps == 20 * 15)  // 240 rows in batches of 16
        #expect(trainer.epochsCompleted == 20)
    }

    @Test func sameInputsGiveBitIdenticalRecordsAndWeights() throws {
        var options = TrainingOptions(batchSize: 24, learningRate: 0.02, seed: 77)
        options.sparsity = SparsityOptions(kind: .l1, beta: 1e-3, reduction: .mean)
        let validation = Self.syntheticData(rows: 50, seed: 6)
        func run() throws -> ([EpochRecord], Autoencoder) {
            let trainer = try Self.trainer(options: options, validation: validation)
            var records = [EpochRecord]()
            for _ in 0..<3 {
                var record = try #require(try trainer.trainEpoch())
                record.seconds = 0
                record.samplesPerSecond = 0
                records.append(record)
            }
            return (records, trainer.model)
        }

        let (firstRecords, firstModel) = try run()
        let (secondRecords, secondModel) = try run()
        #expect(firstRecords == secondRecords)
        let bits = { (m: Autoencoder) in (m.wEnc + m.bEnc + m.wDec + m.bDec).map(\.bitPattern) }
        #expect(bits(firstModel) == bits(secondModel))
    }

    @Test func shuffleSeedChangesTheOrderAndNoShuffleKeepsIt() throws {
        func loss(seed: UInt64, shuffle: Bool) throws -> Double {
            let options = TrainingOptions(
                batchSize: 32, learningRate: 0.01, seed: seed, shuffle: shuffle)
            return try #require(try Self.trainer(options: options).trainEpoch()).loss
        }
        #expect(try loss(seed: 1, shuffle: true) != loss(seed: 2, shuffle: true))
        #expect(try loss(seed: 1, shuffle: false) == loss(seed: 2, shuffle: false))
    }

    @Test func partialLastBatchIsTrainedAndReported() throws {
        var done = [(Int, Int)]()
        let trainer = try Self.trainer(
            options: TrainingOptions(batchSize: 100, learningRate: 0.01))
        let record = try #require(try trainer.trainEpoch(onBatch: { done.append(($0, $1)) }))
        #expect(done.map(\.0) == [1, 2, 3] && done.allSatisfy { $0.1 == 3 })
        #expect(record.steps == 3 && trainer.steps == 3)
    }

    @Test func batchLargerThanTheDataTrainsOneBatch() throws {
        let trainer = try Self.trainer(
            options: TrainingOptions(batchSize: 10_000), training: Self.syntheticData(rows: 7))
        #expect(try trainer.trainEpoch()?.steps == 1)
    }

    @Test func stoppingAbandonsTheEpochAfterTheStepsTaken() throws {
        let trainer = try Self.trainer()
        var asked = 0
        let record = try trainer.trainEpoch(shouldStop: {
            asked += 1
            return asked > 2
        })
        #expect(record == nil)
        #expect(trainer.steps == 2 && trainer.epochsCompleted == 0)
        #expect(try trainer.trainEpoch()?.epoch == 1)
    }

    @Test func nonFiniteLossThrowsWithEpochAndStepAndKeepsTheWeights() throws {
        var values = [Float](repeating: 0.5, count: 40 * 16)
        values[35 * 16 + 3] = .nan  // row 35 sits in the second batch of 20 without shuffling
        let data = Dataset(rows: 40, width: 16, storage: .floats(values))
        let trainer = try Self.trainer(
            options: TrainingOptions(batchSize: 20, shuffle: false), training: data)
        let before = trainer.model

        #expect(throws: TrainingError.nonFinite(epoch: 1, step: 2, what: "reconstruction loss")) {
            try trainer.trainEpoch()
        }
        #expect(trainer.steps == 1)
        #expect(trainer.model != before)  // step 1 was applied; step 2 was not

        let clean = try Self.trainer(
            options: TrainingOptions(batchSize: 20, shuffle: false),
            training: Dataset(rows: 20, width: 16, storage: .floats(Array(values[0..<320]))))
        _ = try clean.trainEpoch()
        #expect(trainer.model == clean.model)
    }

    @Test func validationScoresMatchReconstructOnTheWholeSet() throws {
        let validation = Self.syntheticData(rows: 45, seed: 8)
        let trainer = try Self.trainer(
            options: TrainingOptions(batchSize: 16, learningRate: 0.01), validation: validation)
        let record = try #require(try trainer.trainEpoch())

        guard case .floats(let x) = validation.storage else { return }
        let model = trainer.model
        let output = model.reconstruct(x, rows: 45)
        let squared = zip(output, x).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }
        let mse = squared / Double(x.count)
        let code = model.encode(x, rows: 45)
        let l0 = Double(code.filter { $0 != 0 }.count) / 45
        let validationReconstruction = try #require(record.validationReconstruction)
        // The trainer sums squared errors eight lanes at a time in Float.
        #expect(abs(validationReconstruction - mse) <= 1e-6 * mse)
        #expect(record.validationL0 == l0)

        // Dead on the set: latents positive for no row; the sparsity term is l1's, beta · Σ|h|
        // per batch of 16 (16, 16, 13 rows), averaged over the three batches.
        let hidden = model.config.hiddenSize
        let dead = (0..<hidden).count { j in (0..<45).allSatisfy { code[$0 * hidden + j] <= 0 } }
        #expect(record.validationDeadCount == dead)
        #expect(record.validationDeadFraction == Double(dead) / Double(hidden))
        let beta = Double(TrainingOptions().sparsity.beta)
        let batchSums = [0..<16, 16..<32, 32..<45].map { rows in
            rows.reduce(0.0) { sum, row in
                sum + code[row * hidden..<(row + 1) * hidden].reduce(0.0) { $0 + Double(abs($1)) }
            }
        }
        let sparsity = beta * batchSums.reduce(0, +) / 3
        let got = try #require(record.validationSparsity)
        #expect(sparsity > 0 && abs(got - sparsity) <= 1e-5 * sparsity, "\(got) vs \(sparsity)")
    }

    @Test func validationDeadLatentsAreCountedOnTheValidationSet() throws {
        // Latent 0's encoder bias of −100 keeps it at zero for inputs in [0, 1], on every set.
        let config = AutoencoderConfig(inputSize: 16, hiddenSize: 8)
        var model = Autoencoder.initialized(config: config, seed: 1)
        model.bEnc[0] = -100
        let trainer = try Trainer(
            model: model, options: TrainingOptions(batchSize: 32, learningRate: 0),
            training: Self.syntheticData(), validation: Self.syntheticData(rows: 20, seed: 9))
        let record = try #require(try trainer.trainEpoch())
        let code = trainer.model.encode(
            { guard case .floats(let x) = Self.syntheticData(rows: 20, seed: 9).storage else { return [] }
              return x }(), rows: 20)
        let dead = (0..<8).count { j in (0..<20).allSatisfy { code[$0 * 8 + j] <= 0 } }
        #expect(dead >= 1)
        #expect(record.validationDeadCount == dead && record.validationDeadFraction == Double(dead) / 8)
    }

    @Test func withoutValidationTheScoresAreNil() throws {
        let record = try #require(try Self.trainer().trainEpoch())
        #expect(record.validationReconstruction == nil && record.validationL0 == nil)
        #expect(record.validationSparsity == nil && record.validationDeadCount == nil)
        #expect(record.validationDeadFraction == nil && record.validationLoss == nil)
        #expect(record.seconds > 0 && record.samplesPerSecond > 0)
    }

    @Test func deadLatentsAreCounted() throws {
        // An encoder bias of −100 keeps every ReLU latent at zero for inputs in [0, 1].
        let config = AutoencoderConfig(inputSize: 16, hiddenSize: 8)
        var model = Autoencoder.initialized(config: config, seed: 1)
        model.bEnc = [Float](repeating: -100, count: 8)
        let trainer = try Trainer(
            model: model, options: TrainingOptions(batchSize: 32), training: Self.syntheticData(),
            validation: nil)
        let record = try #require(try trainer.trainEpoch())
        #expect(record.deadCount == 8 && record.deadFraction == 1 && record.l0 == 0)
    }

    @Test func trainingL0AndDeadCountComeFromTheBatchCode() throws {
        // One batch of every row: the epoch's figures describe the starting model's code.
        let config = AutoencoderConfig(inputSize: 16, hiddenSize: 8)
        var model = Autoencoder.initialized(config: config, seed: 1)
        model.bEnc[0] = -100
        model.bEnc[5] = -100
        var options = TrainingOptions(batchSize: 240, learningRate: 0.01)
        options.sparsity = SparsityOptions(kind: .l1, beta: 1e-3, reduction: .mean)
        let data = Self.syntheticData()
        guard case .floats(let x) = data.storage else { return }
        let code = model.encode(x, rows: 240)
        let active = code.filter { $0 != 0 }.count
        let dead = (0..<8).count { j in !(0..<240).contains { code[$0 * 8 + j] > 0 } }
        #expect(dead >= 2 && dead < 8 && active > 0)

        let trainer = try Trainer(model: model, options: options, training: data, validation: nil)
        let record = try #require(try trainer.trainEpoch())
        #expect(record.l0 == Double(active) / 240)
        #expect(record.deadCount == dead)
    }

    @Test func topKSparsityLimitsTheCodeAndIsSavedInTheModel() throws {
        var options = TrainingOptions(batchSize: 32, learningRate: 0.01)
        options.sparsity = SparsityOptions(kind: .topk, k: 3)
        let trainer = try Self.trainer(options: options, validation: Self.syntheticData(rows: 30))
        let record = try #require(try trainer.trainEpoch())
        #expect(record.l0 <= 3 && record.sparsity == 0)
        #expect(try #require(record.validationL0) <= 3)
        #expect(trainer.model.config.topK == 3)
    }

    @Test func widthMismatchIsReportedForEachDataset() throws {
        let narrow = Dataset(rows: 4, width: 15, storage: .floats([Float](repeating: 0, count: 60)))
        let training = TrainingError.widthMismatch(dataset: "training", expected: 16, actual: 15)
        #expect(throws: training) { try Self.trainer(training: narrow) }
        let validation = TrainingError.widthMismatch(
            dataset: "validation", expected: 16, actual: 15)
        #expect(throws: validation) { try Self.trainer(validation: narrow) }
    }

    @Test func emptyTrainingSetIsRejected() throws {
        let empty = Dataset(rows: 0, width: 16, storage: .floats([]))
        let expected = TrainingError.invalidOption(
            field: "training", message: "the set has no rows")
        #expect(throws: expected) { try Self.trainer(training: empty) }
    }

    @Test func sgdWithMomentumAlsoLearns() throws {
        var options = TrainingOptions(
            batchSize: 16, learningRate: 0.5, optimizer: .sgd, momentum: 0.9)
        options.sparsity = SparsityOptions(kind: .none)
        let trainer = try Self.trainer(options: options)
        let first = try #require(try trainer.trainEpoch()).loss
        var last = first
        for _ in 0..<19 { last = try #require(try trainer.trainEpoch()).loss }
        #expect(last < 0.5 * first, "loss \(first) → \(last)")
        #expect(trainer.sgd != nil && trainer.adam == nil)
    }
}
