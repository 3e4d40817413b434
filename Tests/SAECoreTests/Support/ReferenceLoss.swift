import Foundation
import SAECore

/// The training loss in `Double`, written straight from the formulas with plain loops.
///
/// Scope: the reference for finite-difference gradient checks. It shares no code with SAECore's
/// kernels: no BLAS, no pointers, no selection helper. Parameters are one flat vector in the
/// order `W_enc` (D × H), `b_enc` (H), `W_dec` (H × D, absent with tied weights), `b_dec` (D),
/// all row-major. It models every option the loss depends on: tied weights, unit-norm decoder
/// rows (the loss is taken at the rows divided by their norms), subtracting `b_dec`, top-k,
/// batch top-k and threshold selection, the penalties, AuxK and Ng's weight decay.
enum ReferenceLoss {
    /// The model's tensors unpacked from a flat vector, with the decoder's rows normalised when
    /// the options ask for it.
    struct Tensors {
        var wEnc: [[Double]]  // D × H
        var bEnc: [Double]
        var wDec: [[Double]]  // H × D
        var bDec: [Double]
    }

    static func tensors(
        _ parameters: [Double], config: AutoencoderConfig, options: TrainingOptions
    ) -> Tensors {
        let (d, hidden) = (config.inputSize, config.hiddenSize)
        var wEnc = (0..<d).map { i in (0..<hidden).map { j in parameters[i * hidden + j] } }
        let bEnc = Array(parameters[d * hidden..<d * hidden + hidden])
        var offset = d * hidden + hidden
        var wDec: [[Double]]
        if config.hasTiedWeights {
            wDec = (0..<hidden).map { j in (0..<d).map { i in wEnc[i][j] } }
        } else {
            wDec = (0..<hidden).map { j in (0..<d).map { i in parameters[offset + j * d + i] } }
            offset += hidden * d
        }
        let bDec = Array(parameters[offset..<offset + d])
        if options.normalizesDecoderRows {
            wDec = wDec.map { row in
                let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return norm > 0 ? row.map { $0 / norm } : row
            }
            if config.hasTiedWeights {
                wEnc = (0..<d).map { i in (0..<hidden).map { j in wDec[j][i] } }
            }
        }
        return Tensors(wEnc: wEnc, bEnc: bEnc, wDec: wDec, bDec: bDec)
    }

    /// The forward pass: pre-activations `z` (before selection), the code `h` and the
    /// reconstruction `x'` (for BCE, `σ(logits)`), plus the logits.
    struct Forward {
        var z: [[Double]]
        var code: [[Double]]
        var logits: [[Double]]
        var output: [[Double]]
    }

    static func forward(
        _ t: Tensors, x: [Double], rows: Int, config: AutoencoderConfig, options: TrainingOptions
    ) -> Forward {
        let (d, hidden) = (config.inputSize, config.hiddenSize)
        var z = [[Double]](repeating: [Double](repeating: 0, count: hidden), count: rows)
        var input = [Double](repeating: 0, count: d)
        for r in 0..<rows {
            for i in 0..<d {
                input[i] = x[r * d + i] - (config.subtractsDecoderBias ? t.bDec[i] : 0)
            }
            for j in 0..<hidden {
                var sum = t.bEnc[j]
                for i in 0..<d { sum += input[i] * t.wEnc[i][j] }
                z[r][j] = sum
            }
        }
        let kept = keptMask(z, config: config, options: options)
        var code = z
        var logits = [[Double]](repeating: [Double](repeating: 0, count: d), count: rows)
        var output = logits
        for r in 0..<rows {
            for j in 0..<hidden {
                code[r][j] = kept[r][j] ? activate(config.activation, z[r][j]) : 0
            }
            for i in 0..<d {
                var sum = t.bDec[i]
                for j in 0..<hidden where code[r][j] != 0 { sum += code[r][j] * t.wDec[j][i] }
                logits[r][i] = sum
                output[r][i] =
                    options.reconstruction == .bce
                    ? 1 / (1 + exp(-sum)) : activate(config.decoderActivation, sum)
            }
        }
        return Forward(z: z, code: code, logits: logits, output: output)
    }

    /// The residual `x − x'` AuxK reconstructs, at the given parameters.
    static func residual(
        parameters: [Double], x: [Double], rows: Int, config: AutoencoderConfig,
        options: TrainingOptions
    ) -> [[Double]] {
        let t = tensors(parameters, config: config, options: options)
        let f = forward(t, x: x, rows: rows, config: config, options: options)
        let d = config.inputSize
        return (0..<rows).map { r in (0..<d).map { i in x[r * d + i] - f.output[r][i] } }
    }

    /// The loss `L_r + beta·L_s + AuxK + λ/2·‖W‖²`.
    ///
    /// AuxK uses the latents flagged in `deadLatents` and the fixed `residual` (the trainer
    /// holds the residual constant, so a finite difference must too).
    static func loss(
        parameters: [Double],
        x: [Double],
        rows: Int,
        config: AutoencoderConfig,
        options: TrainingOptions,
        deadLatents: [Bool]? = nil,
        residual: [[Double]]? = nil
    ) -> Double {
        let d = config.inputSize
        let t = tensors(parameters, config: config, options: options)
        let f = forward(t, x: x, rows: rows, config: config, options: options)

        var reconstruction = 0.0
        for r in 0..<rows {
            for i in 0..<d {
                let target = x[r * d + i]
                switch options.reconstruction {
                case .mse:
                    reconstruction += (f.output[r][i] - target) * (f.output[r][i] - target)
                case .bce:
                    let p = f.output[r][i]
                    reconstruction -= target * log(p) + (1 - target) * log(1 - p)
                }
            }
        }
        reconstruction /= Double(rows * d)
        var total = reconstruction + penalty(code: f.code, rows: rows, options: options.sparsity)
        if let deadLatents, let residual, options.sparsity.auxK > 0 {
            total += auxiliary(
                f, t, residual: residual, deadLatents: deadLatents, config: config,
                options: options.sparsity)
        }
        if options.l2Weights > 0 {
            var squares = t.wEnc.joined().reduce(0) { $0 + $1 * $1 }
            if !config.hasTiedWeights { squares += t.wDec.joined().reduce(0) { $0 + $1 * $1 } }
            total += Double(options.l2Weights) / 2 * squares
        }
        return total
    }

    /// Which entries of `z` survive the selection.
    static func keptMask(
        _ z: [[Double]], config: AutoencoderConfig, options: TrainingOptions
    ) -> [[Bool]] {
        let rows = z.count
        let hidden = z.first?.count ?? 0
        var topK = config.topK
        var batchTopK = config.batchTopK
        var threshold = config.threshold
        switch options.sparsity.kind {
        case .topk: (topK, batchTopK, threshold) = (options.sparsity.k, nil, nil)
        case .batchtopk: (topK, batchTopK, threshold) = (nil, options.sparsity.k, nil)
        case .none, .l1, .kl: break
        }
        if let topK {
            return z.map { row in
                let ranked = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
                var kept = [Bool](repeating: false, count: hidden)
                for j in ranked.prefix(topK) { kept[j] = true }
                return kept
            }
        }
        if let threshold {
            return z.map { row in row.map { $0 > Double(threshold) } }
        }
        if let batchTopK {
            let flat = z.flatMap { $0 }
            let ranked = flat.indices.sorted {
                flat[$0] > flat[$1] || (flat[$0] == flat[$1] && $0 < $1)
            }
            var kept = [[Bool]](repeating: [Bool](repeating: false, count: hidden), count: rows)
            for index in ranked.prefix(rows * batchTopK) {
                kept[index / hidden][index % hidden] = true
            }
            return kept
        }
        return z.map { $0.map { _ in true } }
    }

    private static func auxiliary(
        _ f: Forward, _ t: Tensors, residual: [[Double]], deadLatents: [Bool],
        config: AutoencoderConfig, options: SparsityOptions
    ) -> Double {
        let dead = deadLatents.indices.filter { deadLatents[$0] }
        guard !dead.isEmpty else { return 0 }
        let d = config.inputSize
        var sum = 0.0
        for (r, z) in f.z.enumerated() {
            let ranked = dead.sorted { z[$0] > z[$1] || (z[$0] == z[$1] && $0 < $1) }
            let chosen = ranked.prefix(options.auxK)
            for i in 0..<d {
                let estimate = chosen.reduce(0.0) {
                    $0 + activate(config.activation, z[$1]) * t.wDec[$1][i]
                }
                sum += (estimate - residual[r][i]) * (estimate - residual[r][i])
            }
        }
        return Double(options.auxCoefficient) * sum / Double(f.z.count * d)
    }

    private static func penalty(code: [[Double]], rows: Int, options: SparsityOptions) -> Double {
        let beta = Double(options.beta)
        switch options.kind {
        case .none, .topk, .batchtopk:
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

    static func activate(_ activation: Activation, _ z: Double) -> Double {
        switch activation {
        case .relu: max(z, 0)
        case .sigmoid: 1 / (1 + exp(-z))
        case .identity: z
        }
    }
}
