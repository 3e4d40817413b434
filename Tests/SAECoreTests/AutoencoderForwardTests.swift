import Foundation
import SAECore
import Testing

/// `encode`, `decode` and `reconstruct` against loops written out in `Double` here.
///
/// Tolerance: 1e-5 absolute; every value is O(1) and sums run over at most 9 terms.
struct AutoencoderForwardTests {
    static let rows = 4

    static func model(_ activation: Activation, _ decoder: Activation, topK: Int? = nil)
        -> Autoencoder
    {
        let config = AutoencoderConfig(
            inputSize: 9, hiddenSize: 5, activation: activation, decoderActivation: decoder,
            topK: topK)
        return Autoencoder.initialized(config: config, seed: 21)
    }

    static func batch() -> [Float] {
        var generator = SeededGenerator(seed: 22)
        return (0..<rows * 9).map { _ in generator.nextUnitFloat() }
    }

    static func activate(_ activation: Activation, _ z: Double) -> Double {
        switch activation {
        case .relu: max(z, 0)
        case .sigmoid: 1 / (1 + exp(-z))
        case .identity: z
        }
    }

    @Test(arguments: Activation.allCases)
    func encodeMatchesLoops(_ activation: Activation) {
        let model = Self.model(activation, .identity)
        let x = Self.batch()
        let code = model.encode(x, rows: Self.rows)

        #expect(code.count == Self.rows * 5)
        for r in 0..<Self.rows {
            for j in 0..<5 {
                var z = Double(model.bEnc[j])
                for i in 0..<9 { z += Double(x[r * 9 + i]) * Double(model.wEnc[i * 5 + j]) }
                #expect(abs(Double(code[r * 5 + j]) - Self.activate(activation, z)) < 1e-5)
            }
        }
    }

    @Test(arguments: Activation.allCases)
    func decodeMatchesLoops(_ decoder: Activation) {
        let model = Self.model(.relu, decoder)
        var generator = SeededGenerator(seed: 23)
        let h = (0..<Self.rows * 5).map { _ in generator.nextUnitFloat() }
        let output = model.decode(h, rows: Self.rows)

        #expect(output.count == Self.rows * 9)
        for r in 0..<Self.rows {
            for i in 0..<9 {
                var z = Double(model.bDec[i])
                for j in 0..<5 { z += Double(h[r * 5 + j]) * Double(model.wDec[j * 9 + i]) }
                #expect(abs(Double(output[r * 9 + i]) - Self.activate(decoder, z)) < 1e-5)
            }
        }
    }

    @Test func reconstructIsDecodeOfEncode() {
        let model = Self.model(.relu, .sigmoid, topK: 2)
        let x = Self.batch()
        let expected = model.decode(model.encode(x, rows: Self.rows), rows: Self.rows)
        #expect(model.reconstruct(x, rows: Self.rows) == expected)
    }

    @Test func topKKeepsTheLargestPreActivationsOfEachRow() {
        let dense = Self.model(.identity, .identity)
        let sparse = Self.model(.identity, .identity, topK: 2)
        let x = Self.batch()
        let all = dense.encode(x, rows: Self.rows)
        let kept = sparse.encode(x, rows: Self.rows)

        for r in 0..<Self.rows {
            let row = Array(all[r * 5..<(r + 1) * 5])
            let threshold = row.sorted(by: >)[1]
            for j in 0..<5 {
                let expected = row[j] >= threshold ? row[j] : 0
                #expect(kept[r * 5 + j] == expected)
            }
        }
    }

    @Test func topKDroppedLatentsPassThroughTheActivation() {
        // Sigmoid after selection maps a dropped latent's zero to exactly 0.5.
        let model = Self.model(.sigmoid, .identity, topK: 1)
        let code = model.encode(Self.batch(), rows: Self.rows)
        for r in 0..<Self.rows {
            #expect(code[r * 5..<(r + 1) * 5].filter { $0 == 0.5 }.count == 4)
        }
    }

    @Test func emptyBatchGivesEmptyResults() {
        let model = Self.model(.relu, .relu)
        #expect(model.encode([], rows: 0).isEmpty)
        #expect(model.decode([], rows: 0).isEmpty)
        #expect(model.reconstruct([], rows: 0).isEmpty)
    }

    @Test func batchTopKKeepsTheLargestOfTheWholeBatch() {
        var model = Self.model(.identity, .identity)
        let x = Self.batch()
        let all = model.encode(x, rows: Self.rows)
        model.config.batchTopK = 2
        let kept = model.encode(x, rows: Self.rows)
        let threshold = all.sorted(by: >)[2 * Self.rows - 1]
        #expect(kept == all.map { $0 >= threshold ? $0 : 0 })
        #expect(kept.filter { $0 != 0 }.count == 2 * Self.rows)
    }

    @Test func thresholdTakesPrecedenceOverBatchTopKButNotTopK() {
        var model = Self.model(.relu, .identity)
        let x = Self.batch()
        let all = model.encode(x, rows: Self.rows)
        model.config.batchTopK = 1
        model.config.threshold = 0.1
        #expect(model.encode(x, rows: Self.rows) == all.map { $0 > 0.1 ? $0 : 0 })
        model.config.topK = 3
        #expect(model.encode(x, rows: Self.rows) == model.with(topK: 3).encode(x, rows: Self.rows))
    }

    @Test func subtractingTheDecoderBiasShiftsTheEncoderInput() {
        var model = Self.model(.identity, .identity)
        model.bDec = (0..<9).map { Float($0) * 0.1 - 0.3 }
        let x = Self.batch()
        var centred = model
        centred.config.subtractsDecoderBias = true
        let shifted = (0..<x.count).map { x[$0] - model.bDec[$0 % 9] }
        let expected = model.encode(shifted, rows: Self.rows)
        let code = centred.encode(x, rows: Self.rows)
        for (a, b) in zip(code, expected) { #expect(abs(a - b) <= 1e-6) }
    }

    @Test func tiedInitialisationMakesTheDecoderTheEncodersTranspose() {
        let config = AutoencoderConfig(inputSize: 9, hiddenSize: 5, hasTiedWeights: true)
        let model = Autoencoder.initialized(config: config, seed: 21)
        let untied = Self.model(.relu, .relu)
        #expect(model.wEnc == untied.wEnc && model.bDec == untied.bDec)
        for i in 0..<9 {
            for j in 0..<5 { #expect(model.wDec[j * 9 + i] == model.wEnc[i * 5 + j]) }
        }
    }
}
