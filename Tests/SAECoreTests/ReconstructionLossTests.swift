import Foundation
import Testing

@testable import SAECore

/// The reconstruction losses where a naive formula overflows.
struct ReconstructionLossTests {
    /// BCE from logits of ±100 and ±1000 (where `σ(z)` rounds to 0 or 1 and `log σ(z)` of the
    /// naive form is −∞): the stable form `max(z,0) − z·t + log(1 + e^−|z|)` stays finite and
    /// exact, and its gradient `(σ(z) − t)/N` stays in [−1/N, 1/N].
    @Test func bceIsFiniteAndExactForExtremeLogits() {
        var logits: [Float] = [100, -100, 1000, -1000, 0, 3]
        let target: [Float] = [0, 1, 0.5, 1, 0.5, 1]
        var gradient = [Float](repeating: .nan, count: logits.count)
        let original = logits

        let (loss, _) = ReconstructionLoss.bce.lossAndGradient(
            logits: &logits, target: target, rows: 2, width: 3, decoderActivation: .sigmoid,
            gradient: &gradient)

        let n = Double(logits.count)
        let expected = zip(original, target).reduce(0.0) { sum, pair in
            let (z, t) = (Double(pair.0), Double(pair.1))
            return sum + max(z, 0) - z * t + log1p(exp(-abs(z)))
        } / n
        #expect(loss.isFinite && abs(loss - expected) <= 1e-6 * expected, "\(loss) vs \(expected)")
        for (i, (z, t)) in zip(original, target).enumerated() {
            let sigmoid = 1 / (1 + exp(-Double(z)))
            let want = (sigmoid - Double(t)) / n
            #expect(gradient[i].isFinite && abs(Double(gradient[i]) - want) <= 1e-6, "gradient[\(i)]")
        }
    }
}
