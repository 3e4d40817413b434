import SAECore

/// What saed reads from the `cfg.json` sent with an imported model.
///
/// saed's own keys, as `GET /v1/models/ID` shows them: `input_size`, `hidden_size`,
/// `activation`, `decoder_activation`, `top_k`, `batch_top_k`, `threshold`, `tied_weights`,
/// `subtract_decoder_bias`, `normalization`, `normalization_mean`, `normalization_std` and
/// `name`. SAELens's `d_in`, `d_sae`, `apply_b_dec_to_input`, `architecture` (`standard` or
/// `topk`), `k` and `activation_fn_kwargs.k` (a top-k SAE's k, in newer and older files),
/// `activation_fn_str` / `activation_fn` (`relu` or `topk`), `normalize_activations` (`none`
/// only) and `finetuning_scaling_factor` (false only) are read too. Every other key is ignored,
/// since other tools' files carry many that do not bear on encoding. Keys given here override
/// the weights file's metadata.
///
/// A SAELens file (one with `d_sae`, `architecture` or `apply_b_dec_to_input`) describes a
/// linear decoder, so its `decoder_activation` is `identity` unless the file or the weights'
/// metadata says otherwise. Settings saed cannot reproduce are refused rather than ignored,
/// since ignoring them would serve different numbers than the model was trained to give.
struct ImportedModelConfig: Equatable {
    /// Weights-file metadata entries (`ModelFiles` keys) the file sets.
    var metadata: [String: String] = [:]
    /// Metadata entries that apply only where the weights file has none (a SAELens file's
    /// linear decoder).
    var defaults: [String: String] = [:]
    var inputSize: Int?
    var hiddenSize: Int?
    var normalization: NormalizationKind?
    var mean: [Float]?
    var standardDeviation: [Float]?
    var name: String?
    /// The cfg.json key each latent count came from (`top_k`, `k`, `activation_fn_kwargs.k`,
    /// `batch_top_k`), by metadata key, for errors found once the weights' sizes are known.
    var countKeys: [String: String] = [:]

    /// The path errors name: the form part's name.
    static let path = "config"

    /// Reads a cfg.json. Throws 400 `malformed_json`, or `invalid_field` naming
    /// `config.<key>` for a value of the wrong type or an unsupported architecture.
    static func parse(_ bytes: [UInt8]) throws -> ImportedModelConfig {
        var reader = try JSONObjectReader(JSONValue.parse(bytes, source: "the uploaded cfg.json"), path: path)
        var config = ImportedModelConfig()
        config.name = try reader.string("name").map { try ResourceName.checked($0, field: reader.fieldPath("name")) }
        config.inputSize = try reader.integer("input_size", in: 1...Int(Int32.max))
            ?? reader.integer("d_in", in: 1...Int(Int32.max))
        config.hiddenSize = try reader.integer("hidden_size", in: 1...Int(Int32.max))
            ?? reader.integer("d_sae", in: 1...Int(Int32.max))
        try config.readArchitecture(&reader)
        try config.readNormalization(&reader)
        // Other tools' keys are many and harmless: no rejectUnknownFields here.
        return config
    }

    private mutating func readArchitecture(_ reader: inout JSONObjectReader) throws {
        for key in ["activation", "decoder_activation"] {
            metadata[key] = try reader.choice(key, of: Activation.self)?.rawValue
        }
        let count = 1...Int(Int32.max)
        for key in ["top_k", "batch_top_k"] {
            guard let value = try reader.integer(key, in: count) else { continue }
            metadata[key] = String(value)
            countKeys[key] = key
        }
        if let threshold = try reader.number("threshold") {
            guard Float(threshold).isFinite else {
                throw ServiceError.invalidField(
                    path: reader.fieldPath("threshold"), message: "\(threshold) does not fit float32")
            }
            // Encoding keeps pre-activations above the threshold after ReLU-style gating: one
            // below zero would pass negative codes, which no trained model produces.
            guard threshold >= 0 else {
                throw ServiceError.invalidField(
                    path: reader.fieldPath("threshold"), message: "must be 0 or more, got \(threshold)")
            }
            metadata["threshold"] = "\(Float(threshold) + 0)"
        }
        metadata["tied_weights"] = try reader.bool("tied_weights").map { String($0) }
        let subtracts = try reader.bool("subtract_decoder_bias") ?? reader.bool("apply_b_dec_to_input")
        metadata["subtract_decoder_bias"] = subtracts.map { String($0) }

        try readSAELens(&reader)
    }

    /// SAELens's keys: the architecture and its k, the activation, and the settings saed
    /// cannot reproduce (refused, naming the key).
    private mutating func readSAELens(_ reader: inout JSONObjectReader) throws {
        let markers = ["d_sae", "architecture", "apply_b_dec_to_input"]
        if markers.contains(where: { reader.value($0) != nil }) {
            defaults["decoder_activation"] = Activation.identity.rawValue
        }
        var isTopK = false
        if let architecture = try reader.string("architecture") {
            guard ["standard", "topk"].contains(architecture) else {
                throw ServiceError.invalidField(
                    path: reader.fieldPath("architecture"),
                    message: "\"\(architecture)\" is not supported; saed serves \"standard\" and \"topk\" SAEs")
            }
            isTopK = architecture == "topk"
        }
        for key in ["activation_fn_str", "activation_fn"] {
            guard let function = try reader.string(key) else { continue }
            guard ["relu", "topk"].contains(function) else {
                throw ServiceError.invalidField(
                    path: reader.fieldPath(key),
                    message: "\"\(function)\" is not supported; saed serves \"relu\" and \"topk\" SAEs")
            }
            isTopK = isTopK || function == "topk"
        }
        if isTopK, metadata["top_k"] == nil {
            let count = 1...Int(Int32.max)
            var k = try reader.integer("k", in: count)
            countKeys["top_k"] = "k"
            if k == nil, var arguments = try reader.object("activation_fn_kwargs") {
                k = try arguments.integer("k", in: count)
                countKeys["top_k"] = "activation_fn_kwargs.k"
            }
            guard let k else {
                throw ServiceError.invalidField(
                    path: reader.fieldPath("k"),
                    message: "a topk SAE needs its k (\"k\", \"activation_fn_kwargs.k\" or \"top_k\")")
            }
            metadata["top_k"] = String(k)
        }
        if let scaling = try reader.string("normalize_activations"), scaling != "none" {
            throw ServiceError.invalidField(
                path: reader.fieldPath("normalize_activations"),
                message: "\"\(scaling)\" is not supported: saed cannot rescale inputs as SAELens does; "
                    + "fold the scaling into the weights, or use \"normalization\"")
        }
        if try reader.bool("finetuning_scaling_factor") == true {
            throw ServiceError.invalidField(
                path: reader.fieldPath("finetuning_scaling_factor"),
                message: "true is not supported: the scaling tensor is not read; fold it into W_dec")
        }
    }

    private mutating func readNormalization(_ reader: inout JSONObjectReader) throws {
        normalization = try reader.choice("normalization", of: NormalizationKind.self)
        for key in ["normalization_mean", "normalization_std"] {
            guard let value = reader.value(key) else { continue }
            let path = reader.fieldPath(key)
            guard case .array(let items) = value else {
                throw ServiceError.invalidField(path: path, message: "must be an array of numbers")
            }
            let numbers = try items.enumerated().map { index, item -> Float in
                guard case .number(let number) = item, Float(number).isFinite else {
                    throw ServiceError.invalidField(
                        path: "\(path)[\(index)]", message: "must be a finite float32 number")
                }
                return Float(number)
            }
            if key == "normalization_mean" { mean = numbers } else { standardDeviation = numbers }
            guard normalization == .standardize else {
                let named = normalization.map { "\"\($0.rawValue)\"" } ?? "not given"
                throw ServiceError.invalidField(
                    path: path,
                    message: "is given but normalization is \(named); set \"normalization\": \"standardize\" to use it")
            }
        }
    }

    /// The normalisation the file describes for a model of `inputSize` inputs, or nil when it
    /// names none. Throws 400 `invalid_field` when `standardize` lacks a mean or standard
    /// deviation of `inputSize` values, or a standard deviation is not positive.
    func inputNormalization(inputSize: Int) throws -> Normalization? {
        guard let normalization else { return nil }
        guard normalization == .standardize else { return Normalization(kind: normalization) }
        let statistics = [("normalization_mean", mean), ("normalization_std", standardDeviation)]
        for (key, values) in statistics where values?.count != inputSize {
            throw ServiceError.invalidField(
                path: "\(Self.path).\(key)",
                message: "standardize needs \(inputSize) values (one per input), got \(values?.count ?? 0)")
        }
        let mean = self.mean ?? []
        let deviation = standardDeviation ?? []
        if let index = deviation.firstIndex(where: { !($0 > 0) }) {
            throw ServiceError.invalidField(
                path: "\(Self.path).normalization_std[\(index)]", message: "must be greater than 0")
        }
        return Normalization(kind: .standardize, mean: mean, standardDeviation: deviation)
    }
}
