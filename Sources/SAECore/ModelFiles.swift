// A saved model is a directory holding two files:
//   model.safetensors  W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in],
//                      all F32, with string metadata holding every AutoencoderConfig field:
//                      "activation", "decoder_activation", "top_k", "batch_top_k",
//                      "threshold", "tied_weights", "subtract_decoder_bias", and the input
//                      normalisation when saved with one: "normalization" (none, unit,
//                      standardize) with "normalization_mean" and "normalization_std" as
//                      comma-separated shortest decimals (metadata, not tensors, so tools that
//                      load the state dict strictly still read the file)
//   cfg.json           the caller's configuration JSON, stored byte for byte
// The weights file alone is enough to rebuild the AutoencoderConfig. A key that is absent (a
// file written by another tool, or by an older saed) takes the config's default: relu, no
// top-k, no batch top-k, no threshold, untied, no b_dec subtraction.

import Foundation

/// The names and metadata keys of a saved model directory.
package enum ModelFiles {
    /// The weights file inside a model directory.
    package static let weightsFileName = "model.safetensors"
    /// The configuration file inside a model directory.
    package static let configFileName = "cfg.json"

    /// Metadata keys in the weights file.
    static let activationKey = "activation"
    static let decoderActivationKey = "decoder_activation"
    static let topKKey = "top_k"
    static let batchTopKKey = "batch_top_k"
    static let thresholdKey = "threshold"
    static let tiedWeightsKey = "tied_weights"
    static let subtractsDecoderBiasKey = "subtract_decoder_bias"
    static let normalizationKey = "normalization"
    static let normalizationMeanKey = "normalization_mean"
    static let normalizationStdKey = "normalization_std"
}

extension Autoencoder {
    /// Saves the weights as `model.safetensors` and `configJSON` as `cfg.json` in `directory`.
    ///
    /// Creates `directory` (and its parents) when missing. Each file is replaced atomically, so
    /// a failure leaves the previous version of that file intact; the weights are written first.
    /// `normalization`, when given, goes into the weights file's metadata too, so the file alone
    /// says how inputs are to be prepared (see ``savedNormalization(from:)``).
    ///
    /// - Throws: `DataError.writeFailed`.
    package func save(to directory: URL, configJSON: Data, normalization: Normalization? = nil) throws {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError.writeFailed(
                file: directory.lastPathComponent, reason: "the directory cannot be created")
        }

        var metadata = Self.metadata(for: config)
        if let normalization {
            metadata.merge(Self.metadata(for: normalization)) { _, new in new }
        }
        let (inputs, latents) = (config.inputSize, config.hiddenSize)
        let tensors = [
            SafeTensors.Tensor(name: "W_enc", shape: [inputs, latents], values: wEnc),
            SafeTensors.Tensor(name: "b_enc", shape: [latents], values: bEnc),
            SafeTensors.Tensor(name: "W_dec", shape: [latents, inputs], values: wDec),
            SafeTensors.Tensor(name: "b_dec", shape: [inputs], values: bDec),
        ]
        try SafeTensors.write(
            tensors, metadata: metadata,
            to: directory.appendingPathComponent(ModelFiles.weightsFileName))
        try AtomicFile.write(
            configJSON, to: directory.appendingPathComponent(ModelFiles.configFileName))
    }

    /// Loads a model saved by `save(to:configJSON:)`, or weights written by another tool.
    ///
    /// The configuration comes from the tensor shapes and the weights file's metadata; the
    /// returned `configJSON` is `cfg.json` exactly as stored. Extra tensors are ignored.
    ///
    /// - Throws: `DataError.modelInvalid` for a missing tensor, inconsistent shapes, unknown
    ///   metadata values or non-finite weights; `.safetensorsInvalid`; `.fileNotFound` when
    ///   either file is missing; other file errors.
    package static func load(from directory: URL) throws -> (model: Autoencoder, configJSON: Data) {
        let file = ModelFiles.weightsFileName
        let (tensors, metadata) = try SafeTensors.read(
            contentsOf: directory.appendingPathComponent(file))
        let configJSON = try AtomicFile.read(
            contentsOf: directory.appendingPathComponent(ModelFiles.configFileName))

        // The encoder fixes both sizes; the other tensors must agree with it.
        let wEnc = try savedTensor("W_enc", in: tensors, file: file)
        guard wEnc.shape.count == 2, wEnc.shape.allSatisfy({ $0 > 0 }) else {
            throw DataError.modelInvalid(
                file: file, reason: "W_enc has shape \(wEnc.shape); expected [d_in, d_sae] > 0")
        }
        let (inputs, latents) = (wEnc.shape[0], wEnc.shape[1])
        let bEnc = try savedTensor("b_enc", in: tensors, shape: [latents], file: file)
        let wDec = try savedTensor("W_dec", in: tensors, shape: [latents, inputs], file: file)
        let bDec = try savedTensor("b_dec", in: tensors, shape: [inputs], file: file)

        let config = try savedConfig(
            inputSize: inputs, hiddenSize: latents, metadata: metadata, file: file)
        if config.hasTiedWeights,
            wDec.values != transposed(wEnc.values, rows: inputs, columns: latents)
        {
            throw DataError.modelInvalid(
                file: file, reason: "metadata tied_weights is true but W_dec is not W_enc transposed")
        }
        let model = Autoencoder(
            config: config, wEnc: wEnc.values, bEnc: bEnc.values, wDec: wDec.values,
            bDec: bDec.values)
        return (model, Data(configJSON))
    }

    /// The input normalisation a weights file's metadata records, or nil when it records none
    /// (a file from another tool, or saved without one).
    ///
    /// - Throws: `DataError.modelInvalid` for an unknown kind, a standardize entry without
    ///   one finite mean and one positive, finite standard deviation per input, or statistics
    ///   given for another kind; the file errors of `load(from:)`.
    package static func savedNormalization(from directory: URL) throws -> Normalization? {
        let file = ModelFiles.weightsFileName
        let (tensors, metadata) = try SafeTensors.read(
            contentsOf: directory.appendingPathComponent(file))
        let inputs = tensors["W_enc"]?.shape.first ?? 0
        guard let text = metadata[ModelFiles.normalizationKey] else {
            for key in [ModelFiles.normalizationMeanKey, ModelFiles.normalizationStdKey]
            where metadata[key] != nil {
                throw DataError.modelInvalid(
                    file: file, reason: "metadata \(key) is set but normalization is not")
            }
            return nil
        }
        guard let kind = NormalizationKind(rawValue: text) else {
            let known = NormalizationKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw DataError.modelInvalid(
                file: file, reason: "metadata normalization is '\(text)'; expected one of \(known)")
        }
        guard kind == .standardize else {
            for key in [ModelFiles.normalizationMeanKey, ModelFiles.normalizationStdKey]
            where metadata[key] != nil {
                throw DataError.modelInvalid(
                    file: file, reason: "metadata \(key) is set but normalization is \(text)")
            }
            return Normalization(kind: kind)
        }
        let mean = try savedStatistics(
            ModelFiles.normalizationMeanKey, in: metadata, count: inputs, file: file) { $0.isFinite }
        let deviation = try savedStatistics(
            ModelFiles.normalizationStdKey, in: metadata, count: inputs, file: file
        ) { $0.isFinite && $0 > 0 }
        return Normalization(kind: .standardize, mean: mean, standardDeviation: deviation)
    }

    /// `count` comma-separated numbers under `key`, each passing `isValid`.
    private static func savedStatistics(
        _ key: String, in metadata: [String: String], count: Int, file: String,
        isValid: (Float) -> Bool
    ) throws -> [Float] {
        let text = metadata[key] ?? ""
        let pieces = text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false)
        guard pieces.count == count else {
            throw DataError.modelInvalid(
                file: file,
                reason: "metadata \(key) holds \(pieces.count) values; standardize needs \(count), one per input")
        }
        return try pieces.enumerated().map { index, piece in
            guard let value = Float(piece.trimmingCharacters(in: .whitespaces)), isValid(value) else {
                throw DataError.modelInvalid(
                    file: file,
                    reason: "metadata \(key) value \(index) is '\(piece)'; expected a finite number"
                        + (key == ModelFiles.normalizationStdKey ? " above 0" : ""))
            }
            return value
        }
    }

    /// The metadata entries recording `normalization`; statistics as shortest decimals, which
    /// read back to the same floats.
    static func metadata(for normalization: Normalization) -> [String: String] {
        var metadata = [ModelFiles.normalizationKey: normalization.kind.rawValue]
        if normalization.kind == .standardize {
            metadata[ModelFiles.normalizationMeanKey] =
                normalization.mean.map { "\($0)" }.joined(separator: ",")
            metadata[ModelFiles.normalizationStdKey] =
                normalization.standardDeviation.map { "\($0)" }.joined(separator: ",")
        }
        return metadata
    }

    /// The tensor called `name`, checked for its shape (when given) and for finite values.
    private static func savedTensor(
        _ name: String, in tensors: [String: SafeTensors.Tensor], shape: [Int]? = nil,
        file: String
    ) throws -> SafeTensors.Tensor {
        guard let tensor = tensors[name] else {
            throw DataError.modelInvalid(file: file, reason: "there is no '\(name)' tensor")
        }
        if let shape, tensor.shape != shape {
            throw DataError.modelInvalid(
                file: file, reason: "\(name) has shape \(tensor.shape); expected \(shape)")
        }
        if let index = tensor.values.firstIndex(where: { !$0.isFinite }) {
            throw DataError.modelInvalid(
                file: file,
                reason: "\(name) element \(index) is \(tensor.values[index]); expected finite")
        }
        return tensor
    }

    private static func savedActivation(
        _ key: String, in metadata: [String: String], file: String
    ) throws -> Activation {
        guard let text = metadata[key] else { return .relu }
        guard let activation = Activation(rawValue: text.lowercased()) else {
            let known = Activation.allCases.map(\.rawValue).joined(separator: ", ")
            throw DataError.modelInvalid(
                file: file, reason: "metadata \(key) is '\(text)'; expected one of \(known)")
        }
        return activation
    }

    /// The weights file's metadata for `config`: every field, absent optionals left out.
    ///
    /// The threshold is written as Swift's shortest decimal, which reads back to the same float.
    static func metadata(for config: AutoencoderConfig) -> [String: String] {
        var metadata = [
            ModelFiles.activationKey: config.activation.rawValue,
            ModelFiles.decoderActivationKey: config.decoderActivation.rawValue,
            ModelFiles.tiedWeightsKey: String(config.hasTiedWeights),
            ModelFiles.subtractsDecoderBiasKey: String(config.subtractsDecoderBias),
        ]
        metadata[ModelFiles.topKKey] = config.topK.map { String($0) }
        metadata[ModelFiles.batchTopKKey] = config.batchTopK.map { String($0) }
        metadata[ModelFiles.thresholdKey] = config.threshold.map { "\($0)" }
        return metadata
    }

    /// The configuration the metadata describes for a model of the given sizes.
    private static func savedConfig(
        inputSize: Int, hiddenSize: Int, metadata: [String: String], file: String
    ) throws -> AutoencoderConfig {
        AutoencoderConfig(
            inputSize: inputSize,
            hiddenSize: hiddenSize,
            activation: try savedActivation(ModelFiles.activationKey, in: metadata, file: file),
            decoderActivation: try savedActivation(
                ModelFiles.decoderActivationKey, in: metadata, file: file),
            topK: try savedCount(ModelFiles.topKKey, in: metadata, latents: hiddenSize, file: file),
            batchTopK: try savedCount(
                ModelFiles.batchTopKKey, in: metadata, latents: hiddenSize, file: file),
            threshold: try savedThreshold(in: metadata, file: file),
            hasTiedWeights: try savedFlag(ModelFiles.tiedWeightsKey, in: metadata, file: file),
            subtractsDecoderBias: try savedFlag(
                ModelFiles.subtractsDecoderBiasKey, in: metadata, file: file))
    }

    /// Whether `text` leaves an optional field unset: absent, empty, `none` or `null`.
    private static func isUnset(_ text: String?) -> Bool {
        guard let text else { return true }
        return ["", "none", "null"].contains(text.lowercased())
    }

    /// A latent count (`top_k`, `batch_top_k`) from the metadata, in `1...latents`.
    private static func savedCount(
        _ key: String, in metadata: [String: String], latents: Int, file: String
    ) throws -> Int? {
        guard let text = metadata[key], !isUnset(text) else { return nil }
        guard let count = Int(text), (1...latents).contains(count) else {
            throw DataError.modelInvalid(
                file: file, reason: "metadata \(key) is '\(text)'; expected 1...\(latents)")
        }
        return count
    }

    /// `threshold` from the metadata: a finite decimal number.
    private static func savedThreshold(
        in metadata: [String: String], file: String
    ) throws -> Float? {
        let key = ModelFiles.thresholdKey
        guard let text = metadata[key], !isUnset(text) else { return nil }
        guard let threshold = Float(text), threshold.isFinite else {
            throw DataError.modelInvalid(
                file: file, reason: "metadata \(key) is '\(text)'; expected a finite number")
        }
        return threshold
    }

    /// A flag from the metadata: `true` or `false` (any case), false when absent.
    private static func savedFlag(
        _ key: String, in metadata: [String: String], file: String
    ) throws -> Bool {
        guard let text = metadata[key] else { return false }
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default:
            throw DataError.modelInvalid(
                file: file, reason: "metadata \(key) is '\(text)'; expected true or false")
        }
    }
}
