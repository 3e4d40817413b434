import SAECore

/// A stored model as the encode, reconstruct and decode routes run it: the autoencoder plus
/// the input transform its training data went through.
///
/// Rows cross the API in the caller's units. For `standardize` models those are the training
/// data's raw units: inputs become `(x − μ) / σ` before encoding, and reconstructions and
/// decoded rows come back as `x'·σ + μ`. For `unit` and `none` models the API's rows are the
/// model's own inputs, unchanged: with `unit` that is byte / 255, the scale the dataset routes
/// show byte data in, so a row read from the daemon can be sent back as it is.
package struct ServedModel: Sendable {
    package var autoencoder: Autoencoder
    /// The standardisation applied at the API, or nil when rows pass unchanged.
    package var standardization: Normalization?

    /// `autoencoder` served with `info`'s normalisation.
    package init(_ autoencoder: Autoencoder, info: ModelInfo) {
        self.autoencoder = autoencoder
        let normalization = info.inputNormalization
        standardization = normalization.kind == .standardize ? normalization : nil
    }

    package var config: AutoencoderConfig { autoencoder.config }

    /// Codes for `rows × inputSize` inputs in the caller's units.
    package func encode(_ x: [Float], rows: Int) -> [Float] {
        autoencoder.encode(modelInputs(x), rows: rows)
    }

    /// Reconstructions of `rows × inputSize` inputs, both in the caller's units.
    package func reconstruct(_ x: [Float], rows: Int) -> [Float] {
        callerUnits(autoencoder.reconstruct(modelInputs(x), rows: rows))
    }

    /// Decoder outputs for `rows × hiddenSize` codes, in the caller's units.
    package func decode(_ h: [Float], rows: Int) -> [Float] {
        callerUnits(autoencoder.decode(h, rows: rows))
    }

    /// `x` as the model's inputs: standardised when the model was trained so.
    package func modelInputs(_ x: [Float]) -> [Float] {
        guard let standardization, !x.isEmpty else { return x }
        var values = x
        standardization.apply(to: &values)
        return values
    }

    /// Model-scale rows back in the caller's units.
    private func callerUnits(_ values: [Float]) -> [Float] {
        guard let standardization, !values.isEmpty else { return values }
        var values = values
        standardization.restore(&values)
        return values
    }
}
