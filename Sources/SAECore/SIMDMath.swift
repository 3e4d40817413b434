// Eight-lane exp, sigmoid and log1p for the element-wise kernels.
//
// glibc's expf and log1pf are accurate but scalar: on a 784-wide BCE decoder they cost more
// than all five matrix products of a training step. These versions work on `SIMD8<Float>` so
// each call covers eight elements, with errors of a few ulp (measured in SIMDMathTests).
// Every lane gets the same operations, so a value's result never depends on its position.

/// Eight floats, the unit every element-wise kernel here works in.
package typealias Lanes = SIMD8<Float>

extension SIMD8 where Scalar == Float {
    /// Loads `count` (1...8) floats from `pointer`, filling the remaining lanes with zero.
    @inline(__always)
    package static func load(_ pointer: UnsafePointer<Float>, count: Int) -> Self {
        if count == 8 { return UnsafeRawPointer(pointer).loadUnaligned(as: Self.self) }
        var lanes = Self()
        for lane in 0..<count { lanes[lane] = pointer[lane] }
        return lanes
    }

    /// Stores the first `count` (1...8) lanes at `pointer`.
    @inline(__always)
    package func store(to pointer: UnsafeMutablePointer<Float>, count: Int) {
        if count == 8 {
            UnsafeMutableRawPointer(pointer).storeBytes(of: self, as: Self.self)
            return
        }
        for lane in 0..<count { pointer[lane] = self[lane] }
    }

    /// The sum of the first `count` lanes, added in a fixed pairwise order.
    @inline(__always)
    package func sum(ofFirst count: Int) -> Float {
        var lanes = self
        if count < 8 {
            for lane in count..<8 { lanes[lane] = 0 }
        }
        let four = lanes.lowHalf + lanes.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }
}

/// Vectorised elementary functions for the training kernels.
package enum SIMDMath {
    /// `exp(x)` lane by lane, within about 2 ulp for results above 1e-37.
    ///
    /// Range reduction `x = n·ln 2 + r` with `|r| ≤ ln 2 / 2`, `ln 2` split in two parts so
    /// `n·ln 2` loses nothing, then the degree-7 Taylor polynomial of `e^r` (truncation error
    /// below 6e-9) and a scale by `2^n` built in the exponent bits. Inputs are clamped to
    /// [−87, 88], so results stay normal and finite; NaN stays NaN.
    @inline(__always)
    package static func exp(_ x: Lanes) -> Lanes {
        let clamped = x.replacing(with: -87, where: x .< -87).replacing(with: 88, where: x .> 88)

        // n = round(x / ln 2): adding 1.5·2^23 leaves n in the low mantissa bits.
        let roundingShift: Float = 12_582_912
        let shifted = clamped * 1.442_695_04 + roundingShift
        let n = shifted - roundingShift
        let lnTwoHigh: Float = 0.693_359_375  // 355/512: n·lnTwoHigh is exact for |n| < 2^14
        let lnTwoLow: Float = -2.121_944_4e-4  // ln 2 − 355/512
        let r = (clamped - n * lnTwoHigh) - n * lnTwoLow

        var p = Lanes(repeating: 1 / 5040)
        p = p * r + 1 / 720
        p = p * r + 1 / 120
        p = p * r + 1 / 24
        p = p * r + 1 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1

        // 2^n: n + 127 in the exponent field; n sits in the low bits of `shifted`.
        let nBits = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((nBits &+ 127) &<< 23, to: Lanes.self)
        return p * scale
    }

    /// `log(1 + e)` for `e` in [0, 1], lane by lane, with relative error near 1 ulp.
    ///
    /// Uses `log(1 + e) = 2·atanh(s)` with `s = e / (2 + e)` in [0, 1/3], whose odd series
    /// `2s(1 + s²/3 + s⁴/5 + …)` reaches float precision by the s¹⁵ term. Unlike computing
    /// `1 + e` first, it keeps full relative accuracy for tiny `e`.
    @inline(__always)
    package static func log1pUnit(_ e: Lanes) -> Lanes {
        let s = e / (2 + e)
        let w = s * s
        var series = Lanes(repeating: 1 / 15)
        series = series * w + 1 / 13
        series = series * w + 1 / 11
        series = series * w + 1 / 9
        series = series * w + 1 / 7
        series = series * w + 1 / 5
        series = series * w + 1 / 3
        series = series * w + 1
        return 2 * s * series
    }

    /// The logistic sigmoid `1 / (1 + exp(−z))` and `exp(−|z|)`, which callers often reuse.
    ///
    /// Computed from `e = exp(−|z|)` in (0, 1], as `1 / (1 + e)` for `z ≥ 0` and `e / (1 + e)`
    /// below, so neither branch overflows.
    @inline(__always)
    package static func sigmoid(_ z: Lanes) -> (sigmoid: Lanes, e: Lanes) {
        let magnitude = z.replacing(with: -z, where: z .< 0)
        let e = exp(-magnitude)
        let denominator = 1 + e
        let negative = e / denominator
        let positive = 1 / denominator
        return (positive.replacing(with: negative, where: z .< 0), e)
    }
}

/// Eight doubles, for sums of many `Lanes` that must not lose precision.
package typealias WideLanes = SIMD8<Double>

extension SIMD8 where Scalar == Double {
    /// Adds the first `count` lanes of `values`, widened to `Double`, lane by lane.
    @inline(__always)
    mutating func add(_ values: Lanes, count: Int) {
        var widened = WideLanes(values)
        if count < 8 {
            for lane in count..<8 { widened[lane] = 0 }
        }
        self += widened
    }

    /// The sum of the eight lanes, added in a fixed pairwise order.
    @inline(__always)
    var pairwiseSum: Double {
        let four = lowHalf + highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }
}

/// The per-chunk work of a ``sweepRows(rows:width:columns:columnSums:_:)``.
///
/// A conforming struct, rather than a closure, is what the sweep calls: the sweep is then
/// compiled once per body with the body inlined into its loop.
protocol RowSweep {
    /// Handles the chunk at `offset` (its index in the matrix), at `column` of its row and
    /// `lanes` ≤ 8 wide, and returns the values to add to the column sums.
    mutating func chunk(at offset: Int, column: Int, lanes: Int) -> Lanes
}

/// Sweeps the `columns` of a row-major `rows × width` matrix eight lanes at a time, row by row.
///
/// `columns` (all of them when nil) must start at a multiple of 8. With `columnSums` given,
/// its entries for `columns` end as the column sums of what `body` returned: row 0 is stored,
/// each later row added in turn, so they run in a fixed order whatever the column range. Full
/// chunks pass a constant 8 for `lanes`, which keeps their loads and stores branch-free once
/// inlined.
@inline(__always)
func sweepRows<Body: RowSweep>(
    rows: Int,
    width: Int,
    columns: Range<Int>? = nil,
    columnSums: UnsafeMutablePointer<Float>?,
    _ body: inout Body
) {
    let step = Lanes.scalarCount
    let first = columns?.lowerBound ?? 0
    let end = columns?.upperBound ?? width
    let fullEnd = end - (end - first) % step
    for row in 0..<rows {
        let start = row * width
        if let columnSums {
            if row == 0 {
                for i in stride(from: first, to: fullEnd, by: step) {
                    body.chunk(at: start + i, column: i, lanes: step)
                        .store(to: columnSums + i, count: step)
                }
            } else {
                for i in stride(from: first, to: fullEnd, by: step) {
                    let sum =
                        Lanes.load(columnSums + i, count: step)
                        + body.chunk(at: start + i, column: i, lanes: step)
                    sum.store(to: columnSums + i, count: step)
                }
            }
        } else {
            for i in stride(from: first, to: fullEnd, by: step) {
                _ = body.chunk(at: start + i, column: i, lanes: step)
            }
        }
        if fullEnd < end {
            let lanes = end - fullEnd
            let values = body.chunk(at: start + fullEnd, column: fullEnd, lanes: lanes)
            if let columnSums {
                let sums = columnSums + fullEnd
                (row == 0 ? values : Lanes.load(sums, count: lanes) + values)
                    .store(to: sums, count: lanes)
            }
        }
    }
}
