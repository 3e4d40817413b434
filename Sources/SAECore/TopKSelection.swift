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
        for i in 0..<count {
            scratch[i] = row[i].isNaN ? -.infinity : row[i]
        }
        let threshold = kthLargest(k, in: scratch, count: count)
        var above = 0
        for i in 0..<count where !row[i].isNaN && row[i] > threshold {
            above += 1
        }
        var tiesLeft = k - above

        for i in 0..<count {
            let value = row[i].isNaN ? -Float.infinity : row[i]
            var isKept = value > threshold
            if !isKept && value == threshold && tiesLeft > 0 {
                isKept = true
                tiesLeft -= 1
            }
            if !isKept { row[i] = 0 }
            mask?[i] = isKept ? 1 : 0
        }
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
