import Foundation
import SAECore
import Testing

/// The trainer's methods beyond the basic step: batch top-k's threshold, AuxK, tied weights,
/// unit-norm decoder rows, `b_dec` initialisation, clipping, schedules, progress and metrics.
struct TrainerMethodsTests {
    static let data = TrainerTests.syntheticData()

    static func trainer(
        _ options: TrainingOptions,
        config: AutoencoderConfig = AutoencoderConfig(
            inputSize: 16, hiddenSize: 24, decoderActivation: .identity),
        training: Dataset = data,
        validation: Dataset? = nil
    ) throws -> Trainer {
        try Trainer(
            model: Autoencoder.initialized(config: config, seed: 1), options: options,
            training: training, validation: validation)
    }

    @Test func batchTopKKeepsBTimesKAndLearnsTheThresholdEncodeUses() throws {
        var options = TrainingOptions(batchSize: 40, learningRate: 0.01)
        options.sparsity = SparsityOptions(kind: .batchtopk, k: 3, thresholdRate: 0.2)
        let validation = TrainerTests.syntheticData(rows: 40, seed: 8)
        let trainer = try Self.trainer(options, validation: validation)
        let record = try #require(try trainer.trainEpoch())

        // Exactly 40·3 pre-activations survive each batch; ReLU may zero a few of them.
        #expect(record.l0 <= 3 && record.l0 > 2)
        let model = trainer.model
        let threshold = try #require(model.config.threshold)
        #expect(model.config.batchTopK == 3 && model.config.topK == nil && threshold > 0)

        // Inference keeps exactly the pre-activations above the threshold.
        guard case .floats(let x) = validation.storage else { return }
        let code = model.encode(x, rows: 40)
        var dense = model
        dense.config.threshold = nil
        dense.config.batchTopK = nil
        let preActivations = dense.encode(x, rows: 40)  // ReLU(z), no selection
        for (h, z) in zip(code, preActivations) {
            #expect(h == (z > threshold ? z : 0))
        }
        #expect(record.validationL0 == Double(code.filter { $0 != 0 }.count) / 40)
    }

    @Test func auxKIsInertWithoutDeadLatentsAndActsWithThem() throws {
        var options = TrainingOptions(batchSize: 24, learningRate: 0.01)
        options.sparsity = SparsityOptions(kind: .topk, k: 2)
        let config = AutoencoderConfig(inputSize: 16, hiddenSize: 32, decoderActivation: .identity)
        let plain = try Self.trainer(options, config: config)
        var records = [try #require(try plain.trainEpoch())]

        // No latent goes 10⁶ samples without firing in one epoch: AuxK adds nothing.
        options.sparsity.auxK = 8
        options.sparsity.deadAfterSamples = 1_000_000
        let inert = try Self.trainer(options, config: config)
        records.append(try #require(try inert.trainEpoch()))
        #expect(records[1].auxiliaryLoss == 0 && records[1].loss == records[0].loss)
        #expect(inert.model == plain.model)

        // Dead after one batch: AuxK's term appears and changes the weights.
        options.sparsity.deadAfterSamples = 24
        let active = try Self.trainer(options, config: config)
        records.append(try #require(try active.trainEpoch()))
        let auxiliary = try #require(records[2].auxiliaryLoss)
        #expect(auxiliary > 0)
        #expect(abs(records[2].loss - (records[2].reconstruction + auxiliary)) < 1e-12)
        #expect(active.model != plain.model)
        #expect(active.samplesSinceFired.count == 32)
        print("AuxK: loss \(records[0].loss) → \(records[2].loss), aux \(auxiliary)")
    }

    @Test func tiedWeightsStayTransposesAndUnitRowsStayUnit() throws {
        let config = AutoencoderConfig(
            inputSize: 16, hiddenSize: 8, decoderActivation: .identity, hasTiedWeights: true)
        var options = TrainingOptions(batchSize: 32, learningRate: 0.01)
        options.normalizesDecoderRows = true
        options.sparsity = SparsityOptions(kind: .l1, beta: 1e-3)
        let trainer = try Self.trainer(options, config: config)
        for _ in 0..<3 { _ = try trainer.trainEpoch() }
        let model = trainer.model
        for j in 0..<8 {
            var squares = 0.0
            for i in 0..<16 {
                #expect(model.wDec[j * 16 + i] == model.wEnc[i * 8 + j])
                squares += Double(model.wDec[j * 16 + i] * model.wDec[j * 16 + i])
            }
            #expect(abs(squares.squareRoot() - 1) < 1e-6)
        }
    }

    @Test(arguments: [DecoderBiasInit.zero, .mean, .geometricMedian])
    func decoderBiasStartsWhereAsked(_ initialization: DecoderBiasInit) throws {
        let options = TrainingOptions(epochs: 0, decoderBiasInit: initialization)
        let bias = try Self.trainer(options).model.bDec.map(Double.init)
        guard case .floats(let x) = Self.data.storage else { return }
        let rows = (0..<Self.data.rows).map { r in (0..<16).map { Double(x[r * 16 + $0]) } }
        let mean = (0..<16).map { j in rows.reduce(0) { $0 + $1[j] } / Double(rows.count) }
        switch initialization {
        case .zero:
            #expect(bias.allSatisfy { $0 == 0 })
        case .mean:
            for j in 0..<16 { #expect(abs(bias[j] - mean[j]) < 1e-7) }
        case .geometricMedian:
            // At the median the unit vectors towards the points cancel out, and it is no
            // farther from them in sum than the mean.
            func distance(_ a: [Double], _ b: [Double]) -> Double {
                var squares = 0.0
                for j in a.indices { squares += (a[j] - b[j]) * (a[j] - b[j]) }
                return squares.squareRoot()
            }
            func distances(_ y: [Double]) -> Double {
                rows.reduce(0) { $0 + distance($1, y) }
            }
            var pull = [Double](repeating: 0, count: 16)
            for row in rows {
                let length = distance(row, bias)
                for j in 0..<16 { pull[j] += (row[j] - bias[j]) / length }
            }
            let pullNorm = pull.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(pullNorm < 1e-3 * Double(rows.count))
            #expect(distances(bias) < distances(mean))
            print("geometric median: residual pull \(pullNorm / Double(rows.count)) per row")
        }
    }

    @Test func clippingBoundsTheStepOfPlainSGD() throws {
        let options = TrainingOptions(
            batchSize: 240, learningRate: 1, optimizer: .sgd, maxGradientNorm: 1e-3)
        let trainer = try Self.trainer(options)
        let before = trainer.model
        _ = try trainer.trainEpoch()  // one batch: one step of lr · clipped gradient
        let after = trainer.model
        let flat = { (m: Autoencoder) in m.wEnc + m.bEnc + m.wDec + m.bDec }
        let moved = zip(flat(after), flat(before)).reduce(0.0) {
            $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1)
        }.squareRoot()
        #expect(abs(moved - 1e-3) < 1e-6, "the step moved the parameters by \(moved)")
    }

    @Test func recordsCarryTheScheduledLearningRate() throws {
        let options = TrainingOptions(
            epochs: 3, batchSize: 48, learningRate: 0.01, warmupSteps: 3,
            learningRateDecay: .cosine)
        let trainer = try Self.trainer(options)
        #expect(trainer.stepsPerEpoch == 5)
        for epoch in 1...3 {
            let record = try #require(try trainer.trainEpoch())
            let expected = options.learningRate(atStep: 5 * epoch, stepsPerEpoch: 5)
            #expect(record.learningRate == Double(expected))
        }
    }

    @Test func progressReportsEachBatchLossAndAveragesToTheRecord() throws {
        var reports = [BatchProgress]()
        var counts = [Int]()
        let trainer = try Self.trainer(TrainingOptions(batchSize: 50))
        let record = try #require(
            try trainer.trainEpoch(
                onBatch: { done, _ in counts.append(done) },
                onProgress: { reports.append($0) }))
        #expect(counts == [1, 2, 3, 4, 5] && reports.map(\.done) == counts)
        #expect(reports.allSatisfy { $0.total == 5 && $0.loss > 0 && $0.learningRate == 1e-3 })
        #expect(reports.map(\.step) == [1, 2, 3, 4, 5])
        let mean = reports.reduce(0.0) { $0 + $1.loss } / 5
        #expect(mean == record.loss)
    }

    @Test func varianceMetricsMatchTheirDefinitions() throws {
        // Learning rate 0 and no shuffle: the model the epoch saw is the final one.
        let validation = TrainerTests.syntheticData(rows: 48, seed: 8)
        var options = TrainingOptions(batchSize: 16, learningRate: 0, shuffle: false)
        options.sparsity = SparsityOptions(kind: .none)
        let trainer = try Self.trainer(options, validation: validation)
        let record = try #require(try trainer.trainEpoch())

        for (set, fvu, nmse) in [
            (Self.data, record.fvu, record.normalizedMSE),
            (validation, record.validationFVU, record.validationNormalizedMSE),
        ] {
            guard case .floats(let x) = set.storage else { continue }
            let output = trainer.model.reconstruct(x, rows: set.rows)
            let squaredError = zip(output, x).reduce(0.0) {
                $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1)
            }
            var mean = [Double](repeating: 0, count: 16)
            for (i, v) in x.enumerated() { mean[i % 16] += Double(v) / Double(set.rows) }
            var variance = 0.0
            for (i, v) in x.enumerated() {
                variance += (Double(v) - mean[i % 16]) * (Double(v) - mean[i % 16])
            }
            let squares = x.reduce(0.0) { $0 + Double($1) * Double($1) }
            let (expectedFVU, expectedNMSE) = (squaredError / variance, squaredError / squares)
            let (gotFVU, gotNMSE) = (try #require(fvu), try #require(nmse))
            #expect(abs(gotFVU - expectedFVU) < 1e-5 * expectedFVU)
            #expect(abs(gotNMSE - expectedNMSE) < 1e-5 * expectedNMSE)
        }
        // With MSE and no penalty, the validation loss is the validation MSE (48 = 3 × 16).
        let validationLoss = try #require(record.validationLoss)
        let validationMSE = try #require(record.validationReconstruction)
        #expect(abs(validationLoss - validationMSE) < 1e-7 * validationMSE)
    }

    @Test func oldRecordsWithoutTheNewFieldsStillDecode() throws {
        let json = """
            {"epoch":1,"loss":0.5,"reconstruction":0.4,"sparsity":0.1,"l0":3,"deadFraction":0,
             "deadCount":0,"validationReconstruction":null,"validationL0":null,"seconds":1,
             "samplesPerSecond":10,"steps":4}
            """
        let record = try JSONDecoder().decode(EpochRecord.self, from: Data(json.utf8))
        #expect(record.fvu == nil && record.validationLoss == nil && record.steps == 4)
    }

    @Test func metricsSurviveASnakeCaseRoundTrip() throws {
        var record = EpochRecord(
            epoch: 2, loss: 1, reconstruction: 1, sparsity: 0, l0: 3, deadFraction: 0,
            deadCount: 0, validationReconstruction: 0.5, validationL0: 2, seconds: 1,
            samplesPerSecond: 9, steps: 8, fvu: 0.25, normalizedMSE: 0.125)
        record.validationFVU = 0.375
        record.validationNormalizedMSE = 0.0625
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = String(decoding: try encoder.encode(record), as: UTF8.self)
        #expect(json.contains("\"normalized_mse\"") && json.contains("\"validation_fvu\""))
        // Capitalising each word after the first, as the service's decoder does.
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        #expect(try decoder.decode(EpochRecord.self, from: Data(json.utf8)) == record)
    }

    @Test func l2WeightsAreReportedAndShrinkTheWeights() throws {
        var options = TrainingOptions(batchSize: 48, learningRate: 0.01, l2Weights: 0.05)
        options.sparsity = SparsityOptions(kind: .none)
        let decayed = try Self.trainer(options)
        options.l2Weights = 0
        let plain = try Self.trainer(options)
        var penalties = [Double]()
        for _ in 0..<5 {
            penalties.append(try #require(try decayed.trainEpoch()?.weightPenalty))
            #expect(try plain.trainEpoch()?.weightPenalty == nil)
        }
        let norm = { (m: Autoencoder) in (m.wEnc + m.wDec).reduce(0.0) { $0 + Double($1 * $1) } }
        #expect(norm(decayed.model) < norm(plain.model))
        #expect(penalties.last! < penalties.first!)  // safe: five epochs ran
    }
}
