import Foundation
import SAECore
import Testing

struct TrainingOptionsTests {
    let config = AutoencoderConfig(inputSize: 8, hiddenSize: 4)

    @Test func defaultsAreTorchsAdam() {
        let options = TrainingOptions()
        #expect(options.learningRate == 1e-3 && options.beta1 == 0.9 && options.beta2 == 0.999)
        #expect(options.epsilon == 1e-8 && options.weightDecay == 0)
        #expect(options.optimizer == .adam && options.reconstruction == .mse && options.shuffle)
        #expect(options.sparsity == SparsityOptions())
    }

    @Test func decodingFillsMissingKeysWithDefaults() throws {
        let json = #"{"batchSize": 256, "sparsity": {"kind": "topk", "k": 16}}"#
        let options = try JSONDecoder().decode(TrainingOptions.self, from: Data(json.utf8))
        var expected = TrainingOptions(batchSize: 256)
        expected.sparsity = SparsityOptions(kind: .topk, k: 16)
        #expect(options == expected)
        let empty = try JSONDecoder().decode(TrainingOptions.self, from: Data("{}".utf8))
        #expect(empty == TrainingOptions())
    }

    @Test func encodingRoundTrips() throws {
        let options = TrainingOptions(
            epochs: 3, batchSize: 32, learningRate: 0.01, weightDecay: 1e-4, seed: 123,
            shuffle: false, sparsity: SparsityOptions(kind: .kl, beta: 0.2, rho: 0.1),
            reconstruction: .bce, optimizer: .sgd, momentum: 0.9, nesterov: true)
        let data = try JSONEncoder().encode(options)
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: data) == options)
    }

    @Test func unknownEnumValueFailsToDecode() {
        let json = #"{"reconstruction": "huber"}"#
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(TrainingOptions.self, from: Data(json.utf8))
        }
    }

    /// An option change, and the field the validation must name.
    struct Invalid: Sendable, CustomTestStringConvertible {
        var field: String
        var activation: Activation = .relu
        var decoderActivation: Activation = .relu
        var change: @Sendable (inout TrainingOptions) -> Void
        var testDescription: String { field }
    }

    static let invalid: [Invalid] = [
        Invalid(field: "epochs") { $0.epochs = -1 },
        Invalid(field: "batchSize") { $0.batchSize = -1 },
        Invalid(field: "learningRate") { $0.learningRate = -0.1 },
        Invalid(field: "learningRate") { $0.learningRate = .nan },
        Invalid(field: "weightDecay") { $0.weightDecay = .infinity },
        Invalid(field: "beta1") { $0.beta1 = 1 },
        Invalid(field: "beta2") { $0.beta2 = -0.5 },
        Invalid(field: "epsilon") { $0.epsilon = -1 },
        Invalid(field: "momentum") {
            $0.optimizer = .sgd
            $0.momentum = -1
        },
        Invalid(field: "nesterov") {
            $0.optimizer = .sgd
            $0.nesterov = true
        },
        Invalid(field: "sparsity.beta") { $0.sparsity = SparsityOptions(kind: .l1, beta: -1) },
        Invalid(field: "sparsity.k") { $0.sparsity = SparsityOptions(kind: .topk, k: 5) },
        Invalid(field: "sparsity.k") { $0.sparsity = SparsityOptions(kind: .topk, k: 0) },
        Invalid(field: "sparsity.rho", activation: .sigmoid) {
            $0.sparsity = SparsityOptions(kind: .kl, rho: 1)
        },
        Invalid(field: "sparsity.kind") { $0.sparsity = SparsityOptions(kind: .kl) },
        Invalid(field: "sparsity.kind", activation: .sigmoid) {
            $0.sparsity = SparsityOptions(kind: .topk, k: 2)
        },
        Invalid(field: "reconstruction") { $0.reconstruction = .bce },
        Invalid(field: "l2Weights") { $0.l2Weights = -1 },
        Invalid(field: "warmupSteps") { $0.warmupSteps = -1 },
        Invalid(field: "sparsityWarmupSteps") { $0.sparsityWarmupSteps = -2 },
        Invalid(field: "decayEndFactor") { $0.decayEndFactor = 1.5 },
        Invalid(field: "maxGradientNorm") { $0.maxGradientNorm = 0 },
        Invalid(field: "sparsity.k") { $0.sparsity = SparsityOptions(kind: .batchtopk, k: 9) },
        Invalid(field: "sparsity.kind", activation: .sigmoid) {
            $0.sparsity = SparsityOptions(kind: .batchtopk, k: 2)
        },
        Invalid(field: "sparsity.thresholdRate") {
            $0.sparsity = SparsityOptions(kind: .batchtopk, k: 2, thresholdRate: 0)
        },
        Invalid(field: "sparsity.auxK") { $0.sparsity = SparsityOptions(kind: .topk, k: 2, auxK: 5) },
        Invalid(field: "sparsity.auxCoefficient") {
            $0.sparsity = SparsityOptions(kind: .topk, k: 2, auxK: 2, auxCoefficient: -1)
        },
        Invalid(field: "sparsity.deadAfterSamples") {
            $0.sparsity = SparsityOptions(kind: .topk, k: 2, auxK: 2, deadAfterSamples: 0)
        },
        Invalid(field: "sparsity.auxK", decoderActivation: .sigmoid) {
            $0.sparsity = SparsityOptions(kind: .topk, k: 2, auxK: 2)
            $0.reconstruction = .bce
        },
    ]

    @Test(arguments: invalid)
    func validationNamesTheOffendingField(_ invalid: Invalid) {
        var options = TrainingOptions()
        invalid.change(&options)
        let config = AutoencoderConfig(
            inputSize: 8, hiddenSize: 4, activation: invalid.activation,
            decoderActivation: invalid.decoderActivation)
        do {
            try options.validate(for: config)
            Issue.record("\(invalid.field): accepted")
        } catch let error as TrainingError {
            guard case .invalidOption(let field, _) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(field == invalid.field, "\(error.message)")
            #expect(error.code == "invalid_option")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func validationIgnoresFieldsTheChosenMethodsDoNotUse() throws {
        var options = TrainingOptions()
        options.sparsity = SparsityOptions(kind: .none, beta: -5, rho: 7, k: -1)
        options.momentum = -3  // Adam is chosen
        try options.validate(for: config)

        var sigmoidDecoder = config
        sigmoidDecoder.decoderActivation = .sigmoid
        options.reconstruction = .bce
        try options.validate(for: sigmoidDecoder)
    }

    @Test func zeroEpochsAreValid() throws {
        try TrainingOptions(epochs: 0).validate(for: config)
    }

    @Test func newOptionsRoundTripAndDefaultToOff() throws {
        var options = TrainingOptions(
            normalization: .standardize, decoderBiasInit: .geometricMedian, l2Weights: 1e-3,
            warmupSteps: 10, learningRateDecay: .cosine, decayEndFactor: 0.1,
            sparsityWarmupSteps: 50, maxGradientNorm: 1, normalizesDecoderRows: true)
        options.sparsity = SparsityOptions(
            kind: .batchtopk, k: 2, auxK: 3, auxCoefficient: 0.1, deadAfterSamples: 100,
            thresholdRate: 0.05)
        let data = try JSONEncoder().encode(options)
        #expect(try JSONDecoder().decode(TrainingOptions.self, from: data) == options)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"geometric_median\"") && text.contains("\"batchtopk\""))

        let defaults = TrainingOptions()
        #expect(defaults.normalization == nil && defaults.decoderBiasInit == nil)
        #expect(defaults.l2Weights == 0 && defaults.warmupSteps == 0)
        #expect(defaults.learningRateDecay == .constant && defaults.maxGradientNorm == nil)
        #expect(!defaults.normalizesDecoderRows && defaults.sparsity.auxK == 0)
    }

    @Test func configDecodesWithoutTheNewFields() throws {
        let json = #"{"inputSize": 8, "hiddenSize": 4, "activation": "relu", "topK": null}"#
        let config = try JSONDecoder().decode(AutoencoderConfig.self, from: Data(json.utf8))
        #expect(config == AutoencoderConfig(inputSize: 8, hiddenSize: 4))
    }

    @Test func learningRateWarmsUpThenDecays() {
        var options = TrainingOptions(epochs: 2, learningRate: 0.1, warmupSteps: 4)
        // 10 steps per epoch: 20 in all, 16 after warm-up.
        #expect(options.learningRate(atStep: 1, stepsPerEpoch: 10) == 0.025)
        #expect(options.learningRate(atStep: 4, stepsPerEpoch: 10) == 0.1)
        #expect(options.learningRate(atStep: 20, stepsPerEpoch: 10) == 0.1)
        options.learningRateDecay = .linear
        #expect(options.learningRate(atStep: 5, stepsPerEpoch: 10) == 0.1)
        #expect(options.learningRate(atStep: 13, stepsPerEpoch: 10) == 0.05)
        #expect(options.learningRate(atStep: 21, stepsPerEpoch: 10) == 0)
        options.learningRateDecay = .cosine
        options.decayEndFactor = 0.2
        #expect(abs(options.learningRate(atStep: 13, stepsPerEpoch: 10) - 0.06) < 1e-7)
        #expect(abs(options.learningRate(atStep: 99, stepsPerEpoch: 10) - 0.02) < 1e-8)
    }

    @Test func sparsityWeightWarmsUp() {
        var options = TrainingOptions(sparsityWarmupSteps: 4)
        options.sparsity.beta = 0.2
        #expect(options.sparsityBeta(atStep: 1) == 0.05)
        #expect(options.sparsityBeta(atStep: 4) == 0.2)
        #expect(options.sparsityBeta(atStep: 9) == 0.2)
    }

    @Test func modelTopKOutOfRangeIsRejected() {
        var config = self.config
        config.topK = 5
        let expected = TrainingError.invalidOption(
            field: "model.topK", message: "must be in 1...4, not 5")
        #expect(throws: expected) { try TrainingOptions().validate(for: config) }
    }
}
