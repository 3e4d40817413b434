// How raw data values become the values a model is trained on and encodes.
//
// A raw value is a stored byte read as a number in 0...255, or a stored float as it is.

/// Which transform turns raw values into model inputs.
package enum NormalizationKind: String, Codable, Sendable, CaseIterable {
    /// Raw values unchanged.
    case none
    /// `v / 255` (computed as `v · (1/255)` in `Float`): bytes become [0, 1]. The default for
    /// byte data.
    case unit
    /// `(v − μ_j) / σ_j` per feature `j`, with `μ` and `σ` the training set's mean and standard
    /// deviation (population, `ddof = 0`); a constant feature uses `σ = 1`.
    case standardize
}

/// A normalisation with its fitted statistics, to store beside a model and apply again to the
/// inputs it encodes.
///
/// `mean` and `standardDeviation` hold one value per feature for `standardize` and are empty
/// otherwise. Apply it to raw values with ``apply(to:)``; ``restore(_:)`` maps model-scale
/// values (a reconstruction) back to the raw scale.
package struct Normalization: Codable, Sendable, Equatable {
    package var kind: NormalizationKind
    /// `μ_j`, per feature (standardize only).
    package var mean: [Float]
    /// `σ_j`, per feature (standardize only); never 0.
    package var standardDeviation: [Float]

    /// A normalisation of the given kind with the given statistics.
    package init(kind: NormalizationKind, mean: [Float] = [], standardDeviation: [Float] = []) {
        precondition(
            mean.count == standardDeviation.count,
            "\(mean.count) means but \(standardDeviation.count) standard deviations")
        self.kind = kind
        self.mean = mean
        self.standardDeviation = standardDeviation
    }

    /// Raw values unchanged.
    package static let none = Normalization(kind: .none)
    /// Bytes to [0, 1].
    package static let unit = Normalization(kind: .unit)

    /// Fits `kind` to `dataset`: standardize measures each column's mean and standard deviation
    /// (in `Double`, over every row); the other kinds need no statistics. nil picks `unit` for
    /// byte data and `none` for floats.
    package static func fitted(_ kind: NormalizationKind?, to dataset: Dataset) -> Normalization {
        switch kind {
        case .none?: return .none
        case .unit?: return .unit
        case .standardize?: return standardizing(dataset)
        case nil:
            if case .bytes = dataset.storage { return .unit }
            return .none
        }
    }

    private static func standardizing(_ dataset: Dataset) -> Normalization {
        let (rows, width) = (dataset.rows, dataset.width)
        var sums = [Double](repeating: 0, count: width)
        dataset.forEachRawValue { column, value in sums[column] += value }
        let means = sums.map { $0 / Double(max(rows, 1)) }
        var squares = [Double](repeating: 0, count: width)
        dataset.forEachRawValue { column, value in
            let deviation = value - means[column]
            squares[column] += deviation * deviation
        }
        let deviations = squares.map { (sum: Double) -> Float in
            let sigma = Float((sum / Double(max(rows, 1))).squareRoot())
            return sigma > 0 && sigma.isFinite ? sigma : 1
        }
        return Normalization(
            kind: .standardize, mean: means.map { Float($0) }, standardDeviation: deviations)
    }

    /// Whether this normalisation fits rows of `width` values.
    package func fits(width: Int) -> Bool {
        kind != .standardize || (mean.count == width && standardDeviation.count == width)
    }

    /// Maps raw values to model inputs in place; `values` holds whole rows of the fitted width.
    package func apply(to values: inout [Float]) {
        switch kind {
        case .none:
            return
        case .unit:
            for i in values.indices { values[i] *= 1 / 255 }
        case .standardize:
            let width = mean.count
            precondition(width > 0 && values.count % width == 0, "rows of \(width) expected")
            for i in values.indices {
                let j = i % width
                values[i] = (values[i] - mean[j]) / standardDeviation[j]
            }
        }
    }

    /// Maps model-scale values back to raw values in place (the inverse of ``apply(to:)`` up to
    /// rounding); `values` holds whole rows of the fitted width.
    package func restore(_ values: inout [Float]) {
        switch kind {
        case .none:
            return
        case .unit:
            for i in values.indices { values[i] *= 255 }
        case .standardize:
            let width = mean.count
            precondition(width > 0 && values.count % width == 0, "rows of \(width) expected")
            for i in values.indices {
                let j = i % width
                values[i] = values[i] * standardDeviation[j] + mean[j]
            }
        }
    }
}
