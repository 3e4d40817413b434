import Foundation
import SAECore
import Testing

/// `Normalization`: fitting, applying to arrays, and the gather path the trainer uses.
struct NormalizationTests {
    static let floats = Dataset(
        rows: 4, width: 3,
        storage: .floats([1, 10, 5, 3, 10, -1, 5, 10, 2, 7, 10, 2]))
    static let bytes = Dataset(
        rows: 3, width: 2, storage: .bytes([0, 255, 51, 128, 102, 7]))

    func gathered(_ data: Dataset, _ normalization: Normalization) -> [Float] {
        var out = [Float](repeating: .nan, count: data.rows * data.width)
        let indices = Array(0..<data.rows)
        indices.withUnsafeBufferPointer { indices in
            out.withUnsafeMutableBufferPointer { out in
                data.gather(rows: indices, into: out.baseAddress!, normalization: normalization)
            }
        }
        return out
    }

    @Test func defaultIsUnitForBytesAndNoneForFloats() {
        #expect(Normalization.fitted(nil, to: Self.bytes) == .unit)
        #expect(Normalization.fitted(nil, to: Self.floats) == .none)
        // The normalised gather of bytes is the classic one, bit for bit.
        var classic = [Float](repeating: 0, count: 6)
        [0, 1, 2].withUnsafeBufferPointer { indices in
            classic.withUnsafeMutableBufferPointer { out in
                Self.bytes.gather(rows: indices, into: out.baseAddress!)
            }
        }
        #expect(gathered(Self.bytes, .unit).map(\.bitPattern) == classic.map(\.bitPattern))
        #expect(gathered(Self.bytes, .none) == [0, 255, 51, 128, 102, 7])
    }

    @Test func standardizeFitsPopulationMeanAndDeviationPerColumn() {
        let fitted = Normalization.fitted(.standardize, to: Self.floats)
        #expect(fitted.kind == .standardize)
        #expect(fitted.mean == [4, 10, 2])
        // Column 0: deviations −3, −1, 1, 3 → σ = √5. Column 1 is constant: σ = 1.
        #expect(fitted.standardDeviation == [Float(5.0.squareRoot()), 1, Float(4.5.squareRoot())])

        let values = gathered(Self.floats, fitted)
        guard case .floats(var raw) = Self.floats.storage else { return }
        fitted.apply(to: &raw)
        #expect(values.map(\.bitPattern) == raw.map(\.bitPattern))
        #expect(values[1] == 0 && values[4] == 0)  // a constant column becomes 0

        var restored = values
        fitted.restore(&restored)
        guard case .floats(let original) = Self.floats.storage else { return }
        for (a, b) in zip(restored, original) { #expect(abs(a - b) < 1e-5) }
    }

    @Test func standardizedTrainingUsesTheFittedStatisticsAndRoundTripsAsJSON() throws {
        let data = TrainerTests.syntheticData()
        let trainer = try Trainer(
            model: Autoencoder.initialized(
                config: AutoencoderConfig(inputSize: 16, hiddenSize: 8), seed: 1),
            options: TrainingOptions(batchSize: 32, normalization: .standardize),
            training: data, validation: nil)
        let normalization = trainer.normalization
        #expect(normalization == Normalization.fitted(.standardize, to: data))
        let json = try JSONEncoder().encode(normalization)
        #expect(try JSONDecoder().decode(Normalization.self, from: json) == normalization)
        let record = try #require(try trainer.trainEpoch())
        // Standardised data has unit variance per column: Σ‖x − x̄‖² = N·D, and x̄ = 0.
        let (fvu, nmse) = (try #require(record.fvu), try #require(record.normalizedMSE))
        #expect(abs(fvu - nmse) < 1e-5)
    }

    /// bce reads targets as probabilities: a normalised value outside [0, 1] in either set is
    /// refused before training, naming the set, the row and the column (here by hand: `floats`
    /// row 0 column 1 is 10 with `none`; standardised byte column 0 at row 0 is (0 − 51) / √1734 = −1.2247).
    @Test func bceRefusesTargetsOutsideTheUnitIntervalNamingTheFirst() throws {
        var options = TrainingOptions(reconstruction: .bce)
        options.epochs = 1
        let config = AutoencoderConfig(inputSize: 3, hiddenSize: 2, decoderActivation: .sigmoid)
        let model = Autoencoder.initialized(config: config, seed: 1)
        options.normalization = NormalizationKind.none
        let error = #expect(throws: TrainingError.self) {
            try Trainer(model: model, options: options, training: Self.floats, validation: nil)
        }
        #expect(error?.message.contains("training row 0, column 1 is 10.0 after none") == true, "\(String(describing: error))")

        // Bytes / 255 are probabilities; the same bytes standardised are not.
        let byteModel = Autoencoder.initialized(
            config: AutoencoderConfig(inputSize: 2, hiddenSize: 2, decoderActivation: .sigmoid), seed: 1)
        options.normalization = .unit
        _ = try Trainer(model: byteModel, options: options, training: Self.bytes, validation: Self.bytes)
        options.normalization = .standardize
        let standardized = #expect(throws: TrainingError.self) {
            try Trainer(model: byteModel, options: options, training: Self.bytes, validation: nil)
        }
        #expect(standardized?.message.contains("training row 0, column 0 is -1.22") == true,
                "\(String(describing: standardized))")

        // A validation set outside [0, 1] is named as such.
        options.normalization = NormalizationKind.none
        let inRange = Dataset(rows: 1, width: 2, storage: .floats([0, 1]))
        let outside = Dataset(rows: 2, width: 2, storage: .floats([0.5, 0.5, 0.25, -0.5]))
        let validation = #expect(throws: TrainingError.self) {
            try Trainer(model: byteModel, options: options, training: inRange, validation: outside)
        }
        #expect(validation?.message.contains("validation row 1, column 1 is -0.5") == true,
                "\(String(describing: validation))")
    }
}

/// `Dataset.adviseHugePages()`: a placement hint that must leave every value as it was.
struct DatasetPlacementTests {
    @Test func advisingHugePagesKeepsTheValues() {
        // 12 MB of bytes and of floats: several whole 2 MiB pages whatever the alignment.
        let rows = 3_000
        let width = 4_000
        let bytes = (0..<rows * width).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) }
        let floats = bytes.enumerated().map { Float($0.element) - Float($0.offset % 97) }
        for data in [
            Dataset(rows: rows, width: width, storage: .bytes(bytes)),
            Dataset(rows: rows, width: width, storage: .floats(floats)),
        ] {
            let indices = [0, rows / 2, rows - 1, 17]
            let before = gathered(data, rows: indices)
            data.adviseHugePages()
            #expect(gathered(data, rows: indices).map(\.bitPattern) == before.map(\.bitPattern))
            switch data.storage {
            case .bytes(let values): #expect(values == bytes)
            case .floats(let values): #expect(values.map(\.bitPattern) == floats.map(\.bitPattern))
            }
        }
    }

    private func gathered(_ data: Dataset, rows: [Int]) -> [Float] {
        var out = [Float](repeating: .nan, count: rows.count * data.width)
        rows.withUnsafeBufferPointer { indices in
            out.withUnsafeMutableBufferPointer { out in
                data.gather(rows: indices, into: out.baseAddress!, normalization: .none)
            }
        }
        return out
    }
}
