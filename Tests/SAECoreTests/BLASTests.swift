import Dispatch
import SAECore
import Testing

/// OpenBLAS `gemm` against the three-loop reference, for every transpose combination.
///
/// Tolerance: 1e-5 · (1 + |expected|) per element. The reference accumulates in `Double`;
/// OpenBLAS accumulates k = 37 products in `Float`, so its error stays near 1e-6.
struct BLASTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        var transposeA: Bool
        var transposeB: Bool
        var m: Int
        var n: Int
        var k: Int
        var alpha: Float
        var beta: Float

        var testDescription: String {
            "\(transposeA ? "T" : "N")\(transposeB ? "T" : "N") \(m)×\(n)×\(k) "
                + "α=\(alpha) β=\(beta)"
        }
    }

    static let shapes: [Shape] = [
        Shape(transposeA: false, transposeB: false, m: 13, n: 9, k: 37, alpha: 1, beta: 0),
        Shape(transposeA: true, transposeB: false, m: 13, n: 9, k: 37, alpha: 1, beta: 0),
        Shape(transposeA: false, transposeB: true, m: 13, n: 9, k: 37, alpha: 1, beta: 0),
        Shape(transposeA: true, transposeB: true, m: 13, n: 9, k: 37, alpha: 1, beta: 0),
        Shape(transposeA: false, transposeB: false, m: 1, n: 1, k: 1, alpha: 1, beta: 0),
        Shape(transposeA: false, transposeB: false, m: 64, n: 32, k: 20, alpha: 0.5, beta: 1),
        Shape(transposeA: true, transposeB: false, m: 20, n: 12, k: 64, alpha: -2, beta: 0.25),
        // Large enough to be cut in two: by rows (the second part shorter), then by columns.
        Shape(transposeA: false, transposeB: true, m: 70, n: 130, k: 40, alpha: 1, beta: 1),
        Shape(transposeA: true, transposeB: false, m: 70, n: 130, k: 40, alpha: 1, beta: 0),
        Shape(transposeA: false, transposeB: false, m: 20, n: 200, k: 80, alpha: 1, beta: 0.5),
        Shape(transposeA: true, transposeB: true, m: 20, n: 200, k: 80, alpha: -1, beta: 0),
    ]

    @Test(arguments: shapes)
    func gemmMatchesReferenceMatmul(_ shape: Shape) {
        var generator = SeededGenerator(seed: 7)
        let a = (0..<shape.m * shape.k).map { _ in generator.nextUnitFloat() * 2 - 1 }
        let b = (0..<shape.k * shape.n).map { _ in generator.nextUnitFloat() * 2 - 1 }
        let start = (0..<shape.m * shape.n).map { _ in generator.nextUnitFloat() }
        var fast = start
        var slow = start

        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                fast.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(
                        transposeA: shape.transposeA, transposeB: shape.transposeB,
                        m: shape.m, n: shape.n, k: shape.k, alpha: shape.alpha,
                        a: a.baseAddress!, b: b.baseAddress!, beta: shape.beta, c: c.baseAddress!)
                }
                slow.withUnsafeMutableBufferPointer { c in
                    BLAS.referenceGemm(
                        transposeA: shape.transposeA, transposeB: shape.transposeB,
                        m: shape.m, n: shape.n, k: shape.k, alpha: shape.alpha,
                        a: a.baseAddress!, b: b.baseAddress!, beta: shape.beta, c: c.baseAddress!)
                }
            }
        }

        let worst = zip(fast, slow).map { abs($0 - $1) }.max() ?? 0
        print("\(shape.testDescription): largest difference \(worst)")
        for (got, expected) in zip(fast, slow) {
            #expect(abs(got - expected) <= 1e-5 * (1 + abs(expected)))
        }
    }

    /// A one-row product (summed in place, without sgemm) gives the very floats of the same
    /// row in a two-row product (which sgemm computes), for encoder and decoder shapes and
    /// for shapes with column and block remainders.
    @Test(arguments: [(784, 128), (128, 784), (37, 9), (700, 5), (1000, 40), (641, 33)])
    func oneRowMatchesSgemmBitForBit(_ k: Int, _ n: Int) {
        var generator = SeededGenerator(seed: 11)
        let row = (0..<k).map { _ in generator.nextUnitFloat() * 2 - 1 }
        let b = (0..<k * n).map { _ in generator.nextUnitFloat() - 0.5 }
        let start = (0..<n).map { _ in generator.nextUnitFloat() }
        var one = start
        var two = start + start
        let a = row + row
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                one.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(
                        transposeA: false, transposeB: false, m: 1, n: n, k: k,
                        a: a.baseAddress!, b: b.baseAddress!, beta: 1, c: c.baseAddress!)
                }
                two.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(
                        transposeA: false, transposeB: false, m: 2, n: n, k: k,
                        a: a.baseAddress!, b: b.baseAddress!, beta: 1, c: c.baseAddress!)
                }
            }
        }
        #expect(one.map(\.bitPattern) == two[..<n].map(\.bitPattern))
        #expect(one.map(\.bitPattern) == two[n...].map(\.bitPattern))
        #expect(one != start, "the product was added")
    }

    /// The inner dimension is cut as OpenBLAS's level-3 driver cuts it: full blocks while
    /// two remain, then the rest halved and rounded up to the unroll.
    @Test func oneRowBlocksFollowOpenBLAS() {
        func blocks(_ k: Int) -> [Int] {
            var (remaining, lengths) = (k, [Int]())
            while remaining > 0 {
                lengths.append(BLAS.oneRowBlockLength(remaining: remaining))
                remaining -= lengths.last!
            }
            return lengths
        }
        #expect(blocks(784) == [320, 232, 232])
        #expect(blocks(128) == [128])
        #expect(blocks(640) == [320, 320])
        #expect(blocks(641) == [320, 160, 161])
        #expect(blocks(1000) == [320, 320, 184, 176])
    }

    /// Products cut in two give the same floats whether the worker thread takes a part or
    /// the caller runs both (as it does while another caller holds the worker), and OpenBLAS
    /// called from several threads at once gives each the floats of a lone call.
    @Test func splitProductsAreTheSameFromConcurrentCallers() {
        let (m, n, k) = (96, 784, 64)
        var generator = SeededGenerator(seed: 5)
        let a = (0..<k * m).map { _ in generator.nextUnitFloat() - 0.5 }
        let b = (0..<k * n).map { _ in generator.nextUnitFloat() - 0.5 }
        let product: @Sendable (UnsafeMutablePointer<Float>) -> Void = { c in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    BLAS.gemm(
                        transposeA: true, transposeB: false, m: m, n: n, k: k,
                        a: a.baseAddress!, b: b.baseAddress!, c: c)
                }
            }
        }
        var alone = [Float](repeating: 0, count: m * n)
        alone.withUnsafeMutableBufferPointer { product($0.baseAddress!) }

        let callers = 4
        // Each caller writes its own m × n block.
        nonisolated(unsafe) let results = UnsafeMutablePointer<Float>.allocate(
            capacity: callers * m * n)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for _ in 0..<50 { product(results + caller * m * n) }
        }
        for caller in 0..<callers {
            let got = UnsafeBufferPointer(start: results + caller * m * n, count: m * n)
            #expect(got.map(\.bitPattern) == alone.map(\.bitPattern), "caller \(caller)")
        }
    }

    @Test func betaZeroIgnoresNaNInOutput() {
        let a: [Float] = [1, 2, 3, 4]  // 2 × 2
        let b: [Float] = [1, 0, 0, 1]  // identity
        var c = [Float](repeating: .nan, count: 4)
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(
                        transposeA: false, transposeB: false, m: 2, n: 2, k: 2,
                        a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                }
            }
        }
        #expect(c == [1, 2, 3, 4])
    }

    @Test func productOfArraysHandlesTransposes() {
        // A is 2 × 3; Aᵀ·A is 3 × 3.
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let gram = BLAS.product(a, a, m: 3, n: 3, k: 2, transposeA: true)
        #expect(gram == [17, 22, 27, 22, 29, 36, 27, 36, 45])
        let outer = BLAS.product(a, a, m: 2, n: 2, k: 3, transposeB: true)
        #expect(outer == [14, 32, 32, 77])
    }
}
