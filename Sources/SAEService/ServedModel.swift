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
    ///
    /// Throws 422 `non_finite_output` naming the first row whose standardised input or code is
    /// not finite; reconstruct and decode check their outputs alike, for JSON and raw answers.
    /// Finite inputs can still overflow float32 (a tiny `σ`, values far outside the training
    /// range), and a NaN input to the encoder would be dropped by the selection and answered
    /// as a zero code, so the standardised inputs are checked before encoding.
    package func encode(_ x: [Float], rows: Int) throws -> [Float] {
        let codes = autoencoder.encode(try modelInputs(x, rows: rows), rows: rows)
        try Self.checkFinite(codes, rows: rows, what: "codes")
        return codes
    }

    /// Reconstructions of `rows × inputSize` inputs, both in the caller's units.
    package func reconstruct(_ x: [Float], rows: Int) throws -> [Float] {
        let inputs = try modelInputs(x, rows: rows)
        let codes = autoencoder.encode(inputs, rows: rows)
        try Self.checkFinite(codes, rows: rows, what: "codes")
        let outputs = callerUnits(autoencoder.decode(codes, rows: rows))
        try Self.checkFinite(outputs, rows: rows, what: "reconstructions")
        return outputs
    }

    /// Decoder outputs for `rows × hiddenSize` codes, in the caller's units.
    package func decode(_ h: [Float], rows: Int) throws -> [Float] {
        let outputs = callerUnits(autoencoder.decode(h, rows: rows))
        try Self.checkFinite(outputs, rows: rows, what: "outputs")
        return outputs
    }

    /// `x` as the model's inputs: standardised when the model was trained so.
    package func modelInputs(_ x: [Float], rows: Int) throws -> [Float] {
        guard let standardization, !x.isEmpty else { return x }
        var values = x
        standardization.apply(to: &values)
        try Self.checkFinite(values, rows: rows, what: "standardised inputs")
        return values
    }

    /// Throws `non_finite_output` naming the first row of `values` holding a NaN or infinity.
    private static func checkFinite(_ values: [Float], rows: Int, what: String) throws {
        guard let index = values.firstIndex(where: { !$0.isFinite }) else { return }
        throw ServiceError.nonFiniteOutput(what: what, row: index / max(values.count / max(rows, 1), 1))
    }

    /// Model-scale rows back in the caller's units.
    private func callerUnits(_ values: [Float]) -> [Float] {
        guard let standardization, !values.isEmpty else { return values }
        var values = values
        standardization.restore(&values)
        return values
    }
}
