// Matrix products with a sparse code, for k-sparse training (top-k, batch top-k, AuxK).
//
// Legend: B = rows in the batch, D = a row width (inputSize), H = hiddenSize.
// A sparse B × H matrix S is first listed row by row (`SparseRows`, as the selection finds
// its entries), then regrouped latent by latent (`SparseColumns`): the entries of latent j are
// e in starts[j]..<starts[j + 1], each with its batch row `rows[e]` and value `values[e]`,
// in increasing row order. W is a dense H × D matrix (W_dec, or W_enc transposed) and M a
// dense B × D one (the decoder's output gradient, or the encoder's input).
//
// With k entries per row each product costs B·k·D multiply-adds instead of the dense B·H·D.
// S·W runs row by row; the products that produce or read a row of W per latent (Sᵀ·M, and
// the entries of M·Wᵀ) run latent by latent, so each row of W is touched once per batch while
// the rows of M stay in cache, and four entries share each pass. Every sum runs in a fixed
// order, so results do not depend on thread count or timing; nothing here allocates.

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

/// The entries of a sparse `B × H` matrix, latent by latent, over owned buffers.
struct SparseColumns {
    /// `H + 1` offsets into `rows` and `values`.
    let starts: UnsafeMutablePointer<Int>
    /// The batch row of each entry.
    let rows: UnsafeMutablePointer<Int32>
    /// The value of each entry.
    let values: UnsafeMutablePointer<Float>
    /// `H` insertion cursors for ``fill(from:rows:)``.
    private let cursors: UnsafeMutablePointer<Int>
    let hiddenSize: Int

    static func allocate(hiddenSize: Int, capacity: Int) -> SparseColumns {
        let columns = SparseColumns(
            starts: .allocate(capacity: hiddenSize + 1), rows: .allocate(capacity: max(capacity, 1)),
            values: .allocate(capacity: max(capacity, 1)),
            cursors: .allocate(capacity: hiddenSize), hiddenSize: hiddenSize)
        columns.starts.initialize(repeating: 0, count: hiddenSize + 1)
        columns.rows.initialize(repeating: 0, count: max(capacity, 1))
        columns.values.initialize(repeating: 0, count: max(capacity, 1))
        columns.cursors.initialize(repeating: 0, count: hiddenSize)
        return columns
    }

    func deallocate() {
        starts.deallocate()
        rows.deallocate()
        values.deallocate()
        cursors.deallocate()
    }

    /// The number of entries.
    var count: Int { starts[hiddenSize] }

    /// Regroups the first `rows` rows of `sparse` by latent (a stable counting sort).
    func fill(from sparse: SparseRows, rows batchRows: Int) {
        starts.update(repeating: 0, count: hiddenSize + 1)
        let count = sparse.count(rows: batchRows)
        for e in 0..<count {
            starts[Int(sparse.columns[e]) + 1] += 1
        }
        for j in 0..<hiddenSize {
            starts[j + 1] += starts[j]
            cursors[j] = starts[j]
        }
        for r in 0..<batchRows {
            for e in sparse.starts[r]..<sparse.starts[r + 1] {
                let j = Int(sparse.columns[e])
                let slot = cursors[j]
                cursors[j] = slot + 1
                rows[slot] = Int32(r)
                values[slot] = sparse.values[e]
            }
        }
    }
}

enum SparseProducts {
    /// `out += S · W`: `out[r] += Σ_j S[r, j] · W[j]` (`B × D`), from the row-by-row listing.
    ///
    /// Row by row, four rows of W per pass over `out[r]`; cores split the batch rows. (Grouping
    /// by latent would read W once but load and store `out` once per entry, which is slower.)
    static func multiply(
        _ sparse: SparseRows,
        rows: Int,
        by w: UnsafePointer<Float>,
        width: Int,
        addingInto out: UnsafeMutablePointer<Float>
    ) {
        ProductClock.timing {
            multiplyRows(sparse, rows: rows, by: w, width: width, addingInto: out)
        }
    }

    private static func multiplyRows(
        _ sparse: SparseRows,
        rows: Int,
        by w: UnsafePointer<Float>,
        width: Int,
        addingInto out: UnsafeMutablePointer<Float>
    ) {
        let work = max(sparse.count(rows: rows) * width, 1)
        let minimumRows = max(1, rows * (1 << 18) / work)
        Parallel.forEachChunk(of: rows, minimumChunk: minimumRows) { chunk in
            for r in chunk {
                let target = out + r * width
                var e = sparse.starts[r]
                let end = sparse.starts[r + 1]
                while e + 4 <= end {
                    let a = (sparse.values[e], sparse.values[e + 1], sparse.values[e + 2],
                             sparse.values[e + 3])
                    addFour(
                        a, w + Int(sparse.columns[e]) * width,
                        w + Int(sparse.columns[e + 1]) * width,
                        w + Int(sparse.columns[e + 2]) * width,
                        w + Int(sparse.columns[e + 3]) * width, into: target, count: width)
                    e += 4
                }
                while e < end {
                    axpy(sparse.values[e], w + Int(sparse.columns[e]) * width, into: target,
                         count: width)
                    e += 1
                }
            }
        }
    }

    /// `gradients[e] = M[r] · W[j]` for each entry `(r, j)` of `pattern`: the entries of
    /// `M · Wᵀ` (`B × H`) the pattern names, in the pattern's order.
    static func maskedProduct(
        _ m: UnsafePointer<Float>,
        transposing w: UnsafePointer<Float>,
        width: Int,
        pattern s: SparseColumns,
        into gradients: UnsafeMutablePointer<Float>
    ) {
        ProductClock.timing {
            maskedDots(m, transposing: w, width: width, pattern: s, into: gradients)
        }
    }

    private static func maskedDots(
        _ m: UnsafePointer<Float>,
        transposing w: UnsafePointer<Float>,
        width: Int,
        pattern s: SparseColumns,
        into gradients: UnsafeMutablePointer<Float>
    ) {
        forEachLatentChunk(s, width: width) { latents in
            for j in latents {
                let row = w + j * width
                var e = s.starts[j]
                let end = s.starts[j + 1]
                // Four dot products per pass share the loads of W[j].
                while e + 4 <= end {
                    let results = dotFour(
                        row, m + Int(s.rows[e]) * width, m + Int(s.rows[e + 1]) * width,
                        m + Int(s.rows[e + 2]) * width, m + Int(s.rows[e + 3]) * width,
                        count: width)
                    (gradients[e], gradients[e + 1]) = (results.0, results.1)
                    (gradients[e + 2], gradients[e + 3]) = (results.2, results.3)
                    e += 4
                }
                while e < end {
                    gradients[e] = dot(row, m + Int(s.rows[e]) * width, count: width)
                    e += 1
                }
            }
        }
    }

    /// `W[j] = Σ_e weights[e] · M[r]` over latent j's entries (`Sᵀ · M`, `H × D`), or added to
    /// `W[j]` when `isAccumulating`. A latent with no entry gets a zero row (or keeps its row).
    static func transposedProduct(
        pattern s: SparseColumns,
        weights: UnsafePointer<Float>,
        times m: UnsafePointer<Float>,
        width: Int,
        into w: UnsafeMutablePointer<Float>,
        isAccumulating: Bool
    ) {
        ProductClock.timing {
            sumLatentRows(
                pattern: s, weights: weights, times: m, width: width, into: w,
                isAccumulating: isAccumulating)
        }
    }

    private static func sumLatentRows(
        pattern s: SparseColumns,
        weights: UnsafePointer<Float>,
        times m: UnsafePointer<Float>,
        width: Int,
        into w: UnsafeMutablePointer<Float>,
        isAccumulating: Bool
    ) {
        forEachLatentChunk(s, width: width) { latents in
            for j in latents {
                let target = w + j * width
                if !isAccumulating { target.update(repeating: 0, count: width) }
                var e = s.starts[j]
                let end = s.starts[j + 1]
                // Four rows of M per pass over W[j]: a quarter of its loads and stores.
                while e + 4 <= end {
                    let a = (weights[e], weights[e + 1], weights[e + 2], weights[e + 3])
                    addFour(
                        a, m + Int(s.rows[e]) * width, m + Int(s.rows[e + 1]) * width,
                        m + Int(s.rows[e + 2]) * width, m + Int(s.rows[e + 3]) * width,
                        into: target, count: width)
                    e += 4
                }
                while e < end {
                    axpy(weights[e], m + Int(s.rows[e]) * width, into: target, count: width)
                    e += 1
                }
            }
        }
    }

    /// `sums[j] = Σ_e weights[e]` over latent j's entries (the column sums of the sparse
    /// matrix), or added to `sums[j]` when `isAccumulating`.
    static func columnSums(
        _ s: SparseColumns,
        weights: UnsafePointer<Float>,
        into sums: UnsafeMutablePointer<Float>,
        isAccumulating: Bool
    ) {
        for j in 0..<s.hiddenSize {
            var sum: Float = isAccumulating ? sums[j] : 0
            for e in s.starts[j]..<s.starts[j + 1] {
                sum += weights[e]
            }
            sums[j] = sum
        }
    }

    // MARK: - Splitting the work

    /// Runs `body` over chunks of latents, several per thread so that latents with many
    /// entries do not leave a core idle.
    private static func forEachLatentChunk(
        _ s: SparseColumns,
        width: Int,
        _ body: (Range<Int>) -> Void
    ) {
        let hidden = s.hiddenSize
        guard s.count * width >= 1 << 18, hidden >= 16 else {
            body(0..<hidden)
            return
        }
        let chunks = min(hidden / 8, 8 * min(BLAS.threadCount, 8))
        let perChunk = (hidden + chunks - 1) / chunks
        Parallel.forEachChunk(of: chunks, minimumChunk: 1) { range in
            for chunk in range {
                let start = chunk * perChunk
                if start < hidden { body(start..<min(start + perChunk, hidden)) }
            }
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

    /// `x · y` over `count` floats: eight lane sums, then added pairwise, then the tail.
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

    /// `x · y0 … x · y3`, each summed exactly as ``dot(_:_:count:)`` sums it.
    @inline(__always)
    private static func dotFour(
        _ x: UnsafePointer<Float>,
        _ y0: UnsafePointer<Float>, _ y1: UnsafePointer<Float>,
        _ y2: UnsafePointer<Float>, _ y3: UnsafePointer<Float>,
        count: Int
    ) -> (Float, Float, Float, Float) {
        var (l0, l1, l2, l3) = (Lanes(), Lanes(), Lanes(), Lanes())
        var i = 0
        while i + 8 <= count {
            let v = Lanes.load(x + i, count: 8)
            l0 += v * Lanes.load(y0 + i, count: 8)
            l1 += v * Lanes.load(y1 + i, count: 8)
            l2 += v * Lanes.load(y2 + i, count: 8)
            l3 += v * Lanes.load(y3 + i, count: 8)
            i += 8
        }
        var sums = (l0.sum(ofFirst: 8), l1.sum(ofFirst: 8), l2.sum(ofFirst: 8), l3.sum(ofFirst: 8))
        while i < count {
            sums.0 += x[i] * y0[i]
            sums.1 += x[i] * y1[i]
            sums.2 += x[i] * y2[i]
            sums.3 += x[i] * y3[i]
            i += 1
        }
        return sums
    }
}
