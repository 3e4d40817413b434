/// The element-wise non-linearity applied after a linear layer.
package enum Activation: String, Codable, Sendable, CaseIterable {
    case relu
    case sigmoid
    case identity
}

/// The shape, non-linearities and inference-time options of a one-hidden-layer autoencoder.
///
/// The encoder computes `h = act(select((x − c) · W_enc + b_enc))` and the decoder
/// `x' = decoderAct(h · W_dec + b_dec)`, with `x` a row of `inputSize` floats, `c = b_dec` when
/// ``subtractsDecoderBias`` is set (else 0), and `select` the sparsity selection below. Every
/// field here is a property of the model, so ``Autoencoder/encode(_:rows:)`` applies it.
///
/// `select` is the first of these that is set, or the identity:
/// 1. ``topK``: the `topK` largest pre-activations of each row survive;
/// 2. ``threshold``: pre-activations greater than `threshold` survive;
/// 3. ``batchTopK``: the `rows · batchTopK` largest pre-activations of the whole batch survive.
///
/// Decoding fills missing keys with the initialiser's defaults, so configurations saved before
/// a field existed still decode.
package struct AutoencoderConfig: Codable, Sendable, Equatable {
    /// Width of an input row (`d_in`).
    package var inputSize: Int
    /// Number of latents (`d_sae`).
    package var hiddenSize: Int
    package var activation: Activation
    package var decoderActivation: Activation
    /// When set, encoding keeps only the `topK` largest pre-activations of each row
    /// (a k-sparse code) and zeroes the rest before the activation.
    package var topK: Int?
    /// The mean number of latents per row that batch top-k training kept: encoding a batch
    /// without a ``threshold`` keeps its `rows · batchTopK` largest pre-activations.
    package var batchTopK: Int?
    /// The inference threshold learnt by batch top-k training (a running average of the
    /// smallest activation kept per batch): encoding keeps pre-activations `> threshold`.
    package var threshold: Float?
    /// Whether the decoder is the encoder's transpose, `W_dec = W_encᵀ` (one parameter).
    package var hasTiedWeights: Bool
    /// Whether the encoder sees `x − b_dec` instead of `x`.
    package var subtractsDecoderBias: Bool

    package init(
        inputSize: Int,
        hiddenSize: Int,
        activation: Activation = .relu,
        decoderActivation: Activation = .relu,
        topK: Int? = nil,
        batchTopK: Int? = nil,
        threshold: Float? = nil,
        hasTiedWeights: Bool = false,
        subtractsDecoderBias: Bool = false
    ) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.activation = activation
        self.decoderActivation = decoderActivation
        self.topK = topK
        self.batchTopK = batchTopK
        self.threshold = threshold
        self.hasTiedWeights = hasTiedWeights
        self.subtractsDecoderBias = subtractsDecoderBias
    }

    /// Decodes the keys present; `inputSize` and `hiddenSize` are required.
    package init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        inputSize = try values.decode(Int.self, forKey: .inputSize)
        hiddenSize = try values.decode(Int.self, forKey: .hiddenSize)
        activation = try values.decodeIfPresent(Activation.self, forKey: .activation) ?? .relu
        decoderActivation =
            try values.decodeIfPresent(Activation.self, forKey: .decoderActivation) ?? .relu
        topK = try values.decodeIfPresent(Int.self, forKey: .topK)
        batchTopK = try values.decodeIfPresent(Int.self, forKey: .batchTopK)
        threshold = try values.decodeIfPresent(Float.self, forKey: .threshold)
        hasTiedWeights = try values.decodeIfPresent(Bool.self, forKey: .hasTiedWeights) ?? false
        subtractsDecoderBias =
            try values.decodeIfPresent(Bool.self, forKey: .subtractsDecoderBias) ?? false
    }

    /// How the encoder picks the surviving pre-activations at inference time.
    var inferenceSelection: CodeSelection {
        if let topK { return .topK(topK) }
        if let threshold { return .threshold(threshold) }
        if let batchTopK { return .batchTopK(batchTopK) }
        return .none
    }
}

/// Which pre-activations of a batch survive into the code.
enum CodeSelection: Sendable, Equatable {
    /// All of them: a dense code.
    case none
    /// The `k` largest of each row.
    case topK(Int)
    /// The `rows · k` largest of the whole batch.
    case batchTopK(Int)
    /// Those greater than the threshold.
    case threshold(Float)

    /// Whether some entries are dropped, so the backward pass needs a mask.
    var isSelective: Bool { self != .none }

    /// The number of latents kept per row on average, when the selection fixes it.
    var keptPerRow: Int? {
        switch self {
        case .topK(let k), .batchTopK(let k): k
        case .none, .threshold: nil
        }
    }
}

/// The parameters of a sparse autoencoder, stored in the safetensors layout.
///
/// All matrices are row-major `[Float]`:
/// - `wEnc`: `inputSize × hiddenSize` (`W_enc`), so a batch encodes as `X · W_enc`.
/// - `bEnc`: `hiddenSize`.
/// - `wDec`: `hiddenSize × inputSize` (`W_dec`), so codes decode as `H · W_dec`. With tied
///   weights it is `wEnc` transposed; the trainer keeps it so.
/// - `bDec`: `inputSize`.
package struct Autoencoder: Sendable, Equatable {
    package var config: AutoencoderConfig
    package var wEnc: [Float]
    package var bEnc: [Float]
    package var wDec: [Float]
    package var bDec: [Float]

    /// Wraps existing parameters; the arrays must match `config`'s shapes.
    package init(
        config: AutoencoderConfig, wEnc: [Float], bEnc: [Float], wDec: [Float], bDec: [Float]
    ) {
        let (d, h) = (config.inputSize, config.hiddenSize)
        precondition(wEnc.count == d * h, "W_enc has \(wEnc.count) values, not \(d)×\(h)")
        precondition(bEnc.count == h, "b_enc has \(bEnc.count) values, not \(h)")
        precondition(wDec.count == h * d, "W_dec has \(wDec.count) values, not \(h)×\(d)")
        precondition(bDec.count == d, "b_dec has \(bDec.count) values, not \(d)")
        self.config = config
        self.wEnc = wEnc
        self.bEnc = bEnc
        self.wDec = wDec
        self.bDec = bDec
    }
}

/// Returns the transpose of a row-major `rows × columns` matrix.
func transposed(_ matrix: [Float], rows: Int, columns: Int) -> [Float] {
    precondition(matrix.count == rows * columns, "\(matrix.count) values, not \(rows)×\(columns)")
    var result = [Float](repeating: 0, count: matrix.count)
    for row in 0..<rows {
        for column in 0..<columns {
            result[column * rows + row] = matrix[row * columns + column]
        }
    }
    return result
}
