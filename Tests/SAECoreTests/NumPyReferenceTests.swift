import Foundation
import SAECore
import Testing

/// SAECore against NumPy golden values (scripts/reference_sae.py → Fixtures/*.json).
///
/// Each fixture holds float32 weights and a batch, the float64 loss and gradients there, and
/// the parameters after three optimiser steps on that batch, taken the way the trainer takes
/// them (normalisation, b_dec initialisation, schedules, clipping, unit-norm rows, batch
/// top-k's threshold, AuxK's dead-latent counters). Tolerances, about ten times the largest
/// differences seen, all from float32 rounding against float64 maths:
/// - losses: 1e-6 relative (each term);
/// - gradients: 1e-7 + 1e-5·|g|;
/// - parameters after each step: 5e-7 + 2e-6·|p|. Each Adam step moves a value by about
///   lr = 0.01 in the direction m/√v, which float32 gets right to ~1e-6 because the script
///   only writes cases with no near-cancelled gradient.
struct NumPyReferenceTests {
    @Test(arguments: Fixture.names)
    func lossAndGradientsMatchNumPy(_ name: String) throws {
        let fixture = try Fixture.load(name)
        let (parts, gradients) = fixture.model.lossAndGradients(
            batch: fixture.normalizedBatch, rows: fixture.rows, options: fixture.options,
            deadLatents: fixture.deadLatents)

        #expect(relative(parts.reconstruction, fixture.loss.reconstruction) <= 1e-6)
        #expect(relative(parts.sparsity, fixture.loss.sparsity) <= 1e-6)
        #expect(relative(parts.auxiliary, fixture.loss.auxiliary) <= 1e-6)
        #expect(relative(parts.weightPenalty, fixture.loss.weightPenalty) <= 1e-6)
        let got = gradients.dWEnc + gradients.dBEnc + gradients.dWDec + gradients.dBDec
        let worst = largestExcess(
            got.map(Double.init), fixture.gradients.flat, absolute: 1e-7, relative: 1e-5)
        print("\(name): loss \(parts.total) vs \(fixture.loss.total); gradients \(worst.report)")
        #expect(worst.excess <= 1, "\(worst.report)")
    }

    @Test(arguments: Fixture.names)
    func threeTrainingStepsMatchNumPy(_ name: String) throws {
        let fixture = try Fixture.load(name)
        var options = fixture.options
        options.batchSize = fixture.rows
        options.shuffle = false
        let trainer = try Trainer(
            model: fixture.model, options: options, training: fixture.dataset, validation: nil)

        for (index, step) in fixture.steps.enumerated() {
            let record = try #require(try trainer.trainEpoch())
            #expect(relative(record.loss, step.loss.total) <= 1e-6, "step \(index + 1)")
            #expect(relative(record.reconstruction, step.loss.reconstruction) <= 1e-6)
            #expect(relative(record.auxiliaryLoss ?? 0, step.loss.auxiliary) <= 1e-6)
            let model = trainer.model
            if let threshold = step.threshold {
                let got = try #require(model.config.threshold)
                #expect(relative(Double(got), threshold) <= 1e-6, "threshold \(got) vs \(threshold)")
            }
            let got = (model.wEnc + model.bEnc + model.wDec + model.bDec).map(Double.init)
            let worst = largestExcess(got, step.parameters.flat, absolute: 5e-7, relative: 2e-6)
            print(
                "\(name) step \(index + 1): loss \(record.loss) vs \(step.loss.total); "
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
        return (
            worst.excess,
            "largest difference \(worst.difference) at \(worst.index) "
                + "(\(String(format: "%.2f", worst.excess)) of tolerance)"
        )
    }
}
