// Matrix products with a sparse code, for k-sparse training (top-k and batch top-k).
//
// Legend: B = rows in the batch, D = a row width (inputSize), H = hiddenSize.
// A sparse B × H matrix is held row by row (CSR): the entries of row r are e in
// starts[r]..<starts[r + 1], each with a latent `columns[e]` and a value `values[e]`.
// W is a dense H × D matrix (W_dec, or W_enc transposed), M a dense B × D matrix.
//
// With k entries per row each product costs B·k·D multiply-adds instead of B·H·D. Every
// loop runs in a fixed order, so results do not depend on timing; nothing here allocates.

/// The entries of a sparse `B × H` matrix, row by row, over caller-owned buffers.
struct SparseRows {
    /// `B + 1` offsets into `columns` and `values`.
    let starts: UnsafeMutablePointer<Int>
    /// The latent of each entry.
    let columns: UnsafeMutablePointer<Int32>
    /// The value of each entry.
    let values: UnsafeMutablePointer<Float>
    /// The most entries the buffers hold.
    let capacity: Int

    /// Allocates buffers for up to `rows` rows and `capacity` entries, empty.
    static func allocate(rows: Int, capacity: Int) -> SparseRows {
        let sparse = SparseRows(
            starts: .allocate(capacity: rows + 1), columns: .allocate(capacity: max(capacity, 1)),
            values: .allocate(capacity: max(capacity, 1)), capacity: capacity)
        sparse.starts.initialize(repeating: 0, count: rows + 1)
        sparse.columns.initialize(repeating: 0, count: max(capacity, 1))
        sparse.values.initialize(repeating: 0, count: max(capacity, 1))
        return sparse
    }

    func deallocate() {
        starts.deallocate()
        columns.deallocate()
        values.deallocate()
    }

    /// The number of entries in the first `rows` rows.
    func count(rows: Int) -> Int { starts[rows] }
}

enum SparseProducts {
    /// `out[r] += Σ_e values[e] · W[columns[e]]`: a sparse `B × H` times a dense `H × D`.
    static func multiply(
        _ sparse: SparseRows,
        rows: Int,
        by w: UnsafePointer<Float>,
        width: Int,
        addingInto out: UnsafeMutablePointer<Float>
    ) {
        Parallel.forEachChunk(of: rows, minimumChunk: minimumRows(sparse, rows, width)) { chunk in
            for r in chunk {
                multiplyRow(sparse, row: r, by: w, width: width, addingInto: out + r * width)
            }
        }
    }

    private static func multiplyRow(
        _ sparse: SparseRows,
        row r: Int,
        by w: UnsafePointer<Float>,
        width: Int,
        addingInto target: UnsafeMutablePointer<Float>
    ) {
        var e = sparse.starts[r]
        let end = sparse.starts[r + 1]
        // Four rows of W per pass over the target: a quarter of the loads and stores.
        while e + 4 <= end {
            let a = (sparse.values[e], sparse.values[e + 1], sparse.values[e + 2],
                     sparse.values[e + 3])
            let w0 = w + Int(sparse.columns[e]) * width
            let w1 = w + Int(sparse.columns[e + 1]) * width
            let w2 = w + Int(sparse.columns[e + 2]) * width
            let w3 = w + Int(sparse.columns[e + 3]) * width
            addFour(a, w0, w1, w2, w3, into: target, count: width)
            e += 4
        }
        while e < end {
            let a = sparse.values[e]
            if a != 0 {
                axpy(a, w + Int(sparse.columns[e]) * width, into: target, count: width)
            }
            e += 1
        }
    }

    /// Rows per chunk so that each chunk does at least about 2¹⁸ multiply-adds.
    private static func minimumRows(_ sparse: SparseRows, _ rows: Int, _ width: Int) -> Int {
        let work = max(sparse.starts[rows] * width, 1)
        return max(1, rows * (1 << 18) / work)
    }

    /// `gradients[e] = M[r] · W[columns[e]]` for every entry `e` of row `r`: the entries of
    /// `M · Wᵀ` (`B × H`) that the sparse pattern names.
    static func maskedProduct(
        _ m: UnsafePointer<Float>,
        transposing w: UnsafePointer<Float>,
        width: Int,
        pattern: SparseRows,
        rows: Int,
        into gradients: UnsafeMutablePointer<Float>
    ) {
        let minimum = minimumRows(pattern, rows, width)
        Parallel.forEachChunk(of: rows, minimumChunk: minimum) { chunk in
            for r in chunk {
                let row = m + r * width
                for e in pattern.starts[r]..<pattern.starts[r + 1] {
                    gradients[e] = dot(row, w + Int(pattern.columns[e]) * width, count: width)
                }
            }
        }
    }

    /// `W[columns[e]] += weights[e] · M[r]` for every entry: adds `Sᵀ · M` (`H × D`) into `W`,
    /// where `S` has the pattern's entries with values `weights`.
    ///
    /// Entries are added in order; several cores split the columns of `W`, so each element
    /// still receives its terms in the same order.
    static func addTransposedProduct(
        pattern: SparseRows,
        weights: UnsafePointer<Float>,
        rows: Int,
        times m: UnsafePointer<Float>,
        width: Int,
        into w: UnsafeMutablePointer<Float>
    ) {
        let work = pattern.starts[rows] * width
        let minimumColumns = max(64, width * (1 << 18) / max(work, 1))
        Parallel.forEachChunk(of: width, minimumChunk: minimumColumns, alignment: 16) { columns in
            for r in 0..<rows {
                let row = m + r * width + columns.lowerBound
                for e in pattern.starts[r]..<pattern.starts[r + 1] where weights[e] != 0 {
                    let target = w + Int(pattern.columns[e]) * width + columns.lowerBound
                    axpy(weights[e], row, into: target, count: columns.count)
                }
            }
        }
    }

    /// `sums[columns[e]] += weights[e]` for every entry: the column sums of the sparse matrix.
    static func addColumnSums(
        pattern: SparseRows,
        weights: UnsafePointer<Float>,
        rows: Int,
        into sums: UnsafeMutablePointer<Float>
    ) {
        for e in 0..<pattern.starts[rows] {
            sums[Int(pattern.columns[e])] += weights[e]
        }
    }

    // MARK: - Vector kernels

    /// `y += a · x` over `count` floats.
    @inline(__always)
    static func axpy(
        _ a: Float, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int
    ) {
        let scale = Lanes(repeating: a)
        var i = 0
        while i + 8 <= count {
            let sum = Lanes.load(y + i, count: 8) + scale * Lanes.load(x + i, count: 8)
            sum.store(to: y + i, count: 8)
            i += 8
        }
        while i < count {
            y[i] += a * x[i]
            i += 1
        }
    }

    /// `y += a.0·x0 + a.1·x1 + a.2·x2 + a.3·x3` over `count` floats, added left to right.
    @inline(__always)
    private static func addFour(
        _ a: (Float, Float, Float, Float),
        _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>,
        _ x2: UnsafePointer<Float>, _ x3: UnsafePointer<Float>,
        into y: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        let (s0, s1) = (Lanes(repeating: a.0), Lanes(repeating: a.1))
        let (s2, s3) = (Lanes(repeating: a.2), Lanes(repeating: a.3))
        var i = 0
        while i + 8 <= count {
            var sum = Lanes.load(y + i, count: 8) + s0 * Lanes.load(x0 + i, count: 8)
            sum += s1 * Lanes.load(x1 + i, count: 8)
            sum += s2 * Lanes.load(x2 + i, count: 8)
            sum += s3 * Lanes.load(x3 + i, count: 8)
            sum.store(to: y + i, count: 8)
            i += 8
        }
        while i < count {
            y[i] = y[i] + a.0 * x0[i] + a.1 * x1[i] + a.2 * x2[i] + a.3 * x3[i]
            i += 1
        }
    }

    /// `x · y` over `count` floats: eight lane sums, then added pairwise.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = Lanes()
        var i = 0
        while i + 8 <= count {
            lanes += Lanes.load(x + i, count: 8) * Lanes.load(y + i, count: 8)
            i += 8
        }
        var sum = lanes.sum(ofFirst: 8)
        while i < count {
            sum += x[i] * y[i]
            i += 1
        }
        return sum
    }
}
