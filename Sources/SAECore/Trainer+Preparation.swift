// What the trainer measures on the data before the first step: the per-feature moments behind
// the variance metrics and `b_dec = mean`, and the geometric median behind
// `b_dec = geometric_median`. All on normalised rows, accumulated in `Double`.
//
// Legend: N = rows, D = inputSize.

/// Per-feature first and second moments of a normalised dataset.
struct DataMoments: Sendable {
    /// The per-feature mean `x̄`, D values.
    let mean: [Double]
    /// `Σ_rows ‖x − x̄‖²`, the set's total variance times N.
    let centeredSquares: Double
    /// `Σ_rows ‖x‖²`.
    let squares: Double

    /// Measures `dataset` as normalised by `normalization`, gathering 256 rows at a time.
    ///
    /// Sums are taken about the first row (a shifted one-pass algorithm), which keeps the
    /// variance accurate when the mean is large against the spread.
    init(_ dataset: Dataset, normalization: Normalization) {
        let width = dataset.width
        var shift = [Double](repeating: 0, count: width)
        var sums = [Double](repeating: 0, count: width)
        var shiftedSquares = [Double](repeating: 0, count: width)
        var squares = 0.0
        var isShifted = false
        dataset.forEachNormalizedChunk(normalization) { values, rows in
            if !isShifted {
                for j in 0..<width { shift[j] = Double(values[j]) }
                isShifted = true
            }
            for row in 0..<rows {
                let x = values + row * width
                for j in 0..<width {
                    let value = Double(x[j])
                    let shifted = value - shift[j]
                    sums[j] += shifted
                    shiftedSquares[j] += shifted * shifted
                    squares += value * value
                }
            }
        }
        let n = Double(max(dataset.rows, 1))
        var centered = 0.0
        for j in 0..<width {
            centered += max(shiftedSquares[j] - sums[j] * sums[j] / n, 0)
        }
        self.mean = (0..<width).map { shift[$0] + sums[$0] / n }
        self.centeredSquares = centered
        self.squares = squares
    }

    /// `SSE / Σ‖x − x̄‖²`, or nil when the set has no variance.
    func fractionOfVarianceUnexplained(_ squaredError: Double) -> Double? {
        centeredSquares > 0 ? squaredError / centeredSquares : nil
    }

    /// `SSE / Σ‖x‖²`, or nil when every value is zero.
    func normalizedSquaredError(_ squaredError: Double) -> Double? {
        squares > 0 ? squaredError / squares : nil
    }
}

extension Dataset {
    /// Calls `body(values, rows)` for consecutive chunks of up to 256 normalised rows, in order.
    func forEachNormalizedChunk(
        _ normalization: Normalization,
        _ body: (UnsafePointer<Float>, Int) -> Void
    ) {
        let chunk = min(256, max(rows, 1))
        let values = UnsafeMutablePointer<Float>.zeroed(chunk * width)
        let indices = UnsafeMutablePointer<Int>.allocate(capacity: chunk)
        defer {
            values.deallocate()
            indices.deallocate()
        }
        for first in stride(from: 0, to: rows, by: chunk) {
            let count = min(chunk, rows - first)
            for i in 0..<count { indices[i] = first + i }
            gather(
                rows: UnsafeBufferPointer(start: indices, count: count), into: values,
                normalization: normalization)
            body(values, count)
        }
    }
}

extension Trainer {
    /// Throws `invalidOption` naming `reconstruction` and the first normalised value of
    /// `dataset` outside [0, 1]: binary cross-entropy reads targets as probabilities, and any
    /// other value gives a loss that is not one (it can go negative without bound).
    static func checkProbabilities(
        _ dataset: Dataset, named name: String, normalization: Normalization
    ) throws {
        var first: (row: Int, column: Int, value: Float)?
        var rowsSeen = 0
        let width = dataset.width
        dataset.forEachNormalizedChunk(normalization) { values, rows in
            if first == nil, let index = (0..<rows * width).first(where: { !(0...1).contains(values[$0]) }) {
                first = (rowsSeen + index / width, index % width, values[index])
            }
            rowsSeen += rows
        }
        guard let first else { return }
        throw TrainingError.invalidOption(
            field: "reconstruction",
            message: "bce needs targets in [0, 1], but \(name) row \(first.row), column \(first.column) is "
                + "\(first.value) after \(normalization.kind.rawValue) normalisation; use mse, or \"unit\" for bytes")
    }

    /// The most rows `b_dec = geometric_median` looks at, spread evenly over the set.
    package static let geometricMedianSampleSize = 4096
    /// Weiszfeld's iteration stops after this many steps at the latest.
    static let geometricMedianIterations = 200
    /// ... or when a step moves the estimate by less than this times `max(1, ‖y‖)`.
    static let geometricMedianTolerance = 1e-9

    /// Applies the options that act on the parameters once, before training: the `b_dec`
    /// initialisation and, with `normalizesDecoderRows`, unit-norm rows of `W_dec`.
    static func prepareParameters(
        _ flat: inout [Float],
        config: AutoencoderConfig,
        options: TrainingOptions,
        training: Dataset,
        normalization: Normalization,
        moments: DataMoments
    ) {
        let layout = ParameterLayout(config)
        switch options.decoderBiasInit {
        case nil:
            break
        case .zero?:
            for i in layout.bDec { flat[i] = 0 }
        case .mean?:
            for (j, i) in layout.bDec.enumerated() { flat[i] = Float(moments.mean[j]) }
        case .geometricMedian?:
            let median = geometricMedian(of: training, normalization: normalization)
            for (j, i) in layout.bDec.enumerated() { flat[i] = Float(median[j]) }
        }
        if options.normalizesDecoderRows {
            flat.withUnsafeMutableBufferPointer { flat in
                // safe: the layout holds at least one weight
                TrainingWorkspace.normalizeRows(
                    flat.baseAddress! + layout.wDec.lowerBound, rows: config.hiddenSize,
                    width: config.inputSize)
            }
        }
    }

    /// The geometric median of up to ``geometricMedianSampleSize`` rows (row `⌊i·N/n⌋` for
    /// `i < n`), normalised, by Weiszfeld's iteration in `Double`:
    ///
    ///     y ← Σ_i (x_i / d_i) / Σ_i (1 / d_i),   d_i = max(‖x_i − y‖, 1e-10)
    ///
    /// starting from the sample mean, for at most ``geometricMedianIterations`` steps or until a
    /// step moves `y` by at most ``geometricMedianTolerance`` ` · max(1, ‖y‖)`.
    static func geometricMedian(of dataset: Dataset, normalization: Normalization) -> [Double] {
        let (rows, width) = (dataset.rows, dataset.width)
        let count = min(rows, geometricMedianSampleSize)
        let indices = (0..<count).map { $0 * rows / count }
        var sample = [Float](repeating: 0, count: count * width)
        indices.withUnsafeBufferPointer { indices in
            sample.withUnsafeMutableBufferPointer { sample in
                // safe: count ≥ 1 and width ≥ 1, checked by the trainer
                dataset.gather(
                    rows: indices, into: sample.baseAddress!, normalization: normalization)
            }
        }
        let points = sample.map(Double.init)

        var y = [Double](repeating: 0, count: width)
        for i in 0..<count {
            for j in 0..<width { y[j] += points[i * width + j] }
        }
        for j in 0..<width { y[j] /= Double(count) }
        var next = [Double](repeating: 0, count: width)
        for _ in 0..<geometricMedianIterations {
            next.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            var weights = 0.0
            for i in 0..<count {
                var squared = 0.0
                for j in 0..<width {
                    let difference = points[i * width + j] - y[j]
                    squared += difference * difference
                }
                let weight = 1 / max(squared.squareRoot(), 1e-10)
                weights += weight
                for j in 0..<width { next[j] += weight * points[i * width + j] }
            }
            var moved = 0.0
            var size = 0.0
            for j in 0..<width {
                let value = next[j] / weights
                moved += (value - y[j]) * (value - y[j])
                size += value * value
                y[j] = value
            }
            if moved.squareRoot() <= geometricMedianTolerance * max(1, size.squareRoot()) { break }
        }
        return y
    }
}
