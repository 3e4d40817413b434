import Foundation
import SAECore
import Testing

/// SAECore against NumPy golden values (scripts/reference_sae.py → Fixtures/*.json).
///
/// Each fixture holds float32 weights and a batch, the float64 loss and gradients there, and
/// the parameters after three optimiser steps on that batch. Tolerances, all from float32
/// rounding against float64 maths:
/// - losses: 1e-5 relative;
/// - gradients: 1e-6 + 1e-4·|g|;
/// - parameters after each step: 2e-6 + 1e-5·|p| (each Adam step moves a value by at most
///   about lr = 0.01, and its direction is a ratio of moments accurate to ~1e-6).
struct NumPyReferenceTests {
    @Test(arguments: Fixture.names)
    func lossAndGradientsMatchNumPy(_ name: String) throws {
        let fixture = try Fixture.load(name)
        let (parts, gradients) = fixture.model.lossAndGradients(
            batch: fixture.batch, rows: fixture.rows, options: fixture.options)

        #expect(relative(parts.reconstruction, fixture.loss.reconstruction) <= 1e-5)
        #expect(relative(parts.sparsity, fixture.loss.sparsity) <= 1e-5)
        let got = gradients.dWEnc + gradients.dBEnc + gradients.dWDec + gradients.dBDec
        let worst = largestExcess(got.map(Double.init), fixture.gradients.flat, absolute: 1e-6, relative: 1e-4)
        print("\(name): loss \(parts.total) vs \(fixture.loss.total); gradients \(worst.report)")
        #expect(worst.excess <= 1, "\(worst.report)")
    }

    @Test(arguments: Fixture.names)
    func threeTrainingStepsMatchNumPy(_ name: String) throws {
        let fixture = try Fixture.load(name)
        var options = fixture.options
        options.batchSize = fixture.rows
        options.shuffle = false
        let data = Dataset(rows: fixture.rows, width: fixture.config.inputSize, storage: .floats(fixture.batch))
        let trainer = try Trainer(model: fixture.model, options: options, training: data, validation: nil)

        for (index, step) in fixture.steps.enumerated() {
            let record = try #require(try trainer.trainEpoch())
            #expect(relative(record.loss, step.loss.total) <= 1e-5, "step \(index + 1)")
            #expect(relative(record.reconstruction, step.loss.reconstruction) <= 1e-5)
            let model = trainer.model
            let got = (model.wEnc + model.bEnc + model.wDec + model.bDec).map(Double.init)
            let worst = largestExcess(got, step.parameters.flat, absolute: 2e-6, relative: 1e-5)
            print("\(name) step \(index + 1): loss \(record.loss) vs \(step.loss.total); "
                + "parameters \(worst.report)")
            #expect(worst.excess <= 1, "step \(index + 1): \(worst.report)")
        }
    }

    private func relative(_ got: Double, _ expected: Double) -> Double {
        abs(got - expected) / max(abs(expected), 1e-12)
    }

    /// The element whose difference uses up most of its tolerance, as a ratio (≤ 1 passes).
    private func largestExcess(
        _ got: [Double],
        _ expected: [Double],
        absolute: Double,
        relative: Double
    ) -> (excess: Double, report: String) {
        precondition(got.count == expected.count, "\(got.count) values against \(expected.count)")
        var worst = (excess: 0.0, index: 0, difference: 0.0)
        for (index, (g, e)) in zip(got, expected).enumerated() {
            let difference = abs(g - e)
            let excess = difference / (absolute + relative * abs(e))
            if excess > worst.excess { worst = (excess, index, difference) }
        }
        return (worst.excess, "largest difference \(worst.difference) at \(worst.index) "
            + "(\(String(format: "%.2f", worst.excess)) of tolerance)")
    }
}
