// The forward pass of the autoencoder over raw pointers, shared by inference and training.
//
// Legend: B = rows in the batch, D = inputSize (d_in), H = hiddenSize (d_sae).
// x: B × D, W_encᵀ: H × D, b_enc: H, h: B × H, W_dec: H × D, b_dec: D, output: B × D.
// Everything is row-major Float; nothing here allocates.

/// Buffers the encoder writes, owned by the caller.
struct EncoderBuffers {
    /// `h`, B × H.
    let code: UnsafeMutablePointer<Float>
    /// B × D for `x − b_dec`; needed only when the config subtracts the decoder bias.
    let centered: UnsafeMutablePointer<Float>?
    /// B × H receiving the pre-activations before selection, when given.
    let preActivation: UnsafeMutablePointer<Float>?
    /// B × H receiving 1 for kept and 0 for dropped latents; written when given and the
    /// selection drops any.
    let mask: UnsafeMutablePointer<Float>?
    /// Working space for the selection: at least H floats, and B × H for batch top-k. With
    /// B × H, per-row top-k runs on several cores.
    let scratch: UnsafeMutablePointer<Float>
    /// How many floats `scratch` holds.
    let scratchCount: Int
}

extension Autoencoder {
    /// Encodes `rows` samples into `buffers.code`: `act(select((x − c) · W_enc + b_enc))`.
    ///
    /// `c` is `b_dec` when `config.subtractsDecoderBias`, else 0. Returns the encoder's input:
    /// `x` itself, or `buffers.centered` holding `x − b_dec`.
    static func encodeKernel(
        x: UnsafePointer<Float>,
        rows: Int,
        config: AutoencoderConfig,
        selection: CodeSelection,
        parameters p: ParameterPointers,
        buffers: EncoderBuffers
    ) -> UnsafePointer<Float> {
        let inputSize = config.inputSize
        let hiddenSize = config.hiddenSize
        var input = x
        if config.subtractsDecoderBias {
            guard let centered = buffers.centered else {
                preconditionFailure("subtracting b_dec needs a centred-input buffer")
            }
            for row in 0..<rows {
                let (from, to) = (x + row * inputSize, centered + row * inputSize)
                for i in 0..<inputSize { to[i] = from[i] - p.bDec[i] }
            }
            input = UnsafePointer(centered)
        }

        let code = buffers.code
        broadcast(p.bEnc, width: hiddenSize, into: code, rows: rows)
        BLAS.gemm(
            transposeA: false, transposeB: p.isEncoderTransposed, m: rows, n: hiddenSize,
            k: inputSize, a: input, b: p.wEncT, beta: 1, c: code)
        buffers.preActivation?.update(from: code, count: rows * hiddenSize)

        select(selection, code: code, rows: rows, hiddenSize: hiddenSize, buffers: buffers)
        config.activation.apply(code, count: rows * hiddenSize)
        return input
    }

    /// Copies the `width` values at `bias` into each of `rows` rows at `matrix`.
    ///
    /// From 16,384 values the work is shared by both cores (``SplitWorker``), cut as
    /// ``BLAS/gemm(transposeA:transposeB:m:n:k:alpha:a:b:beta:c:)`` cuts the product that then
    /// adds to these rows: in two parts of the rows, or in four parts of the columns (the
    /// worker, which takes parts from the back, gets the later half). On an idle machine each
    /// core then fills the lines it goes on to add to, and already holds them in its cache.
    private static func broadcast(
        _ bias: UnsafePointer<Float>,
        width: Int,
        into matrix: UnsafeMutablePointer<Float>,
        rows: Int
    ) {
        let isShared = rows * width >= 16_384
        if isShared, BLAS.splitsRows(m: rows, n: width) {
            SplitWorker.run(parts: 2) { part in
                let range = SplitWorker.range(
                    of: part, in: 2, covering: rows, alignment: BLAS.splitAlignment)
                for row in range {
                    (matrix + row * width).update(from: bias, count: width)
                }
            }
            return
        }
        let parts = isShared && width >= 64 ? 4 : 1
        SplitWorker.run(parts: parts) { part in
            // Parts start on 16-float (64-byte) boundaries within the row.
            let columns = SplitWorker.range(of: part, in: parts, covering: width, alignment: 16)
            for row in 0..<rows {
                (matrix + row * width + columns.lowerBound)
                    .update(from: bias + columns.lowerBound, count: columns.count)
            }
        }
    }

    /// Zeroes the pre-activations `selection` drops, writing the mask when one is given.
    private static func select(
        _ selection: CodeSelection,
        code: UnsafeMutablePointer<Float>,
        rows: Int,
        hiddenSize: Int,
        buffers: EncoderBuffers
    ) {
        let mask = buffers.mask
        switch selection {
        case .none:
            return
        case .topK(let k):
            // Rows are independent; each chunk of rows takes its own part of the scratch.
            let isSplit = buffers.scratchCount >= rows * hiddenSize
            let minimum = isSplit ? max(1, 8192 / hiddenSize) : rows
            Parallel.forEachChunk(of: rows, minimumChunk: minimum) { chunk in
                let scratch = buffers.scratch + (isSplit ? chunk.lowerBound * hiddenSize : 0)
                for row in chunk {
                    TopKSelection.keepLargest(
                        k, of: code + row * hiddenSize, count: hiddenSize,
                        mask: mask.map { $0 + row * hiddenSize }, scratch: scratch)
                }
            }
        case .batchTopK(let k):
            // The whole batch is one row of B·H values, so earlier rows win ties.
            TopKSelection.keepLargest(
                rows * k, of: code, count: rows * hiddenSize, mask: mask,
                scratch: buffers.scratch)
        case .threshold(let threshold):
            for i in 0..<rows * hiddenSize {
                let isKept = code[i] > threshold
                if !isKept { code[i] = 0 }
                mask?[i] = isKept ? 1 : 0
            }
        }
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
        broadcast(bDec, width: inputSize, into: logits, rows: rows)
        BLAS.gemm(
            transposeA: false, transposeB: false, m: rows, n: inputSize, k: config.hiddenSize,
            a: code, b: wDec, beta: 1, c: logits)
    }
}

// MARK: - Inference on arrays

extension Autoencoder {
    /// Encodes a batch: returns `rows × hiddenSize` codes for `rows × inputSize` inputs.
    ///
    /// Computes `act(select((x − c) · W_enc + b_enc))` as ``AutoencoderConfig`` describes:
    /// with `topK` only the `topK` largest pre-activations of each row are kept (ties to the
    /// earlier latent); else with `threshold` those above it; else with `batchTopK` the
    /// `rows · batchTopK` largest of the whole batch. The rest are zeroed before the
    /// activation. `x` must hold exactly `rows × inputSize` values.
    package func encode(_ x: [Float], rows: Int) -> [Float] {
        precondition(rows >= 0, "rows must not be negative, not \(rows)")
        precondition(config.inputSize > 0 && config.hiddenSize > 0, "empty model \(config)")
        let (inputSize, hiddenSize) = (config.inputSize, config.hiddenSize)
        precondition(
            x.count == rows * inputSize, "x has \(x.count) values, not \(rows)×\(inputSize)")
        if rows == 0 { return [] }
        let selection = config.inferenceSelection
        var code = [Float](repeating: 0, count: rows * hiddenSize)
        var scratch = [Float](
            repeating: 0, count: selection.isSelective ? rows * hiddenSize : hiddenSize)
        var centered = [Float](repeating: 0, count: config.subtractsDecoderBias ? x.count : 0)
        x.withUnsafeBufferPointer { x in
            withParameterPointers { parameters in
                code.withUnsafeMutableBufferPointer { code in
                    scratch.withUnsafeMutableBufferPointer { scratch in
                        centered.withUnsafeMutableBufferPointer { centered in
                            // safe: rows, inputSize and hiddenSize are positive
                            let buffers = EncoderBuffers(
                                code: code.baseAddress!, centered: centered.baseAddress,
                                preActivation: nil, mask: nil, scratch: scratch.baseAddress!,
                                scratchCount: scratch.count)
                            _ = Self.encodeKernel(
                                x: x.baseAddress!, rows: rows, config: config,
                                selection: selection, parameters: parameters, buffers: buffers)
                        }
                    }
                }
            }
        }
        return code
    }

    /// Calls `body` with pointers to the model's own arrays (`W_enc` untransposed), so that
    /// inference reads the weights in place instead of copying them into the flat layout.
    private func withParameterPointers<Result>(
        _ body: (ParameterPointers) -> Result
    ) -> Result {
        wEnc.withUnsafeBufferPointer { wEnc in
            bEnc.withUnsafeBufferPointer { bEnc in
                wDec.withUnsafeBufferPointer { wDec in
                    bDec.withUnsafeBufferPointer { bDec in
                        // safe: a model's arrays are non-empty (checked by the callers)
                        body(
                            ParameterPointers(
                                wEnc: wEnc.baseAddress!, bEnc: bEnc.baseAddress!,
                                wDec: wDec.baseAddress!, bDec: bDec.baseAddress!))
                    }
                }
            }
        }
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
