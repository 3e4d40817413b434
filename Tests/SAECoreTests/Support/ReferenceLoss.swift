import Foundation
import SAECore

/// The training loss in `Double`, written straight from the formulas with plain loops.
///
/// Scope: the reference for finite-difference gradient checks. It shares no code with SAECore's
/// kernels: no BLAS, no pointers, no top-k helper. Parameters are one flat vector in the order
/// `W_enc` (D × H), `b_enc` (H), `W_dec` (H × D), `b_dec` (D), all row-major.
enum ReferenceLoss {
    static func loss(
        parameters: [Double],
        x: [Double],
        rows: Int,
        config: AutoencoderConfig,
        options: TrainingOptions
    ) -> Double {
        let (d, hidden) = (config.inputSize, config.hiddenSize)
        let bEncStart = d * hidden
        let wDecStart = bEncStart + hidden
        let bDecStart = wDecStart + hidden * d
        let sparsity = options.sparsity
        let topK = sparsity.kind == .topk ? sparsity.k : config.topK

        // Encoder, with top-k selection (earlier latent wins a tie).
        var code = [[Double]]()
        for r in 0..<rows {
            var z = (0..<hidden).map { j in
                parameters[bEncStart + j]
                    + (0..<d).reduce(0.0) { $0 + x[r * d + $1] * parameters[$1 * hidden + j] }
            }
            if let topK, topK < hidden {
                let ranked = z.indices.sorted { z[$0] > z[$1] || (z[$0] == z[$1] && $0 < $1) }
                for j in ranked[topK...] { z[j] = 0 }
            }
            code.append(z.map { activate(config.activation, $0) })
        }

        // Reconstruction.
        var reconstruction = 0.0
        for r in 0..<rows {
            for i in 0..<d {
                var z = parameters[bDecStart + i]
                for j in 0..<hidden { z += code[r][j] * parameters[wDecStart + j * d + i] }
                let t = x[r * d + i]
                switch options.reconstruction {
                case .mse:
                    let difference = activate(config.decoderActivation, z) - t
                    reconstruction += difference * difference
                case .bce:
                    let p = 1 / (1 + exp(-z))
                    reconstruction -= t * log(p) + (1 - t) * log(1 - p)
                }
            }
        }
        reconstruction /= Double(rows * d)
        return reconstruction + penalty(code: code, rows: rows, options: sparsity)
    }

    private static func penalty(code: [[Double]], rows: Int, options: SparsityOptions) -> Double {
        let beta = Double(options.beta)
        switch options.kind {
        case .none, .topk:
            return 0
        case .l1:
            let total = code.joined().reduce(0.0) { $0 + abs($1) }
            return beta * (options.reduction == .sum ? total : total / Double(rows))
        case .kl:
            let rho = Double(options.rho)
            var divergence = 0.0
            for j in code[0].indices {
                let mean = code.reduce(0.0) { $0 + $1[j] } / Double(rows)
                let rhoHat = min(max(mean, 1e-6), 1 - 1e-6)
                divergence += rho * log(rho / rhoHat) + (1 - rho) * log((1 - rho) / (1 - rhoHat))
            }
            return beta * divergence
        }
    }

    private static func activate(_ activation: Activation, _ z: Double) -> Double {
        switch activation {
        case .relu: max(z, 0)
        case .sigmoid: 1 / (1 + exp(-z))
        case .identity: z
        }
    }
}
