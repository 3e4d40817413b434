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

    /// Returns the `k`-th largest of `count` values (1-based), reordering them.
    ///
    /// Quickselect with a median-of-three pivot; values must not be NaN. `1 <= k <= count`.
    private static func kthLargest(
        _ k: Int,
        in values: UnsafeMutablePointer<Float>,
        count: Int
    ) -> Float {
        // Work in descending order: the answer sits at index k − 1.
        let target = k - 1
        var low = 0
        var high = count - 1
        while low < high {
            let middle = low + (high - low) / 2
            let pivot = medianOfThree(values[low], values[middle], values[high])

            // Hoare partition for descending order: [low, j] ≥ pivot ≥ [j + 1, high].
            var i = low
            var j = high
            while i <= j {
                while values[i] > pivot { i += 1 }
                while values[j] < pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if target <= j {
                high = j
            } else if target >= i {
                low = i
            } else {
                return values[target]  // between the halves: equal to the pivot
            }
        }
        return values[target]
    }

    private static func medianOfThree(_ a: Float, _ b: Float, _ c: Float) -> Float {
        max(min(a, b), min(max(a, b), c))
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    fileprivate func swapAt(_ i: Int, _ j: Int) {
        let held = self[i]
        self[i] = self[j]
        self[j] = held
    }
}
