import Foundation
import SAECore
import Testing
@testable import SAEService

struct JobSpecTests {
    static func parse(_ text: String) throws -> JobSpec {
        try JobSpec.parse(JSONValue.parse(Array(text.utf8)))
    }

    @Test func defaultsFollowTheClassicRecipe() throws {
        let spec = try Self.parse(#"{"dataset": "fashion-mnist"}"#)
        #expect(spec.training == DatasetSource(reference: .builtin(name: "fashion-mnist", split: "train"), limit: nil))
        #expect(spec.validation == nil)
        #expect(spec.hiddenSize == 128)
        #expect(spec.activation == .relu && spec.decoderActivation == .relu)
        #expect(spec.options.learningRate == 1e-3)
        #expect(spec.options.sparsity.kind == .l1)
        #expect(spec.options.reconstruction == .mse)
    }

    @Test func everyFieldIsReadAndTheNormalFormParsesBackToTheSameSpec() throws {
        let spec = try Self.parse("""
            {"name": "n", "dataset": {"path": "a/b.npy", "limit": 10},
             "validation": {"name": "fashion-mnist", "split": "test", "limit": 5},
             "model": {"hidden_size": 64, "activation": "sigmoid", "decoder_activation": "sigmoid"},
             "reconstruction": "bce", "sparsity": {"kind": "kl", "beta": 3, "rho": 0.1},
             "optimizer": {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6, "weight_decay": 0.001},
             "epochs": 3, "batch_size": 32, "seed": 42, "shuffle": false}
            """)
        #expect(spec.name == "n")
        #expect(spec.training == DatasetSource(reference: .path("a/b.npy"), limit: 10))
        #expect(spec.validation == DatasetSource(reference: .builtin(name: "fashion-mnist", split: "test"), limit: 5))
        #expect(spec.hiddenSize == 64)
        #expect(spec.options.sparsity.kind == .kl && spec.options.sparsity.beta == 3 && spec.options.sparsity.rho == 0.1)
        #expect(spec.options.learningRate == 0.01 && spec.options.beta1 == 0.8 && spec.options.beta2 == 0.99)
        #expect(spec.options.epsilon == 1e-6 && spec.options.weightDecay == 0.001)
        #expect(spec.options.epochs == 3 && spec.options.batchSize == 32 && spec.options.seed == 42)
        #expect(spec.options.shuffle == false && spec.options.reconstruction == .bce)
        #expect(try JobSpec.parse(spec.json) == spec)
        // Floats print as their shortest decimal.
        guard case .object(let fields) = spec.json, case .object(let optimizer)? = fields["optimizer"] else {
            Issue.record("normal form is not an object")
            return
        }
        #expect(optimizer["learning_rate"] == .number(0.01))
    }

    @Test func scheduleClippingAuxKAndDecoderOptionsReachTheTrainer() throws {
        let spec = try Self.parse("""
            {"dataset": "fashion-mnist", "model": {"hidden_size": 64, "activation": "relu",
             "normalize_decoder_rows": true, "decoder_bias_init": "geometric_median"},
             "sparsity": {"kind": "topk", "k": 8, "aux_k": 16, "aux_coefficient": 0.03125, "dead_after_samples": 1000},
             "optimizer": {"warmup_steps": 100, "sparsity_warmup_steps": 50, "decay": "cosine",
                           "decay_end_factor": 0.1, "max_gradient_norm": 1.5},
             "l2_weights": 0.0001}
            """)
        #expect(spec.options.normalizesDecoderRows && spec.options.decoderBiasInit == .geometricMedian)
        #expect(spec.options.sparsity.auxK == 16 && spec.options.sparsity.auxCoefficient == 0.03125)
        #expect(spec.options.sparsity.deadAfterSamples == 1000)
        #expect(spec.options.warmupSteps == 100 && spec.options.sparsityWarmupSteps == 50)
        #expect(spec.options.learningRateDecay == .cosine && spec.options.decayEndFactor == 0.1)
        #expect(spec.options.maxGradientNorm == 1.5 && spec.options.l2Weights == 0.0001)
        #expect(try JobSpec.parse(spec.json) == spec)
    }

    @Test func fileFormatOptionsAreReadForPathsAndRoundTrip() throws {
        let spec = try Self.parse("""
            {"dataset": {"path": "t.csv", "format": "csv", "header": true, "label_column": 0},
             "validation": {"path": "v.bin", "format": "f32", "width": 7}}
            """)
        #expect(spec.training.format == .csv(hasHeader: true, labelColumn: 0))
        #expect(spec.validation?.format == .rawFloat32(width: 7))
        #expect(try JobSpec.parse(spec.json) == spec)
        let plain = try Self.parse(#"{"dataset": {"path": "t.idx", "format": "idx"}}"#)
        #expect(plain.training.format == .idx)
        #expect(try JobSpec.parse(plain.json) == plain)
        #expect(try Self.parse(#"{"dataset": {"path": "t.csv"}}"#).training.format == nil)
    }

    @Test(arguments: [
        (#"{"path": "a.f32", "format": "f32"}"#, "dataset.width", #"is required with format "f32" (values per row)"#),
        (#"{"path": "a.csv", "header": true}"#, "dataset.format", #"is required with "header""#),
        (#"{"path": "a.csv", "format": "npy", "header": true}"#, "dataset.header",
         #"applies only to format "csv", not "npy""#),
        (#"{"path": "a.csv", "format": "csv", "width": 3}"#, "dataset.width",
         #"applies only to format "f32", not "csv""#),
        (#"{"path": "a.csv", "format": "parquet"}"#, "dataset.format", #"must be idx, npy, csv or f32, got "parquet""#),
        (#"{"name": "fashion-mnist", "format": "idx"}"#, "dataset.format", #"applies only to a file given by "path""#),
        (#"{"id": "ds_1", "label_column": 1, "format": "csv"}"#, "dataset.format",
         #"applies only to a file given by "path""#),
        (#"{"path": "a.csv", "format": "csv", "label_column": -1}"#, "dataset.label_column",
         "must be between 0 and 2147483647, got -1"),
        // Off a path the keys are refused as such, before the rules of the format they name.
        (#"{"name": "fashion-mnist", "width": 5}"#, "dataset.width", #"applies only to a file given by "path""#),
        (#"{"name": "fashion-mnist", "format": "f32"}"#, "dataset.format", #"applies only to a file given by "path""#),
        (#"{"id": "ds_1", "format": "parquet"}"#, "dataset.format", #"applies only to a file given by "path""#),
        (#"{"id": "ds_1", "header": true}"#, "dataset.header", #"applies only to a file given by "path""#),
    ])
    func fileFormatOptionsThatDoNotFitAreRefusedNamingTheKey(dataset: String, field: String, message: String) {
        #expect(throws: ServiceError.invalidField(path: field, message: message)) {
            try Self.parse(#"{"dataset": "# + dataset + "}")
        }
    }

    @Test func topKMustNotExceedTheHiddenSize() throws {
        #expect(throws: ServiceError.invalidField(path: "sparsity.k", message: "must be between 1 and 16, got 32")) {
            try Self.parse(#"{"dataset": "fashion-mnist", "model": {"hidden_size": 16}, "sparsity": {"kind": "topk", "k": 32}}"#)
        }
    }

    @Test func batchTopKArchitectureNormalizationAndInitFromAreReadAndRoundTrip() throws {
        let spec = try Self.parse("""
            {"dataset": "fashion-mnist", "model": {"hidden_size": 16, "tied_weights": true,
             "subtract_decoder_bias": true},
             "sparsity": {"kind": "batchtopk", "k": 3, "threshold_rate": 0.25},
             "normalization": "standardize", "init_from": "model_0123abcd", "epochs": 0}
            """)
        #expect(spec.hasTiedWeights && spec.subtractsDecoderBias)
        #expect(spec.options.sparsity.kind == .batchtopk && spec.options.sparsity.k == 3)
        #expect(spec.options.sparsity.thresholdRate == 0.25)
        #expect(spec.options.normalization == .standardize && spec.initFrom == "model_0123abcd")
        #expect(spec.options.epochs == 0)
        #expect(try JobSpec.parse(spec.json) == spec)
        let config = spec.modelConfig(inputSize: 5)
        #expect(config.hasTiedWeights && config.subtractsDecoderBias && config.hiddenSize == 16)

        // Absent, they keep the defaults, and the normal form says so.
        let plain = try Self.parse(#"{"dataset": "fashion-mnist"}"#)
        #expect(!plain.hasTiedWeights && !plain.subtractsDecoderBias && plain.initFrom == nil)
        #expect(plain.options.normalization == nil && plain.options.sparsity.thresholdRate == 0.01)
        #expect(try JobSpec.parse(plain.json) == plain)

        for (body, field) in [
            (#"{"dataset": "fashion-mnist", "normalization": "zscore"}"#, "normalization"),
            (#"{"dataset": "fashion-mnist", "init_from": "../etc"}"#, "init_from"),
            (#"{"dataset": "fashion-mnist", "sparsity": {"kind": "batchtopk", "threshold_rate": 0}}"#,
             "sparsity.threshold_rate"),
            (#"{"dataset": "fashion-mnist", "model": {"tied_weights": 1}}"#, "model.tied_weights"),
            // bce needs targets in [0, 1]; standardised values are not
            (#"{"dataset": "fashion-mnist", "model": {"decoder_activation": "sigmoid"}, "reconstruction": "bce", "#
                + #""normalization": "standardize"}"#, "normalization"),
        ] {
            let error = #expect(throws: ServiceError.self) { try Self.parse(body) }
            #expect(error?.field == field, "\(body)")
        }
    }
}

struct JobTests {
    /// The daemon's epoch log line carries every figure the record has, and leaves out the
    /// ones it does not.
    @Test func epochLogFiguresIncludeEveryMetricOfTheRecord() {
        var record = EpochRecord.sample(epoch: 3)
        let plain = JobManager.figures(record)
        #expect(plain["loss.total"] == "0.500000" && plain["validation.reconstruction"] == "0.450000")
        #expect(plain["loss.fvu"] == nil && plain["validation.loss"] == nil && plain["loss.auxiliary"] == nil)

        record.fvu = 0.125
        record.normalizedMSE = 0.0625
        record.auxiliaryLoss = 0.003
        record.weightPenalty = 0.0001
        record.learningRate = 0.00025
        record.validationLoss = 0.47
        record.validationFVU = 0.25
        record.validationNormalizedMSE = 0.0875
        let full = JobManager.figures(record)
        #expect(full["loss.fvu"] == "0.125000")
        #expect(full["loss.normalized_mse"] == "0.062500")
        #expect(full["loss.auxiliary"] == "0.003000")
        #expect(full["loss.weight_penalty"] == "0.000100")
        #expect(full["optimizer.learning_rate"] == "0.00025")
        #expect(full["validation.loss"] == "0.470000")
        #expect(full["validation.fvu"] == "0.250000")
        #expect(full["validation.normalized_mse"] == "0.087500")
        #expect(full["job.epoch"] == "3" && full["code.l0"] == "12.50")
    }

    static func makeJob() throws -> Job {
        Job(id: "job_1", spec: try JobSpecTests.parse(#"{"dataset": "fashion-mnist", "epochs": 2}"#),
            createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test func lifecycleRecordsNumberedStateEpochAndEndEvents() throws {
        var job = try Self.makeJob()
        job.transition(to: .running, at: Date(timeIntervalSince1970: 1))
        job.record(EpochRecord.sample(epoch: 1))
        #expect(job.progress == 0.5)
        job.modelID = "model_1"
        job.transition(to: .succeeded, at: Date(timeIntervalSince1970: 2))
        #expect(job.events.map(\.id) == [1, 2, 3, 4, 5])
        #expect(job.events.map(\.kind) == [.state, .state, .epoch, .state, .end])
        #expect(job.events[4].data.contains(#""model_id":"model_1""#))
        #expect(job.progress == 1)
        #expect(job.startedAt == Date(timeIntervalSince1970: 1) && job.finishedAt == Date(timeIntervalSince1970: 2))
    }

    @Test func requeueKeepsTheHistoryUntilRewoundToTheResumedEpoch() throws {
        var job = try Self.makeJob()
        job.transition(to: .running, at: Date())
        job.record(EpochRecord.sample(epoch: 1))
        job.record(EpochRecord.sample(epoch: 2))
        job.transition(to: .queued, at: Date())
        #expect(job.history.count == 2)
        #expect(job.events.last?.data == #"{"state":"queued"}"#)
        job.rewind(toEpoch: 1)
        #expect(job.history.map(\.epoch) == [1] && job.progress == 0.5)
        job.rewind(toEpoch: 0)
        #expect(job.history.isEmpty && job.progress == 0)
    }

    @Test func storedJobsReadBackEqual() throws {
        let path = NSTemporaryDirectory() + "saed-store-" + UUID().uuidString + ".db"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try SQLiteDatabase(path: path)
        try Schema.migrate(database)
        let store = JobStore(database: database)
        var job = try Self.makeJob()
        job.transition(to: .running, at: Date())
        try store.save(job)
        job.record(EpochRecord.sample(epoch: 1))
        try store.save(job)  // adds only the new epoch event
        try database.execute("INSERT INTO jobs (id, created_at, state, record) VALUES ('job_broken', 5, 'queued', '{not json')")
        let (jobs, skipped) = try store.loadAll()
        #expect(jobs.count == 1)
        #expect(jobs.first?.history == job.history && jobs.first?.events == job.events)
        #expect(jobs.first?.events.map(\.id) == [1, 2, 3])
        #expect(skipped.map(\.file) == ["job_broken"])
        // A resume from an earlier epoch cuts the stored history back; new epochs follow.
        job.record(EpochRecord.sample(epoch: 2))
        try store.save(job)
        job.rewind(toEpoch: 1)
        try store.save(job)  // the manager stores every change, the rewind included
        job.record(EpochRecord.sample(epoch: 2))
        job.history[1].loss = 0.25
        try store.save(job)
        let resumed = try store.loadAll().jobs.first
        #expect(resumed?.history.map(\.epoch) == [1, 2])
        #expect(resumed?.history.last?.loss == 0.25)
        // Reopening migrates nothing twice.
        try Schema.migrate(database)
        #expect(try database.userVersion == Schema.migrations.count)
    }
}

extension EpochRecord {
    static func sample(epoch: Int) -> EpochRecord {
        EpochRecord(epoch: epoch, loss: 0.5, reconstruction: 0.4, sparsity: 0.1, l0: 12.5, deadFraction: 0.25,
                    deadCount: 2, validationReconstruction: 0.45, validationL0: 12, seconds: 1.5,
                    samplesPerSecond: 1000, steps: epoch * 10)
    }
}
