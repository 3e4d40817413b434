import Foundation

// Sparsity penalties and their gradients over raw pointers (training's inner loop).
//
// Legend: B = rows in the batch, H = hiddenSize; `code` is h, B × H row-major.

extension SparsityOptions {
    /// The bound keeping KL's estimated mean activation away from 0 and 1, where the
    /// divergence is infinite.
    static let klClamp: Float = 1e-6

    /// Returns the weighted penalty `beta · L_s(h)` and adds its gradient w.r.t. `h` into
    /// `gradient`, with `beta` given (the schedule's current weight, normally ``beta``).
    ///
    /// - `none`, `topk`, `batchtopk`: 0, gradient untouched (the k-sparse kinds live in the
    ///   encoder's selection).
    /// - `l1`: `beta · Σ|h|`, divided by `B` with the `mean` reduction;
    ///   `∂/∂h = beta · sign(h)` (over `B`), with `sign(0) = 0` as torch takes it.
    /// - `kl`: with `ρ̂_j` the mean of column `j` over the batch, clamped to
    ///   `[1e-6, 1 − 1e-6]`, `beta · Σ_j ρ·log(ρ/ρ̂_j) + (1 − ρ)·log((1 − ρ)/(1 − ρ̂_j))`.
    ///   Where the clamp binds the gradient is 0, as with `torch.clamp`.
    ///
    /// `columnScratch` is `H` floats of working space. Allocates nothing.
    func penaltyAndGradient(
        beta: Float,
        code: UnsafePointer<Float>,
        rows: Int,
        hiddenSize: Int,
        gradient: UnsafeMutablePointer<Float>,
        columnScratch: UnsafeMutablePointer<Float>
    ) -> Double {
        if rows == 0 { return 0 }
        switch kind {
        case .none, .topk, .batchtopk:
            return 0
        case .l1:
            let weight = reduction == .sum ? beta : beta / Float(rows)
            return l1(code: code, count: rows * hiddenSize, weight: weight, gradient: gradient)
        case .kl:
            return kl(
                beta: beta, code: code, rows: rows, hiddenSize: hiddenSize, gradient: gradient,
                columnScratch: columnScratch)
        }
    }

    private func l1(
        code: UnsafePointer<Float>,
        count: Int,
        weight: Float,
        gradient: UnsafeMutablePointer<Float>
    ) -> Double {
        var sum = 0.0
        for i in 0..<count {
            let h = code[i]
            sum += Double(abs(h))
            let sign: Float = h > 0 ? 1 : (h < 0 ? -1 : 0)
            gradient[i] += weight * sign
        }
        return Double(weight) * sum
    }

    private func kl(
        beta: Float,
        code: UnsafePointer<Float>,
        rows: Int,
        hiddenSize: Int,
        gradient: UnsafeMutablePointer<Float>,
        columnScratch: UnsafeMutablePointer<Float>
    ) -> Double {
        // ρ̂_j: column means of the code.
        let meanActivation = columnScratch
        meanActivation.update(repeating: 0, count: hiddenSize)
        for row in 0..<rows {
            let h = code + row * hiddenSize
            for j in 0..<hiddenSize {
                meanActivation[j] += h[j]
            }
        }

        // Penalty per latent, then ∂penalty/∂ρ̂_j · ∂ρ̂_j/∂h_bj, kept in the scratch.
        let rho = Double(self.rho)
        let low = Double(Self.klClamp)
        let high = 1 - low
        var divergence = 0.0
        for j in 0..<hiddenSize {
            let raw = Double(meanActivation[j]) / Double(rows)
            let rhoHat = min(max(raw, low), high)
            divergence += rho * log(rho / rhoHat) + (1 - rho) * log((1 - rho) / (1 - rhoHat))
            let isClamped = !(raw >= low && raw <= high)
            let slope = -rho / rhoHat + (1 - rho) / (1 - rhoHat)
            meanActivation[j] = isClamped ? 0 : Float(Double(beta) * slope / Double(rows))
        }

        // Every sample of a column shares the same gradient.
        for row in 0..<rows {
            let g = gradient + row * hiddenSize
            for j in 0..<hiddenSize {
                g[j] += meanActivation[j]
            }
        }
        return Double(beta) * divergence
    }
}
