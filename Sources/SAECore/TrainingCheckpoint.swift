// A trainer's complete state between epochs, and its file form.
//
// The file is a safetensors file, so the usual tools can open it:
//
//   W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in]   the model
//   optimizer.exp_avg [P], optimizer.exp_avg_sq [P]                          Adam's moments
//   optimizer.momentum_buffer [P or 0]                                        SGD's buffer
//   normalization.mean [d_in], normalization.std [d_in]                       standardize only
//   __metadata__: {"format": "saed-checkpoint", "state": "<JSON of everything else>"}
//
// P is the trainer's flat parameter count, with W_enc stored transposed (ParameterLayout).
// Floats in the JSON state (options, threshold) round-trip exactly through Foundation's
// JSON coders; 64-bit words are written as decimal integers.

import Foundation

/// Everything a ``Trainer`` needs to continue exactly where it stood: the model (with its
/// learnt threshold), optimiser moments and step, the shuffle generator's state, the
/// dead-latent counters, the epochs and steps completed, and the fitted normalisation.
///
/// Take one with ``Trainer/checkpoint()`` between epochs, save it with ``write(to:)``, read it
/// with ``read(from:)`` and continue with ``Trainer/init(resuming:options:training:validation:)``.
package struct TrainingCheckpoint: Sendable, Equatable {
    /// The file format version this code writes and reads.
    package static let formatVersion = 1

    /// The model as trained so far, configuration included.
    package var model: Autoencoder
    /// The options the trainer ran with.
    package var options: TrainingOptions
    /// The normalisation fitted to the training set.
    package var normalization: Normalization
    /// Adam's state (moments in the trainer's flat layout), when Adam is the optimiser.
    package var adam: Adam?
    /// SGD's state, when SGD is the optimiser.
    package var sgd: SGD?
    /// The shuffle generator's state.
    package var generator: SeededGenerator.State
    /// Per latent, training samples since it last fired.
    package var samplesSinceFired: [Int]
    /// Epochs run to completion.
    package var epochsCompleted: Int
    /// Optimiser steps taken.
    package var steps: Int
    /// Rows of the training set, checked on resume.
    package var trainingRows: Int
    /// A 64-bit hash of the training data, checked on resume.
    package var trainingFingerprint: UInt64

    /// A checkpoint with every field given.
    package init(
        model: Autoencoder, options: TrainingOptions, normalization: Normalization, adam: Adam?,
        sgd: SGD?, generator: SeededGenerator.State, samplesSinceFired: [Int],
        epochsCompleted: Int, steps: Int, trainingRows: Int, trainingFingerprint: UInt64
    ) {
        self.model = model
        self.options = options
        self.normalization = normalization
        self.adam = adam
        self.sgd = sgd
        self.generator = generator
        self.samplesSinceFired = samplesSinceFired
        self.epochsCompleted = epochsCompleted
        self.steps = steps
        self.trainingRows = trainingRows
        self.trainingFingerprint = trainingFingerprint
    }
}

/// Why a checkpoint could not be read or resumed.
package enum CheckpointError: Error, Sendable, Equatable {
    /// The file is a readable safetensors file but not a valid checkpoint; `file` is its last
    /// path component.
    case invalid(file: String, reason: String)
    /// The checkpoint does not belong to these options or this data; `field` names what
    /// differs (`"options.batchSize"`, `"training"`).
    case mismatch(field: String, message: String)

    /// A stable snake_case identifier with no dynamic values.
    package var code: String {
        switch self {
        case .invalid: "checkpoint_invalid"
        case .mismatch: "checkpoint_mismatch"
        }
    }

    /// A human-readable sentence including the offending values.
    package var message: String {
        switch self {
        case .invalid(let file, let reason): "\(file): not a valid saed checkpoint: \(reason)."
        case .mismatch(let field, let message): "\(field): \(message)"
        }
    }
}

extension CheckpointError: CustomStringConvertible {
    package var description: String { message }
}

// MARK: - File form

extension TrainingCheckpoint {
    /// The scalar state stored as JSON in the file's metadata.
    private struct State: Codable {
        var version: Int
        var config: AutoencoderConfig
        var options: TrainingOptions
        var normalization: NormalizationKind
        var optimizer: OptimizerKind
        var adam: AdamSettings?
        var sgd: SGDSettings?
        var generator: [UInt64]
        var samplesSinceFired: [Int]
        var epochsCompleted: Int
        var steps: Int
        var trainingRows: Int
        var trainingFingerprint: UInt64
    }

    private struct AdamSettings: Codable {
        var learningRate: Float
        var beta1: Float
        var beta2: Float
        var epsilon: Float
        var weightDecay: Float
        var step: Int
    }

    private struct SGDSettings: Codable {
        var learningRate: Float
        var momentum: Float
        var dampening: Float
        var weightDecay: Float
        var isNesterov: Bool
        var step: Int
    }

    private static let formatKey = "format"
    private static let formatName = "saed-checkpoint"
    private static let stateKey = "state"

    /// Writes the checkpoint to `url` atomically: the previous file, if any, survives a failure.
    ///
    /// - Throws: `DataError.writeFailed`.
    package func write(to url: URL) throws {
        let config = model.config
        let (d, h) = (config.inputSize, config.hiddenSize)
        var tensors = [
            SafeTensors.Tensor(name: "W_enc", shape: [d, h], values: model.wEnc),
            SafeTensors.Tensor(name: "b_enc", shape: [h], values: model.bEnc),
            SafeTensors.Tensor(name: "W_dec", shape: [h, d], values: model.wDec),
            SafeTensors.Tensor(name: "b_dec", shape: [d], values: model.bDec),
        ]
        if let adam {
            tensors.append(tensor("optimizer.exp_avg", adam.firstMoment))
            tensors.append(tensor("optimizer.exp_avg_sq", adam.secondMoment))
        }
        if let sgd {
            tensors.append(tensor("optimizer.momentum_buffer", sgd.momentumBuffer))
        }
        if normalization.kind == .standardize {
            tensors.append(tensor("normalization.mean", normalization.mean))
            tensors.append(tensor("normalization.std", normalization.standardDeviation))
        }
        let state = State(
            version: Self.formatVersion, config: config, options: options,
            normalization: normalization.kind, optimizer: adam == nil ? .sgd : .adam,
            adam: adam.map {
                AdamSettings(
                    learningRate: $0.learningRate, beta1: $0.beta1, beta2: $0.beta2,
                    epsilon: $0.epsilon, weightDecay: $0.weightDecay, step: $0.step)
            },
            sgd: sgd.map {
                SGDSettings(
                    learningRate: $0.learningRate, momentum: $0.momentum,
                    dampening: $0.dampening, weightDecay: $0.weightDecay,
                    isNesterov: $0.isNesterov, step: $0.step)
            },
            generator: [generator.s0, generator.s1, generator.s2, generator.s3],
            samplesSinceFired: samplesSinceFired, epochsCompleted: epochsCompleted, steps: steps,
            trainingRows: trainingRows, trainingFingerprint: trainingFingerprint)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(state), as: UTF8.self)
        try SafeTensors.write(
            tensors, metadata: [Self.formatKey: Self.formatName, Self.stateKey: json], to: url)
    }

    private func tensor(_ name: String, _ values: [Float]) -> SafeTensors.Tensor {
        SafeTensors.Tensor(name: name, shape: [values.count], values: values)
    }

    /// Reads a checkpoint written by ``write(to:)``, checking that every part fits the others.
    ///
    /// - Throws: ``CheckpointError/invalid(file:reason:)`` when the file is not a checkpoint,
    ///   was written by another format version, or has a missing or misshapen part; the
    ///   `DataError` of ``SafeTensors/read(contentsOf:)`` when it is not a readable safetensors
    ///   file (missing, truncated, corrupt header).
    package static func read(from url: URL) throws -> TrainingCheckpoint {
        let file = url.lastPathComponent
        func invalid(_ reason: String) -> CheckpointError { .invalid(file: file, reason: reason) }
        let (tensors, metadata) = try SafeTensors.read(contentsOf: url)
        guard metadata[formatKey] == formatName, let json = metadata[stateKey] else {
            throw invalid("its metadata lacks format \"\(formatName)\" and a state")
        }
        let state: State
        do {
            state = try JSONDecoder().decode(State.self, from: Data(json.utf8))
        } catch {
            throw invalid("its state is not the expected JSON (\(error))")
        }
        guard state.version == formatVersion else {
            throw invalid("it has format version \(state.version); this build reads \(formatVersion)")
        }
        return try checkpoint(from: state, tensors: tensors, invalid: invalid)
    }

    private static func checkpoint(
        from state: State,
        tensors: [String: SafeTensors.Tensor],
        invalid: (String) -> CheckpointError
    ) throws -> TrainingCheckpoint {
        let config = state.config
        let (d, h) = (config.inputSize, config.hiddenSize)
        guard d > 0, h > 0 else { throw invalid("the model has sizes \(d) → \(h)") }
        func values(_ name: String, _ shape: [Int]) throws -> [Float] {
            guard let tensor = tensors[name] else { throw invalid("there is no '\(name)' tensor") }
            guard tensor.shape == shape else {
                throw invalid("'\(name)' has shape \(tensor.shape); expected \(shape)")
            }
            return tensor.values
        }
        let model = Autoencoder(
            config: config, wEnc: try values("W_enc", [d, h]), bEnc: try values("b_enc", [h]),
            wDec: try values("W_dec", [h, d]), bDec: try values("b_dec", [d]))

        let parameterCount = ParameterLayout(config).count
        var adam: Adam?
        var sgd: SGD?
        switch (state.optimizer, state.adam, state.sgd) {
        case (.adam, let s?, nil):
            var restored = Adam(
                parameterCount: 0, learningRate: s.learningRate, beta1: s.beta1, beta2: s.beta2,
                epsilon: s.epsilon, weightDecay: s.weightDecay)
            restored.step = s.step
            restored.firstMoment = try values("optimizer.exp_avg", [parameterCount])
            restored.secondMoment = try values("optimizer.exp_avg_sq", [parameterCount])
            adam = restored
        case (.sgd, nil, let s?):
            var restored = SGD(
                parameterCount: 0, learningRate: s.learningRate, momentum: s.momentum,
                dampening: s.dampening, weightDecay: s.weightDecay, isNesterov: s.isNesterov)
            restored.step = s.step
            let bufferCount = s.momentum == 0 ? 0 : parameterCount
            restored.momentumBuffer = try values("optimizer.momentum_buffer", [bufferCount])
            sgd = restored
        default:
            throw invalid("its optimizer state does not match optimizer \(state.optimizer.rawValue)")
        }

        var normalization = Normalization(kind: state.normalization)
        if state.normalization == .standardize {
            normalization.mean = try values("normalization.mean", [d])
            normalization.standardDeviation = try values("normalization.std", [d])
            if normalization.standardDeviation.contains(where: { !($0 > 0 && $0.isFinite) }) {
                throw invalid("normalization.std holds a value that is not a positive number")
            }
        }
        let words = state.generator
        guard words.count == 4, words.contains(where: { $0 != 0 }) else {
            throw invalid("the generator state must be four words, not all zero")
        }
        guard state.samplesSinceFired.count == h, state.samplesSinceFired.allSatisfy({ $0 >= 0 })
        else { throw invalid("samplesSinceFired must hold \(h) counts ≥ 0") }
        guard state.epochsCompleted >= 0, state.steps >= 0, state.trainingRows > 0 else {
            throw invalid("epochs, steps and training rows must not be negative")
        }
        return TrainingCheckpoint(
            model: model, options: state.options, normalization: normalization, adam: adam,
            sgd: sgd,
            generator: SeededGenerator.State(s0: words[0], s1: words[1], s2: words[2], s3: words[3]),
            samplesSinceFired: state.samplesSinceFired, epochsCompleted: state.epochsCompleted,
            steps: state.steps, trainingRows: state.trainingRows,
            trainingFingerprint: state.trainingFingerprint)
    }
}
