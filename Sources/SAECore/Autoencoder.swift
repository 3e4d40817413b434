/// The element-wise non-linearity applied after a linear layer.
package enum Activation: String, Codable, Sendable, CaseIterable {
    case relu
    case sigmoid
    case identity
}

/// The shape and non-linearities of a one-hidden-layer autoencoder.
///
/// The encoder computes `h = act(x · W_enc + b_enc)` and the decoder
/// `x' = decoderAct(h · W_dec + b_dec)`, with `x` a row of `inputSize` floats.
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

    package init(
        inputSize: Int,
        hiddenSize: Int,
        activation: Activation = .relu,
        decoderActivation: Activation = .relu,
        topK: Int? = nil
    ) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.activation = activation
        self.decoderActivation = decoderActivation
        self.topK = topK
    }
}

/// The parameters of a sparse autoencoder, stored in the safetensors layout.
///
/// All matrices are row-major `[Float]`:
/// - `wEnc`: `inputSize × hiddenSize` (`W_enc`), so a batch encodes as `X · W_enc`.
/// - `bEnc`: `hiddenSize`.
/// - `wDec`: `hiddenSize × inputSize` (`W_dec`), so codes decode as `H · W_dec`.
/// - `bDec`: `inputSize`.
package struct Autoencoder: Sendable, Equatable {
    package var config: AutoencoderConfig
    package var wEnc: [Float]
    package var bEnc: [Float]
    package var wDec: [Float]
    package var bDec: [Float]

    /// Wraps existing parameters; the arrays must match `config`'s shapes.
    package init(config: AutoencoderConfig, wEnc: [Float], bEnc: [Float], wDec: [Float], bDec: [Float]) {
        precondition(wEnc.count == config.inputSize * config.hiddenSize, "W_enc has \(wEnc.count) values")
        precondition(bEnc.count == config.hiddenSize, "b_enc has \(bEnc.count) values")
        precondition(wDec.count == config.hiddenSize * config.inputSize, "W_dec has \(wDec.count) values")
        precondition(bDec.count == config.inputSize, "b_dec has \(bDec.count) values")
        self.config = config
        self.wEnc = wEnc
        self.bEnc = bEnc
        self.wDec = wDec
        self.bDec = bDec
    }
}
