import SAECore
import Testing

struct AutoencoderInitializationTests {
    @Test func weightsAndBiasesFollowNNLinearBounds() {
        let config = AutoencoderConfig(inputSize: 784, hiddenSize: 128)
        let model = Autoencoder.initialized(config: config, seed: 1)
        let encoderBound = 1 / Float(784).squareRoot()
        let decoderBound = 1 / Float(128).squareRoot()

        #expect(model.wEnc.count == 784 * 128 && model.wDec.count == 128 * 784)
        #expect(model.wEnc.allSatisfy { abs($0) <= encoderBound })
        #expect(model.bEnc.allSatisfy { abs($0) <= encoderBound })
        #expect(model.wDec.allSatisfy { abs($0) <= decoderBound })
        #expect(model.bDec.allSatisfy { abs($0) <= decoderBound })

        // U(−b, b) has mean 0 and variance b²/3; 100,352 draws pin both to within a percent.
        for (values, bound) in [(model.wEnc, encoderBound), (model.wDec, decoderBound)] {
            let count = Double(values.count)
            let mean = values.reduce(0.0) { $0 + Double($1) } / count
            let variance = values.reduce(0.0) { $0 + Double($1) * Double($1) } / count
            let expected = Double(bound * bound) / 3
            #expect(abs(mean) < 0.01 * Double(bound))
            #expect(abs(variance / expected - 1) < 0.02, "variance \(variance), want \(expected)")
        }
    }

    @Test func sameSeedGivesSameModelAndOtherSeedsDiffer() {
        let config = AutoencoderConfig(inputSize: 10, hiddenSize: 4)
        let first = Autoencoder.initialized(config: config, seed: 99)
        #expect(first == Autoencoder.initialized(config: config, seed: 99))
        #expect(first != Autoencoder.initialized(config: config, seed: 100))
    }

    @Test func keepsTheConfiguration() {
        let config = AutoencoderConfig(
            inputSize: 3, hiddenSize: 2, activation: .sigmoid, decoderActivation: .identity,
            topK: 1)
        #expect(Autoencoder.initialized(config: config, seed: 0).config == config)
    }
}
