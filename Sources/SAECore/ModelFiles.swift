// A saved model is a directory holding two files:
//   model.safetensors  W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in],
//                      all F32, with metadata "activation", "decoder_activation" and "top_k"
//   cfg.json           the caller's configuration JSON, stored byte for byte
// The weights file alone is enough to rebuild the AutoencoderConfig; when its metadata is absent
// (a file written by another tool) the activations default to relu and top-k to none.

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
}

extension Autoencoder {
    /// Saves the weights as `model.safetensors` and `configJSON` as `cfg.json` in `directory`.
    ///
    /// Creates `directory` (and its parents) when missing. Each file is replaced atomically, so
    /// a failure leaves the previous version of that file intact; the weights are written first.
    ///
    /// - Throws: `DataError.writeFailed`.
    package func save(to directory: URL, configJSON: Data) throws {
        do {
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError.writeFailed(
                file: directory.lastPathComponent, reason: "the directory cannot be created")
        }

        var metadata = [
            ModelFiles.activationKey: config.activation.rawValue,
            ModelFiles.decoderActivationKey: config.decoderActivation.rawValue,
        ]
        if let topK = config.topK {
            metadata[ModelFiles.topKKey] = String(topK)
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

        let config = AutoencoderConfig(
            inputSize: inputs,
            hiddenSize: latents,
            activation: try savedActivation(ModelFiles.activationKey, in: metadata, file: file),
            decoderActivation: try savedActivation(
                ModelFiles.decoderActivationKey, in: metadata, file: file),
            topK: try savedTopK(in: metadata, latents: latents, file: file))
        let model = Autoencoder(
            config: config, wEnc: wEnc.values, bEnc: bEnc.values, wDec: wDec.values,
            bDec: bDec.values)
        return (model, Data(configJSON))
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

    /// `top_k` from the metadata; absent, empty, `none` or `null` mean no top-k.
    private static func savedTopK(
        in metadata: [String: String], latents: Int, file: String
    ) throws -> Int? {
        guard let text = metadata[ModelFiles.topKKey],
            !["", "none", "null"].contains(text.lowercased())
        else { return nil }
        guard let topK = Int(text), (1...latents).contains(topK) else {
            throw DataError.modelInvalid(
                file: file,
                reason: "metadata \(ModelFiles.topKKey) is '\(text)'; expected 1...\(latents)")
        }
        return topK
    }
}
