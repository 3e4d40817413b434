import COpenBLAS
import Synchronization

/// Single-precision matrix products for saed, all row-major.
///
/// Every product in training and inference goes through `gemm`, a thin layer over OpenBLAS
/// `cblas_sgemm` (a one-row product is summed in place, giving the floats `sgemm` gives).
/// `referenceGemm` computes the same thing with three plain loops; it is slow and exists so
/// tests have an independent answer to compare against.
///
/// Shapes follow the BLAS convention: `op(A)` is `m × k`, `op(B)` is `k × n` and `C` is `m × n`,
/// where `op(X)` is `X` or its transpose. Matrices are dense, so the leading dimensions are the
/// stored row lengths: `A` is stored `m × k` (or `k × m` when transposed), `B` is stored `k × n`
/// (or `n × k`), and `C` is stored `m × n`.
package enum BLAS {
    /// Computes `C = alpha · op(A) · op(B) + beta · C` with OpenBLAS.
    ///
    /// From ``splitMinimum`` multiply-adds the product is cut in two parts of `C` computed on
    /// two cores, unless ``threadCount`` is above two. With `beta == 0`, `C` is write-only and
    /// may hold garbage (even NaN) on entry. Allocates nothing, but for a one-time check of each
    /// one-row shape. Sizes must be non-negative and fit in `Int32`.
    package static func gemm(
        transposeA: Bool,
        transposeB: Bool,
        m: Int,
        n: Int,
        k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>,
        b: UnsafePointer<Float>,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>
    ) {
        ProductClock.timing {
            untimedGemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                a: a, b: b, beta: beta, c: c)
        }
    }

    /// ``gemm(transposeA:transposeB:m:n:k:alpha:a:b:beta:c:)`` without the clock.
    private static func untimedGemm(
        transposeA: Bool,
        transposeB: Bool,
        m: Int,
        n: Int,
        k: Int,
        alpha: Float,
        a: UnsafePointer<Float>,
        b: UnsafePointer<Float>,
        beta: Float,
        c: UnsafeMutablePointer<Float>
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative gemm size \(m)×\(n)×\(k)")
        precondition(max(m, n, k) <= Int(Int32.max), "gemm size \(m)×\(n)×\(k) overflows Int32")
        if m == 0 || n == 0 { return }
        // Read before any OpenBLAS call: its first read sets OpenBLAS's own threading.
        let threadCount = Self.threads.load(ordering: .relaxed)
        let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
        // One row: the same floats without sgemm's packing of B (see `addOneRowProduct`).
        if m == 1 && !transposeA && !transposeB && alpha == 1 && beta == 1
            && Self.addOneRowProduct(k: k, n: n, a: a, b: b, c: c)
        {
            return
        }
        // Up to two threads the cut depends on the sizes alone, so the floats do not depend on
        // the thread count.
        guard threadCount <= 2, Double(m) * Double(n) * Double(k) >= Self.splitMinimum,
            max(m, n) >= 2 * Self.splitAlignment
        else {
            Self.sgemm(
                transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: n)
            return
        }
        // Two parts of C, one per core: this saves the hand-offs OpenBLAS's threads make per
        // product and lets either thread take the other's part when that one has no core.
        let isSplittingRows = Self.splitsRows(m: m, n: n)
        let isFlushing = isFlushingSubnormals
        SplitWorker.run(parts: 2) { part in
            let range = SplitWorker.range(
                of: part, in: 2, covering: isSplittingRows ? m : n, alignment: Self.splitAlignment)
            guard !range.isEmpty else { return }
            let first = range.lowerBound
            // Each part in the caller's floating-point mode, whichever thread runs it.
            withSubnormals(flushed: isFlushing) {
                if isSplittingRows {
                    Self.sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: range.count, n: n,
                        k: k, alpha: alpha, a: transposeA ? a + first : a + first * k, lda: lda,
                        b: b, ldb: ldb, beta: beta, c: c + first * n, ldc: n)
                } else {
                    Self.sgemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: range.count,
                        k: k, alpha: alpha, a: a, lda: lda,
                        b: transposeB ? b + first * k : b + first, ldb: ldb, beta: beta,
                        c: c + first, ldc: n)
                }
            }
        }
    }

    /// Whether a product cut in two is cut between rows of `C` (else between columns).
    ///
    /// Each part packs the whole of the operand it shares: `B` (`k × n`) when the rows are
    /// cut, `A` (`m × k`) when the columns are. The cut is made so that the smaller one is
    /// packed twice: between columns when `n ≥ m` (at batch 64 and 256, all but the weight
    /// gradients of 784 → 1024).
    package static func splitsRows(m: Int, n: Int) -> Bool {
        m >= 2 * splitAlignment && (n < m || n < 2 * splitAlignment)
    }

    /// The fewest multiply-adds (`m·n·k`) for which a product is split across two cores:
    /// OpenBLAS's own threshold for threading one.
    static let splitMinimum = 262_144.0

    /// Parts of a split product start on multiples of 16 rows or columns: whole 64-byte lines
    /// of `C`, and whole tiles of OpenBLAS's kernels.
    static let splitAlignment = 16

    /// One single-threaded `cblas_sgemm` call on (part of) the operands.
    private static func sgemm(
        transposeA: Bool,
        transposeB: Bool,
        m: Int,
        n: Int,
        k: Int,
        alpha: Float,
        a: UnsafePointer<Float>,
        lda: Int,
        b: UnsafePointer<Float>,
        ldb: Int,
        beta: Float,
        c: UnsafeMutablePointer<Float>,
        ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(max(lda, 1)), b, Int32(max(ldb, 1)),
            beta, c, Int32(max(ldc, 1))
        )
    }

    /// Computes `C = alpha · op(A) · op(B) + beta · C` with three loops in `Double`.
    ///
    /// The reference for `gemm`: same arguments, same layout, no BLAS. As there, `beta == 0`
    /// ignores `C`'s old contents.
    package static func referenceGemm(
        transposeA: Bool,
        transposeB: Bool,
        m: Int,
        n: Int,
        k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>,
        b: UnsafePointer<Float>,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "negative gemm size \(m)×\(n)×\(k)")
        for row in 0..<m {
            for column in 0..<n {
                var sum = 0.0
                for inner in 0..<k {
                    let aValue = transposeA ? a[inner * m + row] : a[row * k + inner]
                    let bValue = transposeB ? b[column * k + inner] : b[inner * n + column]
                    sum += Double(aValue) * Double(bValue)
                }
                let scaled = Float(Double(alpha) * sum)
                c[row * n + column] = beta == 0 ? scaled : scaled + beta * c[row * n + column]
            }
        }
    }

    /// The number of cores one product, or one of saed's element-wise passes, is spread over.
    ///
    /// Process-wide. Starts at OpenBLAS's own thread count (`OPENBLAS_NUM_THREADS`, else one
    /// per core); setting it affects every later call from any thread. Up to two, OpenBLAS
    /// itself is kept to one thread: `gemm` cuts a large product in two parts of `C` and runs
    /// them on the calling thread and the ``SplitWorker``. Each part is the same call whichever
    /// thread makes it, and with one thread the parts run in turn, so the floats do not depend
    /// on the thread count or on scheduling. From three, OpenBLAS threads each product itself
    /// across all of them, as the one worker thread could not.
    package static var threadCount: Int {
        get { threads.load(ordering: .relaxed) }
        set {
            precondition(newValue >= 1, "saed needs at least one thread, not \(newValue)")
            threads.store(newValue, ordering: .relaxed)
            openblas_set_num_threads(Int32(newValue > 2 ? newValue : 1))
        }
    }

    /// See ``threadCount``; reading it first sets OpenBLAS's own threading.
    private static let threads = Atomic<Int>(Self.takeOverThreads())

    /// Returns OpenBLAS's thread count, and sets it to one when it is two or less.
    private static func takeOverThreads() -> Int {
        let count = max(Int(openblas_get_num_threads()), 1)
        if count <= 2 { openblas_set_num_threads(1) }
        return count
    }
}

// MARK: - Array conveniences

extension BLAS {
    /// Returns `op(A) · op(B)` as a new `m × n` row-major array, computed by OpenBLAS.
    ///
    /// For code off the hot path (inference, tests). `a` and `b` must hold exactly
    /// `m × k` and `k × n` values.
    package static func product(
        _ a: [Float],
        _ b: [Float],
        m: Int,
        n: Int,
        k: Int,
        transposeA: Bool = false,
        transposeB: Bool = false
    ) -> [Float] {
        precondition(a.count == m * k, "A has \(a.count) values, not \(m)×\(k)")
        precondition(b.count == k * n, "B has \(b.count) values, not \(k)×\(n)")
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    guard let aBase = a.baseAddress, let bBase = b.baseAddress,
                        let cBase = c.baseAddress
                    else { return }  // an empty operand leaves the zero-filled result
                    gemm(
                        transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                        a: aBase, b: bBase, c: cBase)
                }
            }
        }
        return c
    }
}
