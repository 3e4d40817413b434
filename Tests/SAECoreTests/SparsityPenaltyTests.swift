import Foundation
import Testing

@testable import SAECore

/// The penalties' values and gradients at the edges the formulas break at.
struct SparsityPenaltyTests {
    /// Ng's KL penalty of columns whose mean activation is exactly 0 and exactly 1 (a dead and a
    /// saturated sigmoid latent): the clamp keeps it finite, at the divergence from 1e-6 and
    /// 1 − 1e-6, with zero gradient where the clamp binds (as `torch.clamp` gives).
    @Test func klStaysFiniteWhenAMeanActivationIsZeroOrOne() {
        let (rows, hidden) = (4, 3)
        // Column 0 all 0, column 1 all 1, column 2 with mean 0.25.
        let code: [Float] = [0, 1, 1, 0, 1, 0, 0, 1, 0, 0, 1, 0]
        var gradient = [Float](repeating: 0, count: rows * hidden)
        var scratch = [Float](repeating: 0, count: hidden)
        let options = SparsityOptions(kind: .kl, beta: 0.5, rho: 0.05)

        let penalty = options.penaltyAndGradient(
            beta: 0.5, code: code, rows: rows, hiddenSize: hidden, gradient: &gradient,
            columnScratch: &scratch)

        let rho = Double(Float(0.05))
        func divergence(_ rhoHat: Double) -> Double {
            rho * log(rho / rhoHat) + (1 - rho) * log((1 - rho) / (1 - rhoHat))
        }
        let expected = 0.5 * (divergence(1e-6) + divergence(1 - 1e-6) + divergence(0.25))
        #expect(penalty.isFinite && abs(penalty - expected) <= 1e-9 * expected, "\(penalty) vs \(expected)")
        for row in 0..<rows {
            #expect(gradient[row * hidden] == 0 && gradient[row * hidden + 1] == 0)
            // The free column: beta · (−ρ/ρ̂ + (1 − ρ)/(1 − ρ̂)) / B.
            let slope = 0.5 * (-rho / 0.25 + (1 - rho) / 0.75) / 4
            #expect(abs(Double(gradient[row * hidden + 2]) - slope) <= 1e-6 * abs(slope))
        }
    }
}
