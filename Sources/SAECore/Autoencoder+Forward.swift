// The forward pass of the autoencoder over raw pointers, shared by inference and training.
//
// Legend: B = rows in the batch, D = inputSize (d_in), H = hiddenSize (d_sae).
// x: B × D, W_enc: D × H, b_enc: H, h: B × H, W_dec: H × D, b_dec: D, output: B × D.
// Everything is row-major Float; nothing here allocates.

extension Autoencoder {
    /// Encodes `rows` samples into `code`: `act(topK(x · W_enc + b_enc))`.
    ///
    /// - Parameters:
    ///   - topK: when set, only that many pre-activations survive per row (see ``TopKSelection``).
    ///   - mask: `B × H` floats receiving 1 for kept and 0 for dropped latents; only written when
    ///     `topK` is set.
    ///   - scratch: `H` floats of working space for the selection; unused without `topK`.
    static func encodeKernel(
        x: UnsafePointer<Float>,
        rows: Int,
        config: AutoencoderConfig,
        topK: Int?,
        wEnc: UnsafePointer<Float>,
        bEnc: UnsafePointer<Float>,
        code: UnsafeMutablePointer<Float>,
        mask: UnsafeMutablePointer<Float>?,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let inputSize = config.inputSize
        let hiddenSize = config.hiddenSize
        for row in 0..<rows {
            (code + row * hiddenSize).update(from: bEnc, count: hiddenSize)
        }
        BLAS.gemm(
            transposeA: false, transposeB: false, m: rows, n: hiddenSize, k: inputSize,
            a: x, b: wEnc, beta: 1, c: code)

        if let topK {
            for row in 0..<rows {
                TopKSelection.keepLargest(
                    topK, of: code + row * hiddenSize, count: hiddenSize,
                    mask: mask.map { $0 + row * hiddenSize }, scratch: scratch)
            }
        }
        config.activation.apply(code, count: rows * hiddenSize)
    }

    /// Writes the decoder's pre-activation `h · W_dec + b_dec` for `rows` codes into `logits`.
    ///
    /// The caller applies the decoder activation (or, for BCE, works on the logits directly).
    static func decodeLogitsKernel(
        code: UnsafePointer<Float>,
        rows: Int,
        config: AutoencoderConfig,
        wDec: UnsafePointer<Float>,
        bDec: UnsafePointer<Float>,
        logits: UnsafeMutablePointer<Float>
    ) {
        let inputSize = config.inputSize
        for row in 0..<rows {
            (logits + row * inputSize).update(from: bDec, count: inputSize)
        }
        BLAS.gemm(
            transposeA: false, transposeB: false, m: rows, n: inputSize, k: config.hiddenSize,
            a: code, b: wDec, beta: 1, c: logits)
    }
}

// MARK: - Inference on arrays

extension Autoencoder {
    /// Encodes a batch: returns `rows × hiddenSize` codes for `rows × inputSize` inputs.
    ///
    /// Computes `act(x · W_enc + b_enc)`; with `config.topK` set, only the `topK` largest
    /// pre-activations of each row are kept (ties to the earlier latent) and the rest are zeroed
    /// before the activation. `x` must hold exactly `rows × inputSize` values.
    package func encode(_ x: [Float], rows: Int) -> [Float] {
        precondition(rows >= 0, "rows must not be negative, not \(rows)")
        precondition(config.inputSize > 0 && config.hiddenSize > 0, "empty model \(config)")
        let inputSize = config.inputSize
        let hiddenSize = config.hiddenSize
        precondition(
            x.count == rows * inputSize, "x has \(x.count) values, not \(rows)×\(inputSize)")
        if rows == 0 { return [] }
        var code = [Float](repeating: 0, count: rows * hiddenSize)
        var scratch = [Float](repeating: 0, count: hiddenSize)
        x.withUnsafeBufferPointer { x in
            wEnc.withUnsafeBufferPointer { wEnc in
                bEnc.withUnsafeBufferPointer { bEnc in
                    code.withUnsafeMutableBufferPointer { code in
                        scratch.withUnsafeMutableBufferPointer { scratch in
                            // safe: rows, inputSize and hiddenSize are positive
                            Self.encodeKernel(
                                x: x.baseAddress!, rows: rows, config: config, topK: config.topK,
                                wEnc: wEnc.baseAddress!, bEnc: bEnc.baseAddress!,
                                code: code.baseAddress!, mask: nil, scratch: scratch.baseAddress!)
                        }
                    }
                }
            }
        }
        return code
    }

    /// Decodes a batch: returns `rows × inputSize` outputs `decoderAct(h · W_dec + b_dec)`.
    ///
    /// `h` must hold exactly `rows × hiddenSize` values.
    package func decode(_ h: [Float], rows: Int) -> [Float] {
        precondition(rows >= 0, "rows must not be negative, not \(rows)")
        precondition(config.inputSize > 0 && config.hiddenSize > 0, "empty model \(config)")
        let inputSize = config.inputSize
        let hiddenSize = config.hiddenSize
        precondition(
            h.count == rows * hiddenSize, "h has \(h.count) values, not \(rows)×\(hiddenSize)")
        if rows == 0 { return [] }
        var output = [Float](repeating: 0, count: rows * inputSize)
        h.withUnsafeBufferPointer { h in
            wDec.withUnsafeBufferPointer { wDec in
                bDec.withUnsafeBufferPointer { bDec in
                    output.withUnsafeMutableBufferPointer { output in
                        // safe: rows, inputSize and hiddenSize are positive
                        Self.decodeLogitsKernel(
                            code: h.baseAddress!, rows: rows, config: config,
                            wDec: wDec.baseAddress!, bDec: bDec.baseAddress!,
                            logits: output.baseAddress!)
                        config.decoderActivation.apply(output.baseAddress!, count: output.count)
                    }
                }
            }
        }
        return output
    }

    /// Encodes then decodes a batch: returns `rows × inputSize` reconstructions of `x`.
    package func reconstruct(_ x: [Float], rows: Int) -> [Float] {
        decode(encode(x, rows: rows), rows: rows)
    }
}
