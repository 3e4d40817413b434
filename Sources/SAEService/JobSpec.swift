import Foundation
import SAECore

/// Where a job's rows come from.
package enum DatasetReference: Sendable, Equatable {
    /// A dataset the daemon knows by name, such as `fashion-mnist` with split `train` or `test`.
    case builtin(name: String, split: String)
    /// A file inside the configured datasets directory, given by a relative path.
    case path(String)
    /// A dataset uploaded through `POST /v1/datasets`, by its id (`ds_…`).
    case uploaded(id: String)

    /// Whether the reference is a file path.
    package var isPath: Bool {
        if case .path = self { return true }
        return false
    }
}

/// How a file named by `path` is read, when its name's extension does not say enough
/// (`dataset.format` with `header`, `label_column` or `width`).
package enum FileFormat: Sendable, Equatable {
    /// IDX, raw or gzip.
    case idx
    /// NPY.
    case npy
    /// Numeric CSV; a header line to skip, and a 0-based column (labels, say) to drop.
    case csv(hasHeader: Bool, labelColumn: Int?)
    /// Headerless little-endian float32 values, `width` to a row.
    case rawFloat32(width: Int)

    /// The `format` value that names it.
    package var name: String {
        switch self {
        case .idx: "idx"
        case .npy: "npy"
        case .csv: "csv"
        case .rawFloat32: "f32"
        }
    }
}

/// A dataset reference plus an optional row limit (the first `limit` rows).
package struct DatasetSource: Sendable, Equatable {
    package var reference: DatasetReference
    package var limit: Int?
    /// How a `path` file is read; nil to go by its extension (`.npy`, `.csv`, else IDX).
    package var format: FileFormat? = nil
}

/// A validated training job: everything needed to build a model and train it.
///
/// Parsed from the JSON body of `POST /v1/jobs`; `json` gives it back in the same schema with
/// every default filled in, which is what the job record stores and shows.
package struct JobSpec: Sendable, Equatable {
    package var name: String?
    package var training: DatasetSource
    package var validation: DatasetSource?
    package var hiddenSize: Int
    package var activation: Activation
    package var decoderActivation: Activation
    /// Whether `W_dec` is `W_enc` transposed (`model.tied_weights`).
    package var hasTiedWeights = false
    /// Whether the encoder sees `x − b_dec` (`model.subtract_decoder_bias`).
    package var subtractsDecoderBias = false
    /// A saved model whose weights training starts from (`init_from`), instead of the seeded
    /// initialisation; its sizes must match the job's.
    package var initFrom: String?
    package var options: TrainingOptions

    package static let builtinDatasets: [String: [String]] = ["fashion-mnist": ["train", "test"]]

    /// Validates a job body. Throws `ServiceError` naming the first bad field.
    package static func parse(_ json: JSONValue) throws -> JobSpec {
        var reader = try JSONObjectReader(json, path: "")
        let name = try reader.string("name").map { try ResourceName.checked($0, field: "name") }
        guard let datasetValue = reader.value("dataset") else {
            throw ServiceError.invalidField(path: "dataset", message: "is required (e.g. \"fashion-mnist\")")
        }
        let training = try parseDataset(datasetValue, path: "dataset", defaultSplit: "train")
        let validation = try reader.value("validation").map {
            try parseDataset($0, path: "validation", defaultSplit: "test")
        }

        var options = TrainingOptions()
        var hiddenSize = 128
        var activation = Activation.relu
        var decoderActivation = Activation.relu
        var (hasTiedWeights, subtractsDecoderBias) = (false, false)
        if var model = try reader.object("model") {
            hiddenSize = try model.integer("hidden_size", in: 1...65_536) ?? hiddenSize
            activation = try model.choice("activation", of: Activation.self) ?? activation
            decoderActivation = try model.choice("decoder_activation", of: Activation.self) ?? decoderActivation
            options.normalizesDecoderRows = try model.bool("normalize_decoder_rows") ?? options.normalizesDecoderRows
            options.decoderBiasInit = try model.choice("decoder_bias_init", of: DecoderBiasInit.self)
                ?? options.decoderBiasInit
            hasTiedWeights = try model.bool("tied_weights") ?? hasTiedWeights
            subtractsDecoderBias = try model.bool("subtract_decoder_bias") ?? subtractsDecoderBias
            try model.rejectUnknownFields()
        }
        options.reconstruction = try reader.choice("reconstruction", of: ReconstructionLoss.self)
            ?? options.reconstruction
        // k only matters for topk, but must always fit the code.
        options.sparsity.k = min(options.sparsity.k, hiddenSize)
        if var sparsity = try reader.object("sparsity") {
            try parseSparsity(&sparsity, into: &options.sparsity, hiddenSize: hiddenSize)
        }
        if var optimizer = try reader.object("optimizer") {
            try parseOptimizer(&optimizer, into: &options)
        }
        options.epochs = try reader.integer("epochs", in: 0...100_000) ?? options.epochs
        options.batchSize = try reader.integer("batch_size", in: 1...1_000_000) ?? options.batchSize
        if let seed = try reader.integer("seed", in: 0...Int(Int32.max) * 1024) { options.seed = UInt64(seed) }
        options.shuffle = try reader.bool("shuffle") ?? options.shuffle
        options.normalization = try reader.choice("normalization", of: NormalizationKind.self)
        let initFrom = try reader.string("init_from").map { try ResourceID.checked($0, field: "init_from") }
        if let lambda = try reader.number("l2_weights") {
            guard lambda >= 0 else {
                throw ServiceError.invalidField(path: "l2_weights", message: "must be >= 0, got \(lambda)")
            }
            options.l2Weights = try float32(lambda, at: "l2_weights")
        }
        try reader.rejectUnknownFields()

        if options.sparsity.kind == .kl && activation != .sigmoid {
            throw ServiceError.invalidField(
                path: "model.activation",
                message: "the kl penalty needs a code in (0, 1): set \"sigmoid\" (got \"\(activation.rawValue)\")")
        }
        if options.reconstruction == .bce && decoderActivation != .sigmoid {
            throw ServiceError.invalidField(
                path: "model.decoder_activation",
                message: "bce reconstruction needs a sigmoid decoder (got \"\(decoderActivation.rawValue)\")")
        }
        if options.reconstruction == .bce && options.normalization == .standardize {
            throw ServiceError.invalidField(
                path: "normalization",
                message: "bce reconstruction needs targets in [0, 1], which standardize does not give; use \"unit\"")
        }
        return JobSpec(name: name, training: training, validation: validation, hiddenSize: hiddenSize,
                       activation: activation, decoderActivation: decoderActivation,
                       hasTiedWeights: hasTiedWeights, subtractsDecoderBias: subtractsDecoderBias,
                       initFrom: initFrom, options: options)
    }

    private static func parseDataset(_ value: JSONValue, path: String, defaultSplit: String) throws -> DatasetSource {
        if case .string(let name) = value {
            return DatasetSource(reference: try builtin(name, split: defaultSplit, path: path), limit: nil)
        }
        var reader = try JSONObjectReader(value, path: path)
        let name = try reader.string("name")
        let file = try reader.string("path")
        let id = try reader.string("id")
        let split = try reader.string("split")
        let limit = try reader.integer("limit", in: 1...Int(Int32.max))
        let format = try parseFileFormat(&reader, path: path, isFile: file != nil)
        try reader.rejectUnknownFields()
        if split != nil && name == nil {
            throw ServiceError.invalidField(path: "\(path).split", message: "applies only to a named dataset")
        }
        switch (name, file, id) {
        case (let name?, nil, nil):
            return DatasetSource(reference: try builtin(name, split: split ?? defaultSplit, path: path), limit: limit)
        case (nil, let file?, nil):
            return DatasetSource(reference: .path(file), limit: limit, format: format)
        case (nil, nil, let id?):
            let id = try ResourceID.checked(id, field: "\(path).id")
            return DatasetSource(reference: .uploaded(id: id), limit: limit)
        default:
            throw ServiceError.invalidField(path: path, message: "give exactly one of \"name\", \"path\" or \"id\"")
        }
    }

    /// A path's `format` and the options that go with it: `header` and `label_column` for
    /// `csv`, `width` (required) for `f32`; nil when none is given. When the dataset is not a
    /// file (`isFile` false) the first key given is refused as such, before the format's own
    /// rules, which would name a key the dataset cannot take anyway.
    private static func parseFileFormat(
        _ reader: inout JSONObjectReader, path: String, isFile: Bool
    ) throws -> FileFormat? {
        let name = try reader.string("format")
        let hasHeader = try reader.bool("header")
        let labelColumn = try reader.integer("label_column", in: 0...Int(Int32.max))
        let width = try reader.integer("width", in: 1...Int(Int32.max))
        let given = [("format", name != nil), ("header", hasHeader != nil),
                     ("label_column", labelColumn != nil), ("width", width != nil)]
        guard let key = given.first(where: \.1)?.0 else { return nil }
        guard isFile else {
            throw ServiceError.invalidField(path: "\(path).\(key)", message: "applies only to a file given by \"path\"")
        }
        guard let name else {
            throw ServiceError.invalidField(path: "\(path).format", message: "is required with \"\(key)\"")
        }
        func refuse(_ option: String, unless isAllowed: Bool) throws {
            guard isAllowed else {
                let owner = option == "width" ? "\"f32\"" : "\"csv\""
                throw ServiceError.invalidField(
                    path: "\(path).\(option)", message: "applies only to format \(owner), not \"\(name)\"")
            }
        }
        try refuse("header", unless: hasHeader == nil || name == "csv")
        try refuse("label_column", unless: labelColumn == nil || name == "csv")
        try refuse("width", unless: width == nil || name == "f32")
        switch name {
        case "idx": return .idx
        case "npy": return .npy
        case "csv": return .csv(hasHeader: hasHeader ?? false, labelColumn: labelColumn)
        case "f32":
            guard let width else {
                throw ServiceError.invalidField(
                    path: "\(path).width", message: "is required with format \"f32\" (values per row)")
            }
            return .rawFloat32(width: width)
        default:
            throw ServiceError.invalidField(
                path: "\(path).format", message: "must be idx, npy, csv or f32, got \"\(name)\"")
        }
    }

    /// `value` as the float32 training uses, refusing values that overflow it or that are
    /// non-zero but too small to survive the conversion.
    private static func float32(_ value: Double, at path: String) throws -> Float {
        let float = Float(value)
        guard float.isFinite else {
            throw ServiceError.invalidField(path: path, message: "\(value) is too large for float32 (at most 3.4e38)")
        }
        guard value == 0 || float.isNormal else {
            throw ServiceError.invalidField(path: path, message: "\(value) is too small for float32 (at least 1.2e-38)")
        }
        return float
    }

    private static func builtin(_ name: String, split: String, path: String) throws -> DatasetReference {
        guard let splits = builtinDatasets[name] else {
            let known = builtinDatasets.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            throw ServiceError.invalidField(path: path,
                message: "unknown dataset \"\(name)\"; built-in datasets are \(known), or give {\"path\": ...}")
        }
        guard splits.contains(split) else {
            throw ServiceError.invalidField(path: "\(path).split",
                message: "dataset \"\(name)\" has splits \(splits.joined(separator: ", ")), not \"\(split)\"")
        }
        return .builtin(name: name, split: split)
    }

    private static func parseSparsity(_ reader: inout JSONObjectReader, into sparsity: inout SparsityOptions,
                                      hiddenSize: Int) throws {
        sparsity.kind = try reader.choice("kind", of: SparsityKind.self) ?? sparsity.kind
        if let beta = try reader.number("beta") {
            guard beta >= 0, beta.isFinite else {
                throw ServiceError.invalidField(path: reader.fieldPath("beta"), message: "must be >= 0, got \(beta)")
            }
            sparsity.beta = try float32(beta, at: reader.fieldPath("beta"))
        }
        sparsity.reduction = try reader.choice("reduction", of: L1Reduction.self) ?? sparsity.reduction
        if let rho = try reader.number("rho") {
            guard rho > 0, rho < 1 else {
                throw ServiceError.invalidField(path: reader.fieldPath("rho"),
                                                message: "must be strictly between 0 and 1, got \(rho)")
            }
            sparsity.rho = try float32(rho, at: reader.fieldPath("rho"))
        }
        sparsity.k = try reader.integer("k", in: 1...hiddenSize) ?? sparsity.k
        sparsity.auxK = try reader.integer("aux_k", in: 0...hiddenSize) ?? sparsity.auxK
        if let coefficient = try reader.number("aux_coefficient") {
            guard coefficient >= 0 else {
                throw ServiceError.invalidField(path: reader.fieldPath("aux_coefficient"),
                                                message: "must be >= 0, got \(coefficient)")
            }
            sparsity.auxCoefficient = try float32(coefficient, at: reader.fieldPath("aux_coefficient"))
        }
        sparsity.deadAfterSamples = try reader.integer("dead_after_samples", in: 1...Int(Int32.max))
            ?? sparsity.deadAfterSamples
        if let rate = try reader.number("threshold_rate") {
            guard rate > 0, rate <= 1 else {
                throw ServiceError.invalidField(path: reader.fieldPath("threshold_rate"),
                                                message: "must be in (0, 1], got \(rate)")
            }
            sparsity.thresholdRate = try float32(rate, at: reader.fieldPath("threshold_rate"))
        }
        try reader.rejectUnknownFields()
    }

    private static func parseOptimizer(_ reader: inout JSONObjectReader, into options: inout TrainingOptions) throws {
        func positive(_ key: String, _ value: Double?, below upper: Double = .infinity) throws -> Float? {
            guard let value else { return nil }
            guard value > 0, value < upper else {
                let bound = upper.isFinite ? " and below \(upper)" : ""
                throw ServiceError.invalidField(path: reader.fieldPath(key),
                                                message: "must be greater than 0\(bound), got \(value)")
            }
            return try float32(value, at: reader.fieldPath(key))
        }
        options.optimizer = try reader.choice("kind", of: OptimizerKind.self) ?? options.optimizer
        options.learningRate = try positive("learning_rate", reader.number("learning_rate")) ?? options.learningRate
        options.beta1 = try positive("beta1", reader.number("beta1"), below: 1) ?? options.beta1
        options.beta2 = try positive("beta2", reader.number("beta2"), below: 1) ?? options.beta2
        options.epsilon = try positive("epsilon", reader.number("epsilon")) ?? options.epsilon
        if let decay = try reader.number("weight_decay") {
            guard decay >= 0 else {
                throw ServiceError.invalidField(path: reader.fieldPath("weight_decay"), message: "must be >= 0, got \(decay)")
            }
            options.weightDecay = try float32(decay, at: reader.fieldPath("weight_decay"))
        }
        for (key, target) in [("momentum", \TrainingOptions.momentum), ("dampening", \TrainingOptions.dampening)] {
            guard let value = try reader.number(key) else { continue }
            guard value >= 0, value < 1 else {
                throw ServiceError.invalidField(path: reader.fieldPath(key), message: "must be in [0, 1), got \(value)")
            }
            options[keyPath: target] = try float32(value, at: reader.fieldPath(key))
        }
        options.nesterov = try reader.bool("nesterov") ?? options.nesterov
        options.warmupSteps = try reader.integer("warmup_steps", in: 0...Int(Int32.max)) ?? options.warmupSteps
        options.sparsityWarmupSteps = try reader.integer("sparsity_warmup_steps", in: 0...Int(Int32.max))
            ?? options.sparsityWarmupSteps
        options.learningRateDecay = try reader.choice("decay", of: LearningRateDecay.self) ?? options.learningRateDecay
        if let end = try reader.number("decay_end_factor") {
            guard end >= 0, end <= 1 else {
                throw ServiceError.invalidField(path: reader.fieldPath("decay_end_factor"),
                                                message: "must be in [0, 1], got \(end)")
            }
            options.decayEndFactor = Float(end)
        }
        options.maxGradientNorm = try positive("max_gradient_norm", reader.number("max_gradient_norm"))
            ?? options.maxGradientNorm
        if options.nesterov && (options.momentum == 0 || options.dampening != 0) {
            throw ServiceError.invalidField(path: reader.fieldPath("nesterov"),
                                            message: "needs momentum > 0 and dampening 0")
        }
        try reader.rejectUnknownFields()
    }
}

extension JobSpec {
    /// The configuration of the model this job trains on rows of `inputSize` values. The
    /// trainer sets `topK` or `batchTopK` from the sparsity options.
    package func modelConfig(inputSize: Int) -> AutoencoderConfig {
        AutoencoderConfig(
            inputSize: inputSize, hiddenSize: hiddenSize, activation: activation,
            decoderActivation: decoderActivation, hasTiedWeights: hasTiedWeights,
            subtractsDecoderBias: subtractsDecoderBias)
    }

    /// The model training starts from: `start`'s weights (the `init_from` model) when given,
    /// else the initialisation drawn from `seed`.
    ///
    /// Throws 400 `invalid_field` naming `init_from` when `start` has other sizes than the
    /// job: `hidden_size` latents and `inputSize` inputs (the dataset's width).
    package func initialModel(inputSize: Int, from start: Autoencoder?) throws -> Autoencoder {
        let config = modelConfig(inputSize: inputSize)
        guard let start else { return .initialized(config: config, seed: options.seed) }
        try checkInitialSizes(of: start.config, inputSize: inputSize)
        return Autoencoder(config: config, weightsOf: start)
    }

    /// Throws 400 naming `init_from` when `model` does not have the job's sizes; `inputSize`
    /// is checked when known.
    package func checkInitialSizes(of model: AutoencoderConfig, inputSize: Int?) throws {
        let id = initFrom ?? "?"
        if model.hiddenSize != hiddenSize {
            throw ServiceError.invalidField(
                path: "init_from",
                message: "model \(id) has \(model.hiddenSize) latents but model.hidden_size is \(hiddenSize); "
                    + "set model.hidden_size to \(model.hiddenSize)")
        }
        if let inputSize, model.inputSize != inputSize {
            throw ServiceError.invalidField(
                path: "init_from",
                message: "model \(id) takes \(model.inputSize) inputs but the dataset rows have \(inputSize) values")
        }
    }

    /// Bytes the trainer needs for `rows` training rows of `inputWidth` values: batch buffers
    /// and, per parameter, the weight, its gradient, two optimiser moments and a checkpoint
    /// copy. The batch holds three copies of its inputs (four with `subtract_decoder_bias`)
    /// and, per code entry, the code and its gradient (8 bytes), the selection's mask and
    /// scratch for top-k (8), the listing of the code that lets the products skip its zeros
    /// for top-k and for ReLU under L1 or no penalty (20), and for AuxK the pre-activations
    /// (4), its own listing of `k_aux` entries per row and a residual per input; and a few
    /// offsets and counters per latent. Computed in floating point so absurd sizes cannot
    /// overflow.
    package func estimatedTrainingBytes(inputWidth: Int, rows: Int) -> Double {
        let batch = Double(min(options.batchSize, max(rows, 1)))
        let (input, hidden) = (Double(inputWidth), Double(hiddenSize))
        let parameters = 2 * input * hidden + input + hidden
        let sparsity = options.sparsity
        let skipsZeros = activation == .relu && (sparsity.kind == .l1 || sparsity.kind == .none)
        var perCodeEntry = 8.0
        if sparsity.isKSparse { perCodeEntry += 8 }
        if sparsity.isKSparse || skipsZeros { perCodeEntry += 20 }
        // The batch, the reconstruction and its gradient; the centred batch with b_dec.
        var perRow = (subtractsDecoderBias ? 16 : 12) * input
        if sparsity.hasAuxiliaryLoss {
            perCodeEntry += 4
            perRow += 20 * Double(sparsity.auxK) + 4 * input
        }
        // Per latent: offsets, counters and column scratch, whatever the batch.
        let perLatent = sparsity.hasAuxiliaryLoss ? 72.0 : 32.0
        return batch * (perRow + perCodeEntry * hidden) + perLatent * hidden + 1024 + 20 * parameters
    }

    /// Throws `job_too_large` (422) when the estimate exceeds `limit` bytes.
    package func checkMemory(inputWidth: Int, rows: Int, limit: Int) throws {
        let bytes = estimatedTrainingBytes(inputWidth: inputWidth, rows: rows)
        guard bytes <= Double(limit) else {
            let gib = { (value: Double) in String(format: "%.1f GiB", value / Double(1 << 30)) }
            throw ServiceError.jobTooLarge(
                "training needs about \(gib(bytes)) for hidden_size \(hiddenSize), batch_size "
                    + "\(options.batchSize) and \(inputWidth) inputs; the limit is \(gib(Double(limit))) "
                    + "(max_training_memory_bytes): lower batch_size or hidden_size")
        }
    }

    /// The spec in the request schema, with defaults filled in.
    package var json: JSONValue {
        var object: [String: JSONValue] = [
            "dataset": Self.json(training),
            "model": .object([
                "hidden_size": .number(Double(hiddenSize)),
                "activation": .string(activation.rawValue),
                "decoder_activation": .string(decoderActivation.rawValue),
                "normalize_decoder_rows": .bool(options.normalizesDecoderRows),
                "decoder_bias_init": options.decoderBiasInit.map { .string($0.rawValue) } ?? .null,
                "tied_weights": .bool(hasTiedWeights),
                "subtract_decoder_bias": .bool(subtractsDecoderBias),
            ]),
            "reconstruction": .string(options.reconstruction.rawValue),
            "sparsity": .object([
                "kind": .string(options.sparsity.kind.rawValue),
                "beta": .float(options.sparsity.beta),
                "reduction": .string(options.sparsity.reduction.rawValue),
                "rho": .float(options.sparsity.rho),
                "k": .number(Double(options.sparsity.k)),
                "aux_k": .number(Double(options.sparsity.auxK)),
                "aux_coefficient": .float(options.sparsity.auxCoefficient),
                "dead_after_samples": .number(Double(options.sparsity.deadAfterSamples)),
                "threshold_rate": .float(options.sparsity.thresholdRate),
            ]),
            "optimizer": .object([
                "kind": .string(options.optimizer.rawValue),
                "momentum": .float(options.momentum),
                "dampening": .float(options.dampening),
                "nesterov": .bool(options.nesterov),
                "learning_rate": .float(options.learningRate),
                "beta1": .float(options.beta1),
                "beta2": .float(options.beta2),
                "epsilon": .float(options.epsilon),
                "weight_decay": .float(options.weightDecay),
                "warmup_steps": .number(Double(options.warmupSteps)),
                "sparsity_warmup_steps": .number(Double(options.sparsityWarmupSteps)),
                "decay": .string(options.learningRateDecay.rawValue),
                "decay_end_factor": .float(options.decayEndFactor),
                "max_gradient_norm": options.maxGradientNorm.map(JSONValue.float) ?? .null,
            ]),
            "epochs": .number(Double(options.epochs)),
            "batch_size": .number(Double(options.batchSize)),
            "seed": .number(Double(options.seed)),
            "shuffle": .bool(options.shuffle),
            "l2_weights": .float(options.l2Weights),
            "normalization": options.normalization.map { .string($0.rawValue) } ?? .null,
            "init_from": initFrom.map(JSONValue.string) ?? .null,
        ]
        object["name"] = name.map(JSONValue.string)
        object["validation"] = validation.map(Self.json)
        return .object(object)
    }

    private static func json(_ source: DatasetSource) -> JSONValue {
        var object: [String: JSONValue] = [:]
        switch source.reference {
        case .builtin(let name, let split):
            object["name"] = .string(name)
            object["split"] = .string(split)
        case .path(let path):
            object["path"] = .string(path)
        case .uploaded(let id):
            object["id"] = .string(id)
        }
        object["limit"] = source.limit.map { .number(Double($0)) }
        object["format"] = source.format.map { .string($0.name) }
        switch source.format {
        case .csv(let hasHeader, let labelColumn)?:
            object["header"] = .bool(hasHeader)
            object["label_column"] = labelColumn.map { .number(Double($0)) }
        case .rawFloat32(let width)?:
            object["width"] = .number(Double(width))
        default:
            break
        }
        return .object(object)
    }
}

extension JSONValue {
    /// A float as the shortest decimal that reads back to it, so 1e-3 shows as 0.001.
    package static func float(_ value: Float) -> JSONValue {
        .number(Double("\(value)") ?? Double(value))
    }
}
