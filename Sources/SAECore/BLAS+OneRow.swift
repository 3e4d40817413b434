import COpenBLAS
import Synchronization

/// One row times a matrix, `c += a · B`, for the one-row encode and decode requests the HTTP
/// routes answer most often, with the very floats `cblas_sgemm` gives.
///
/// For one row, `sgemm` spends more time copying `B` into its packed panel layout (all of a
/// 784 × 128 encoder, 400 KB, per call) than multiplying; here `B` is read once, in place.
/// The arithmetic is OpenBLAS's own: `k` is cut into the blocks its level-3 driver uses
/// (`blockLength`), each block is summed from zero with one fused multiply-add per term in
/// order, and each block's sum is added to `c` in turn. The blocking depends on the kernel
/// OpenBLAS picked for the CPU, so each shape is first checked against `sgemm` on made-up
/// values (`reproducesOpenBLAS`); a shape that gives other floats keeps using `sgemm`.
extension BLAS {
    /// OpenBLAS's `GEMM_Q`: the longest block of the inner dimension summed in one pass.
    static let oneRowBlock = 320
    /// OpenBLAS's `GEMM_UNROLL_M`, to which a halved remainder is rounded up.
    static let oneRowUnroll = 8

    /// Shapes (`k`, `n`) already checked, and whether the one-row path gave `sgemm`'s floats.
    private static let checkedShapes = Mutex([OneRowShape: Bool]())

    private struct OneRowShape: Hashable {
        let k: Int
        let n: Int
    }

    /// `c += a · B` for `a` of `k` values and `B` stored `k × n`, when this gives the floats
    /// `sgemm` would; false, with `c` untouched, when `sgemm` must compute it.
    static func addOneRowProduct(
        k: Int, n: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>
    ) -> Bool {
        guard k > 0, n > 0, Self.reproducesOpenBLAS(k: k, n: n) else { return false }
        Self.oneRowProduct(k: k, n: n, a: a, b: b, c: c)
        return true
    }

    /// Whether the one-row path gives `sgemm`'s floats for this shape; checked once per shape
    /// on seeded values.
    private static func reproducesOpenBLAS(k: Int, n: Int) -> Bool {
        let shape = OneRowShape(k: k, n: n)
        if let known = Self.checkedShapes.withLock({ $0[shape] }) { return known }
        var generator = SeededGenerator(seed: 0x0AE)
        let random = { (count: Int) in (0..<count).map { _ in generator.nextUnitFloat() * 2 - 1 } }
        let (a, b, start) = (random(k), random(k * n), random(n))
        var expected = start
        var actual = start
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                // safe: k and n are positive, so no buffer is empty
                expected.withUnsafeMutableBufferPointer { c in
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, Int32(n), Int32(k), 1,
                        a.baseAddress!, Int32(k), b.baseAddress!, Int32(n), 1, c.baseAddress!,
                        Int32(n))
                }
                actual.withUnsafeMutableBufferPointer { c in
                    Self.oneRowProduct(k: k, n: n, a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                }
            }
        }
        let matches = expected.map(\.bitPattern) == actual.map(\.bitPattern)
        Self.checkedShapes.withLock { $0[shape] = matches }
        return matches
    }

    /// How much of the `remaining` inner dimension OpenBLAS's level-3 driver sums next: a full
    /// block while two or more remain, half of what remains (rounded up to the unroll) while
    /// more than one does, else the rest.
    package static func oneRowBlockLength(remaining: Int) -> Int {
        let (block, unroll) = (Self.oneRowBlock, Self.oneRowUnroll)
        if remaining >= 2 * block { return block }
        if remaining > block { return (remaining / 2 + unroll - 1) / unroll * unroll }
        return remaining
    }

    /// `c += a · B` block by block, as described on the extension.
    private static func oneRowProduct(
        k: Int, n: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>
    ) {
        var start = 0
        while start < k {
            let length = Self.oneRowBlockLength(remaining: k - start)
            Self.addBlock(length: length, n: n, a: a + start, b: b + start * n, c: c)
            start += length
        }
    }

    /// Adds `Σ a[i]·B[i, j]` over the block's `length` rows to each `c[j]`, the sum taken from
    /// zero in row order with fused multiply-adds. Columns go 64, 32, then 8, then 1 at a time;
    /// the vector lanes do exactly what the one-column loop does.
    ///
    /// Eight independent sums (64 columns) keep the multiply-add unit busy while each sum
    /// waits on its previous step; four leave it idle part of the time.
    private static func addBlock(
        length: Int, n: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        c: UnsafeMutablePointer<Float>
    ) {
        let rows = UnsafeRawPointer(b)
        let stride = n * MemoryLayout<Float>.stride
        let sums = UnsafeMutableRawPointer(c)
        var column = 0
        while column + 64 <= n {
            var low = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var high = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var row = rows + column * MemoryLayout<Float>.stride
            for i in 0..<length {
                let x = SIMD8<Float>(repeating: a[i])
                func term(_ offset: Int) -> SIMD8<Float> {
                    row.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                }
                low.0 = low.0.addingProduct(x, term(0))
                low.1 = low.1.addingProduct(x, term(32))
                low.2 = low.2.addingProduct(x, term(64))
                low.3 = low.3.addingProduct(x, term(96))
                high.0 = high.0.addingProduct(x, term(128))
                high.1 = high.1.addingProduct(x, term(160))
                high.2 = high.2.addingProduct(x, term(192))
                high.3 = high.3.addingProduct(x, term(224))
                row += stride
            }
            let out = sums + column * MemoryLayout<Float>.stride
            func add(_ sum: SIMD8<Float>, at offset: Int) {
                let total = out.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) + sum
                out.storeBytes(of: total, toByteOffset: offset, as: SIMD8<Float>.self)
            }
            add(low.0, at: 0)
            add(low.1, at: 32)
            add(low.2, at: 64)
            add(low.3, at: 96)
            add(high.0, at: 128)
            add(high.1, at: 160)
            add(high.2, at: 192)
            add(high.3, at: 224)
            column += 64
        }
        while column + 32 <= n {
            var (s0, s1, s2, s3) = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var row = rows + column * MemoryLayout<Float>.stride
            for i in 0..<length {
                let x = SIMD8<Float>(repeating: a[i])
                s0 = s0.addingProduct(x, row.loadUnaligned(as: SIMD8<Float>.self))
                s1 = s1.addingProduct(x, row.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
                s2 = s2.addingProduct(x, row.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
                s3 = s3.addingProduct(x, row.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
                row += stride
            }
            let out = sums + column * MemoryLayout<Float>.stride
            func add(_ sum: SIMD8<Float>, at offset: Int) {
                let total = out.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self) + sum
                out.storeBytes(of: total, toByteOffset: offset, as: SIMD8<Float>.self)
            }
            add(s0, at: 0)
            add(s1, at: 32)
            add(s2, at: 64)
            add(s3, at: 96)
            column += 32
        }
        while column + 8 <= n {
            var sum = SIMD8<Float>()
            var row = rows + column * MemoryLayout<Float>.stride
            for i in 0..<length {
                sum = sum.addingProduct(SIMD8<Float>(repeating: a[i]), row.loadUnaligned(as: SIMD8<Float>.self))
                row += stride
            }
            let out = sums + column * MemoryLayout<Float>.stride
            out.storeBytes(of: out.loadUnaligned(as: SIMD8<Float>.self) + sum, as: SIMD8<Float>.self)
            column += 8
        }
        while column < n {
            var sum: Float = 0
            for i in 0..<length { sum = sum.addingProduct(a[i], b[i * n + column]) }
            c[column] += sum
            column += 1
        }
    }
}
