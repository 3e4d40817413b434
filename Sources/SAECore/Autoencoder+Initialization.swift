extension Autoencoder {
    /// Returns a freshly initialised autoencoder, drawn the way PyTorch's `nn.Linear` is.
    ///
    /// Every weight and bias of a layer is uniform in `[−1/√fanIn, 1/√fanIn)`, where `fanIn` is
    /// `inputSize` for the encoder and `hiddenSize` for the decoder. (That is what `nn.Linear`'s
    /// Kaiming-uniform with `a = √5` works out to.) Values are drawn from a ``SeededGenerator``
    /// in the order `W_enc`, `b_enc`, `W_dec`, `b_dec`, each row-major, so a seed always gives the
    /// same model. Both sizes must be positive. With tied weights `W_dec` is still drawn (so
    /// `b_dec` is the same as untied) and then replaced by `W_enc` transposed.
    package static func initialized(config: AutoencoderConfig, seed: UInt64) -> Autoencoder {
        precondition(
            config.inputSize > 0 && config.hiddenSize > 0,
            "layer sizes must be positive: \(config.inputSize) → \(config.hiddenSize)")
        var generator = SeededGenerator(seed: seed)
        let parameterCount = config.inputSize * config.hiddenSize
        let encoderBound = 1 / Float(config.inputSize).squareRoot()
        let decoderBound = 1 / Float(config.hiddenSize).squareRoot()

        let wEnc = uniform(parameterCount, bound: encoderBound, using: &generator)
        let bEnc = uniform(config.hiddenSize, bound: encoderBound, using: &generator)
        let drawn = uniform(parameterCount, bound: decoderBound, using: &generator)
        let bDec = uniform(config.inputSize, bound: decoderBound, using: &generator)
        let wDec =
            config.hasTiedWeights
            ? transposed(wEnc, rows: config.inputSize, columns: config.hiddenSize) : drawn
        return Autoencoder(config: config, wEnc: wEnc, bEnc: bEnc, wDec: wDec, bDec: bDec)
    }

    /// A model of `config` starting from `source`'s weights, as a job's `init_from` asks.
    ///
    /// The sizes must agree (`inputSize`, `hiddenSize`); everything else comes from `config`,
    /// so `source`'s activations, top-k and threshold are not carried over. With tied weights
    /// `W_enc` is kept and `W_dec` becomes its transpose.
    package init(config: AutoencoderConfig, weightsOf source: Autoencoder) {
        let (d, h) = (config.inputSize, config.hiddenSize)
        precondition(
            source.config.inputSize == d && source.config.hiddenSize == h,
            "sizes \(source.config.inputSize) → \(source.config.hiddenSize), not \(d) → \(h)")
        let wDec = config.hasTiedWeights ? transposed(source.wEnc, rows: d, columns: h) : source.wDec
        self.init(config: config, wEnc: source.wEnc, bEnc: source.bEnc, wDec: wDec, bDec: source.bDec)
    }

    /// `count` draws from U(−bound, bound), computed as torch's `uniform_`: `lo + (hi − lo)·u`.
    private static func uniform(
        _ count: Int,
        bound: Float,
        using generator: inout SeededGenerator
    ) -> [Float] {
        (0..<count).map { _ in -bound + 2 * bound * generator.nextUnitFloat() }
    }
}
