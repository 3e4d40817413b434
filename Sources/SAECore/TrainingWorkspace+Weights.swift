// Terms that act on the weight matrices directly: Ng's weight decay and the unit-norm
// constraint on the decoder's rows.
//
// Legend: D = inputSize, H = hiddenSize; W_encᵀ and W_dec are H × D (one matrix when tied).

extension TrainingWorkspace {
    /// Returns `λ/2 · Σ W²` over the weight matrices (each stored matrix once, biases excluded)
    /// and adds `λ·W` to their gradients; 0 and nothing added when `λ = 0`.
    func addWeightDecay(
        parameters: UnsafePointer<Float>,
        gradients: UnsafeMutablePointer<Float>
    ) -> Double {
        let lambda = objective.l2Weights
        guard lambda > 0 else { return 0 }
        var sum = 0.0
        forEachWeightRange { range in
            for i in range {
                let w = parameters[i]
                sum += Double(w) * Double(w)
                gradients[i] += lambda * w
            }
        }
        return Double(lambda) / 2 * sum
    }

    /// `λ/2 · Σ W²`, as ``addWeightDecay(parameters:gradients:)`` reports it.
    func weightPenalty(parameters: UnsafePointer<Float>) -> Double {
        let lambda = objective.l2Weights
        guard lambda > 0 else { return 0 }
        var sum = 0.0
        forEachWeightRange { range in
            for i in range {
                sum += Double(parameters[i]) * Double(parameters[i])
            }
        }
        return Double(lambda) / 2 * sum
    }

    /// Calls `body` with the flat range of each stored weight matrix.
    private func forEachWeightRange(_ body: (Range<Int>) -> Void) {
        body(layout.wEncT)
        if layout.hasSeparateDecoder { body(layout.wDec) }
    }

    /// Removes from each row `g_j` of a `rows × width` gradient its component along the
    /// matching row `w_j`: `g_j ← g_j − ((g_j · w_j) / ‖w_j‖²) w_j`. Rows with `w_j = 0` stay.
    ///
    /// At `‖w_j‖ = 1` this is the gradient of the loss with the row held at unit norm.
    static func removeRowComponents(
        of gradient: UnsafeMutablePointer<Float>,
        along w: UnsafePointer<Float>,
        rows: Int,
        width: Int
    ) {
        for row in 0..<rows {
            let (g, v) = (gradient + row * width, w + row * width)
            var squaredNorm = 0.0
            var projection = 0.0
            for i in 0..<width {
                squaredNorm += Double(v[i]) * Double(v[i])
                projection += Double(g[i]) * Double(v[i])
            }
            guard squaredNorm > 0 else { continue }
            let coefficient = Float(projection / squaredNorm)
            for i in 0..<width {
                g[i] -= coefficient * v[i]
            }
        }
    }

    /// Divides each row of a `rows × width` matrix by its L2 norm; zero rows stay zero.
    static func normalizeRows(_ w: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for row in 0..<rows {
            let v = w + row * width
            var squaredNorm = 0.0
            for i in 0..<width {
                squaredNorm += Double(v[i]) * Double(v[i])
            }
            guard squaredNorm > 0 else { continue }
            let norm = Float(squaredNorm.squareRoot())
            for i in 0..<width {
                v[i] /= norm
            }
        }
    }
}
