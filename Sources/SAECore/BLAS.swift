import COpenBLAS

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
    /// With `beta == 0`, `C` is write-only and may hold garbage (even NaN) on entry.
    /// Allocates nothing, but for a one-time check of each one-row shape. Sizes must be
    /// non-negative and fit in `Int32`.
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
        // One row: the same floats without sgemm's packing of B (see `addOneRowProduct`).
        if m == 1 && !transposeA && !transposeB && alpha == 1 && beta == 1
            && Self.addOneRowProduct(k: k, n: n, a: a, b: b, c: c)
        {
            return
        }
        let lda = transposeA ? m : k
        let ldb = transposeB ? k : n
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k),
            alpha, a, Int32(max(lda, 1)), b, Int32(max(ldb, 1)),
            beta, c, Int32(n)
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

    /// The number of threads OpenBLAS uses for one product.
    ///
    /// Process-wide. OpenBLAS reads `OPENBLAS_NUM_THREADS` at start-up; setting this property
    /// overrides it for every later call from any thread.
    package static var threadCount: Int {
        get { Int(openblas_get_num_threads()) }
        set {
            precondition(newValue >= 1, "OpenBLAS needs at least one thread, not \(newValue)")
            openblas_set_num_threads(Int32(newValue))
        }
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
