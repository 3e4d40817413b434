/// Keeps the `k` largest values of a row and zeroes the rest: the selection of a k-sparse code.
///
/// Ties at the threshold are broken by position (earlier latents win), so exactly `k` values
/// survive and the choice is deterministic. NaN ranks below every number, so a NaN row still
/// terminates; its NaN then reaches the loss, which is where training reports it.
package enum TopKSelection {
    /// Zeroes all but the `k` largest of the `count` values at `row`, in place.
    ///
    /// - Parameters:
    ///   - mask: if given, receives `count` values: 1 where a value was kept, 0 where dropped.
    ///   - scratch: `count` floats of working space, overwritten.
    /// With `k >= count` nothing changes (and the mask is all ones). Allocates nothing.
    package static func keepLargest(
        _ k: Int,
        of row: UnsafeMutablePointer<Float>,
        count: Int,
        mask: UnsafeMutablePointer<Float>?,
        scratch: UnsafeMutablePointer<Float>
    ) {
        precondition(k >= 0, "k must not be negative, not \(k)")
        if k >= count {
            mask?.update(repeating: 1, count: count)
            return
        }
        if k == 0 {
            row.update(repeating: 0, count: count)
            mask?.update(repeating: 0, count: count)
            return
        }

        // Find the k-th largest value, then how many equal to it may stay.
        forEachChunk(count) { i, lanes in
            ranked(.load(row + i, count: lanes)).store(to: scratch + i, count: lanes)
        }
        let threshold = kthLargest(k, in: scratch, count: count)
        let bound = Lanes(repeating: threshold)
        // Count what ranks above the threshold. (A short chunk's padding lanes load as 0.)
        var above = SIMD8<Int32>()
        forEachChunk(count) { i, lanes in
            let isReal = laneIndices .< SIMD8<Int32>(repeating: Int32(lanes))
            let isAbove = ranked(.load(row + i, count: lanes)) .> bound .& isReal
            above &+= SIMD8<Int32>().replacing(with: 1, where: isAbove)
        }
        // Zero what ranks below the threshold, and the values equal to it beyond the first
        // `k − above`. This pass reads values only before writing zeros over them, so a zeroed
        // value is never mistaken for a tie when the threshold itself is 0.
        var tiesLeft = k - Int(above.wrappedSum())
        forEachChunk(count) { i, lanes in
            let values = Lanes.load(row + i, count: lanes)
            let value = ranked(values)
            var isDropped = value .< bound
            if any(value .== bound) {
                for lane in 0..<lanes where value[lane] == threshold {
                    if tiesLeft > 0 {
                        tiesLeft -= 1
                    } else {
                        isDropped[lane] = true
                    }
                }
            }
            values.replacing(with: 0, where: isDropped).store(to: row + i, count: lanes)
            if let mask {
                Lanes(repeating: 1).replacing(with: 0, where: isDropped)
                    .store(to: mask + i, count: lanes)
            }
        }
    }

    /// 0, 1, …, 7: which lanes of a short chunk hold values.
    private static let laneIndices = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)

    /// A value as the selection ranks it: NaN as −∞.
    @inline(__always)
    private static func ranked(_ values: Lanes) -> Lanes {
        values.replacing(with: -.infinity, where: values .!= values)
    }

    /// Calls `body(start, lanes)` for the eight-lane chunks of `0..<count`.
    @inline(__always)
    private static func forEachChunk(_ count: Int, _ body: (_ start: Int, _ lanes: Int) -> Void) {
        let full = count - count % Lanes.scalarCount
        for i in stride(from: 0, to: full, by: Lanes.scalarCount) {
            body(i, Lanes.scalarCount)
        }
        if full < count { body(full, count - full) }
    }

    /// Returns the `k`-th largest of `count` values (1-based), overwriting them.
    ///
    /// A most-significant-byte-first radix select: each value becomes an unsigned key that
    /// orders as the floats do (`−0` taken as `+0`), and four passes over ever fewer candidates
    /// each fix one byte of the answer's key by a 256-bucket histogram. About two passes over
    /// the row in all, without data-dependent branches in the histogram loops; quickselect's
    /// mispredicted comparisons cost several times more at 1024 latents. Values must not be
    /// NaN. `1 <= k <= count`.
    private static func kthLargest(
        _ k: Int,
        in values: UnsafeMutablePointer<Float>,
        count: Int
    ) -> Float {
        values.withMemoryRebound(to: UInt32.self, capacity: count) { keys in
            for i in 0..<count {
                keys[i] = orderedKey(keys[i])
            }
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 256) { histogram in
                var candidates = count
                var rank = k  // of the answer among the candidates, from the top
                for shift in stride(from: UInt32(24), through: 0, by: -8) {
                    histogram.initialize(repeating: 0)
                    for i in 0..<candidates {
                        histogram[Int((keys[i] >> shift) & 0xFF)] += 1
                    }
                    // The bucket holding the answer, counting down from the largest keys.
                    var bucket = 255
                    while histogram[bucket] < rank {
                        rank -= histogram[bucket]
                        bucket -= 1
                    }
                    // Keep that bucket's keys; all of them now share the bytes fixed so far.
                    var kept = 0
                    for i in 0..<candidates where Int((keys[i] >> shift) & 0xFF) == bucket {
                        keys[kept] = keys[i]
                        kept += 1
                    }
                    candidates = kept
                    if candidates == 1 { break }
                }
            }
            return Float(bitPattern: floatBits(ofKey: keys[0]))
        }
    }

    /// A float's bits mapped to a key whose unsigned order is the floats' order.
    @inline(__always)
    private static func orderedKey(_ bits: UInt32) -> UInt32 {
        let bits = bits & 0x7FFF_FFFF == 0 ? 0 : bits  // −0 ranks with +0
        return bits & 0x8000_0000 == 0 ? bits | 0x8000_0000 : ~bits
    }

    /// The inverse of ``orderedKey(_:)``.
    @inline(__always)
    private static func floatBits(ofKey key: UInt32) -> UInt32 {
        key & 0x8000_0000 != 0 ? key & 0x7FFF_FFFF : ~key
    }
}
