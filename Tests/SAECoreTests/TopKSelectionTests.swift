import SAECore
import Testing

struct TopKSelectionTests {
    /// Runs the selection on a copy of `values` and returns the row and its mask.
    func select(_ k: Int, _ values: [Float]) -> (row: [Float], mask: [Float]) {
        var row = values
        var mask = [Float](repeating: -1, count: values.count)
        var scratch = [Float](repeating: 0, count: values.count)
        row.withUnsafeMutableBufferPointer { row in
            mask.withUnsafeMutableBufferPointer { mask in
                scratch.withUnsafeMutableBufferPointer { scratch in
                    TopKSelection.keepLargest(
                        k, of: row.baseAddress!, count: row.count, mask: mask.baseAddress!,
                        scratch: scratch.baseAddress!)
                }
            }
        }
        return (row, mask)
    }

    @Test func keepsTheKLargestInPlace() {
        let (row, mask) = select(3, [0.5, -2, 7, 3, 0.1, 6])
        #expect(row == [0, 0, 7, 3, 0, 6])
        #expect(mask == [0, 0, 1, 1, 0, 1])
    }

    @Test func tiesGoToTheEarlierLatent() {
        let (row, mask) = select(2, [1, 4, 1, 4, 4])
        #expect(row == [0, 4, 0, 4, 0])
        #expect(mask == [0, 1, 0, 1, 0])
        #expect(select(3, [2, 2, 2, 2]).row == [2, 2, 2, 0])
    }

    @Test func nanRanksBelowEveryNumber() {
        let (row, _) = select(2, [.nan, -5, .nan, -7])
        #expect(row[1] == -5 && row[3] == -7)
        #expect(row[0] == 0 && row[2] == 0)
    }

    @Test func kAtLeastCountKeepsEverythingAndZeroKeepsNothing() {
        #expect(select(4, [3, 1, 2, 0]) == ([3, 1, 2, 0], [1, 1, 1, 1]))
        #expect(select(9, [3, 1]).mask == [1, 1])
        #expect(select(0, [3, 1, 2]) == ([0, 0, 0], [0, 0, 0]))
    }

    @Test func agreesWithSortingOnManyRandomRows() {
        var generator = SeededGenerator(seed: 31)
        for trial in 0..<300 {
            let count = 1 + generator.nextIndex(below: 40)
            let k = 1 + generator.nextIndex(below: count)
            // Few distinct values, so ties are common.
            let values = (0..<count).map { _ in Float(generator.nextIndex(below: 6)) - 2 }
            let ranked = values.indices.sorted {
                values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1)
            }
            let keep = Set(ranked.prefix(k))
            let expected = values.indices.map { keep.contains($0) ? values[$0] : 0 }
            #expect(select(k, values).row == expected, "trial \(trial): k \(k) of \(values)")
        }
    }

    @Test func agreesWithSortingOnWideRowsOfMixedSignsZerosAndInfinities() {
        var generator = SeededGenerator(seed: 32)
        // ±1e-40 are subnormal: a literal that small draws a compiler warning, so build it.
        let subnormal = Float.leastNormalMagnitude / 117.5
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .nan, subnormal, -subnormal, 3]
        for trial in 0..<60 {
            let count = 1 + generator.nextIndex(below: 3000)
            let k = 1 + generator.nextIndex(below: count)
            let values = (0..<count).map { _ -> Float in
                if generator.nextIndex(below: 10) == 0 {
                    return specials[generator.nextIndex(below: specials.count)]
                }
                return (generator.nextUnitFloat() - 0.5) * 8
            }
            let key = { (v: Float) -> Float in v.isNaN ? -.infinity : v }
            let ranked = values.indices.sorted {
                key(values[$0]) > key(values[$1]) || (key(values[$0]) == key(values[$1]) && $0 < $1)
            }
            let keep = Set(ranked.prefix(k))
            let (row, mask) = select(k, values)
            let expectedMask = values.indices.map { keep.contains($0) ? Float(1) : 0 }
            #expect(mask == expectedMask, "trial \(trial): \(k) of \(count)")
            #expect(row.indices.allSatisfy { keep.contains($0) || row[$0] == 0 })
        }
    }
}
