// AuxK (Gao et al. 2024): the dead latents' reconstruction of the residual.
//
// Legend: B = rows, D = inputSize, H = hiddenSize, k_a = auxK, c = auxCoefficient.
// With e = x − x' (held constant) and a the activations of each row's k_a largest dead
// pre-activations, ê = a · W_dec (no bias, no decoder activation) and
//
//     L_aux = c · Σ(ê − e)² / (B·D),   ∂L_aux/∂ê = 2c·(ê − e) / (B·D).
//
// The gradient reaches W_dec's dead rows and, through a = act(z), the dead latents' encoder
// weights, so a latent that stopped firing is pulled towards explaining what the live ones miss.

/// AuxK's buffers and its pass; owned by a ``TrainingWorkspace``.
struct AuxiliaryBuffers {
    /// Each row's chosen dead latents and their activations (up to B × k_a entries).
    let entries: SparseRows
    /// The same entries grouped by latent.
    let byLatent: SparseColumns
    /// ∂L_aux/∂z at each entry, in `byLatent`'s order.
    let gradients: UnsafeMutablePointer<Float>
    /// `ê − e`, then `∂L_aux/∂ê`, B × D.
    private let residual: UnsafeMutablePointer<Float>
    /// The dead latents' indices, then one row's dead pre-activations and selection mask (H).
    private let deadLatentList: UnsafeMutablePointer<Int32>
    private let rowValues: UnsafeMutablePointer<Float>
    private let rowMask: UnsafeMutablePointer<Float>
    private let auxK: Int

    init(capacity: Int, config: AutoencoderConfig, auxK: Int) {
        let hidden = config.hiddenSize
        self.auxK = auxK
        entries = SparseRows.allocate(rows: capacity, capacity: capacity * auxK)
        byLatent = SparseColumns.allocate(hiddenSize: hidden, capacity: capacity * auxK)
        gradients = .zeroed(capacity * auxK)
        residual = .zeroed(capacity * config.inputSize)
        deadLatentList = .allocate(capacity: hidden)
        deadLatentList.initialize(repeating: 0, count: hidden)
        rowValues = .zeroed(hidden)
        rowMask = .zeroed(hidden)
    }

    func deallocate() {
        entries.deallocate()
        byLatent.deallocate()
        for buffer in [gradients, residual, rowValues, rowMask] { buffer.deallocate() }
        deadLatentList.deallocate()
    }

    /// Returns `L_aux`, adds its gradient to `dWDec` and leaves `∂L_aux/∂z` in ``gradients``.
    ///
    /// `reconstruction` is `x'` (B × D), `preActivation` the encoder's output before selection
    /// (B × H). With no dead latent the loss is 0 and nothing is touched but ``entries``.
    /// `scratch` holds at least H floats.
    func lossAndGradients(
        x: UnsafePointer<Float>,
        reconstruction: UnsafePointer<Float>,
        preActivation: UnsafePointer<Float>,
        rows: Int,
        deadLatents: UnsafePointer<Bool>,
        config: AutoencoderConfig,
        sparsity: SparsityOptions,
        wDec: UnsafePointer<Float>,
        dWDec: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) -> Double {
        let (d, hidden) = (config.inputSize, config.hiddenSize)
        var deadCount = 0
        for j in 0..<hidden where deadLatents[j] {
            deadLatentList[deadCount] = Int32(j)
            deadCount += 1
        }
        guard deadCount > 0 else {
            entries.starts.update(repeating: 0, count: rows + 1)
            byLatent.fill(from: entries, rows: rows)
            return 0
        }
        selectEntries(
            preActivation: preActivation, rows: rows, hiddenSize: hidden, deadCount: deadCount,
            activation: config.activation, scratch: scratch)
        byLatent.fill(from: entries, rows: rows)

        // ê − e, the loss, and ∂L_aux/∂ê in place.
        let count = rows * d
        residual.update(repeating: 0, count: count)
        SparseProducts.multiply(entries, rows: rows, by: wDec, width: d, addingInto: residual)
        let scale = 2 * sparsity.auxCoefficient / Float(count)
        var sum = 0.0
        for i in 0..<count {
            let difference = residual[i] - (x[i] - reconstruction[i])
            sum += Double(difference * difference)
            residual[i] = scale * difference
        }

        // dW_dec[j] += a·g, and ∂L_aux/∂z = (g · W_dec[j]) · act'(a).
        SparseProducts.transposedProduct(
            pattern: byLatent, weights: byLatent.values, times: residual, width: d,
            into: dWDec, isAccumulating: true)
        SparseProducts.maskedProduct(
            residual, transposing: wDec, width: d, pattern: byLatent, into: gradients)
        for e in 0..<byLatent.count {
            gradients[e] *= config.activation.slope(atOutput: byLatent.values[e])
        }
        return Double(sparsity.auxCoefficient) * sum / Double(count)
    }

    /// Fills ``entries`` with each row's `min(k_a, deadCount)` largest dead pre-activations
    /// (earlier latents win ties), activated.
    private func selectEntries(
        preActivation: UnsafePointer<Float>,
        rows: Int,
        hiddenSize: Int,
        deadCount: Int,
        activation: Activation,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let kept = min(auxK, deadCount)
        var count = 0
        for row in 0..<rows {
            entries.starts[row] = count
            let z = preActivation + row * hiddenSize
            for i in 0..<deadCount {
                rowValues[i] = z[Int(deadLatentList[i])]
            }
            TopKSelection.keepLargest(
                kept, of: rowValues, count: deadCount, mask: rowMask, scratch: scratch)
            for i in 0..<deadCount where rowMask[i] != 0 {
                let value = rowValues[i]
                entries.columns[count] = deadLatentList[i]
                entries.values[count] = activation == .relu ? max(value, 0) : value
                count += 1
            }
        }
        entries.starts[rows] = count
    }

    /// Adds ∂L_aux/∂z into a dense `B × H` gradient.
    func addGradients(hiddenSize: Int, into dCode: UnsafeMutablePointer<Float>) {
        for j in 0..<hiddenSize {
            for e in byLatent.starts[j]..<byLatent.starts[j + 1] {
                dCode[Int(byLatent.rows[e]) * hiddenSize + j] += gradients[e]
            }
        }
    }
}
