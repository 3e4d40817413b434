// Where each tensor sits in the trainer's flat parameter vector (and in the gradient and
// optimiser-moment vectors, which share the layout).
//
// Legend: D = inputSize, H = hiddenSize. The encoder is stored transposed, as W_encᵀ (H × D),
// so that row j holds latent j's encoder weights: a k-sparse code then touches k contiguous
// rows of both matrices, and tied weights are one H × D matrix serving as W_encᵀ and W_dec.
//
//   untied: W_encᵀ (H × D) | b_enc (H) | W_dec (H × D) | b_dec (D)
//   tied:   W (H × D)      | b_enc (H) | b_dec (D)

/// Where each tensor sits inside a flat parameter (or gradient, or optimiser-moment) vector.
struct ParameterLayout: Sendable, Equatable {
    let inputSize: Int
    let hiddenSize: Int
    let hasTiedWeights: Bool

    init(_ config: AutoencoderConfig) {
        inputSize = config.inputSize
        hiddenSize = config.hiddenSize
        hasTiedWeights = config.hasTiedWeights
    }

    /// `W_encᵀ`, H × D.
    var wEncT: Range<Int> { 0..<hiddenSize * inputSize }
    var bEnc: Range<Int> { wEncT.upperBound..<wEncT.upperBound + hiddenSize }
    /// `W_dec`, H × D; the same range as ``wEncT`` with tied weights.
    var wDec: Range<Int> {
        hasTiedWeights ? wEncT : bEnc.upperBound..<bEnc.upperBound + hiddenSize * inputSize
    }
    var bDec: Range<Int> {
        let start = hasTiedWeights ? bEnc.upperBound : wDec.upperBound
        return start..<start + inputSize
    }
    var count: Int { bDec.upperBound }
    /// Whether ``wDec`` is a matrix of its own (not tied to the encoder).
    var hasSeparateDecoder: Bool { !hasTiedWeights }
}

/// Read-only pointers to each tensor of a flat parameter vector, or of a model's own arrays.
struct ParameterPointers {
    /// The encoder matrix: `W_encᵀ` (H × D) in a flat vector, or `W_enc` (D × H) as
    /// `Autoencoder` stores it; ``isEncoderTransposed`` says which.
    let wEncT: UnsafePointer<Float>
    let bEnc: UnsafePointer<Float>
    let wDec: UnsafePointer<Float>
    let bDec: UnsafePointer<Float>
    /// True when ``wEncT`` is `W_encᵀ` (the flat layout), false when it is `W_enc` itself.
    let isEncoderTransposed: Bool

    init(_ base: UnsafePointer<Float>, _ layout: ParameterLayout) {
        wEncT = base + layout.wEncT.lowerBound
        bEnc = base + layout.bEnc.lowerBound
        wDec = base + layout.wDec.lowerBound
        bDec = base + layout.bDec.lowerBound
        isEncoderTransposed = true
    }

    /// Points at a model's arrays as stored, `W_enc` untransposed (D × H): inference then
    /// needs no flat copy of the parameters.
    init(
        wEnc: UnsafePointer<Float>, bEnc: UnsafePointer<Float>, wDec: UnsafePointer<Float>,
        bDec: UnsafePointer<Float>
    ) {
        self.wEncT = wEnc
        self.bEnc = bEnc
        self.wDec = wDec
        self.bDec = bDec
        self.isEncoderTransposed = false
    }
}

extension Autoencoder {
    /// The parameters as one vector in ``ParameterLayout`` order (`W_enc` transposed).
    ///
    /// With tied weights only `wEnc` is read; `wDec` is assumed to be its transpose.
    func flatParameters() -> [Float] {
        let (d, h) = (config.inputSize, config.hiddenSize)
        let encoder = transposed(wEnc, rows: d, columns: h)
        return config.hasTiedWeights ? encoder + bEnc + bDec : encoder + bEnc + wDec + bDec
    }

    /// Rebuilds a model from a flat vector in ``ParameterLayout`` order.
    init(config: AutoencoderConfig, flat: UnsafeBufferPointer<Float>) {
        let layout = ParameterLayout(config)
        precondition(
            flat.count == layout.count, "\(flat.count) parameters, layout needs \(layout.count)")
        let (d, h) = (config.inputSize, config.hiddenSize)
        self.init(
            config: config,
            wEnc: transposed(Array(flat[layout.wEncT]), rows: h, columns: d),
            bEnc: Array(flat[layout.bEnc]),
            wDec: Array(flat[layout.wDec]), bDec: Array(flat[layout.bDec]))
    }
}
