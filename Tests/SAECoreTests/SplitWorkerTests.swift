import Dispatch
import SAECore
import Synchronization
import Testing

/// The split worker runs each half of every job exactly once, also under concurrent callers.
struct SplitWorkerTests {
    @Test(arguments: [2, 3, 4, 64])
    func eachPartRunsOncePerCall(parts: Int) {
        let calls = 2_000
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: parts * calls)
        counts.initialize(repeating: 0, count: parts * calls)
        defer { counts.deallocate() }
        for call in 0..<calls {
            // Each part writes its own slot; a part run twice or not at all shows in its count.
            SplitWorker.run(parts: parts) { part in counts[parts * call + part] += 1 }
        }
        let wrong = (0..<parts * calls).filter { counts[$0] != 1 }
        #expect(wrong.isEmpty, "slots run other than once: \(wrong.prefix(10))")
    }

    @Test func concurrentCallersEachGetEveryPart() {
        let callers = 4
        let callsEach = 500
        let done = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            var sums = [0, 0, 0]
            for call in 0..<callsEach {
                sums.withUnsafeMutableBufferPointer { sums in
                    SplitWorker.run(parts: 3) { part in sums[part] += call + part }
                }
            }
            let base = callsEach * (callsEach - 1) / 2
            if sums == [base, base + callsEach, base + 2 * callsEach] {
                done.add(1, ordering: .relaxed)
            }
        }
        #expect(done.load(ordering: .relaxed) == callers)
    }

    @Test func partsOverDisjointRangesAddUpToTheSerialSum() {
        // A long enough job for the worker to take parts: the parts' sums over their ranges
        // must add up to the serial sum exactly (integers).
        let count = 1 << 20 + 5
        let values = (0..<count).map { Int64($0 % 1000) }
        let sums = UnsafeMutablePointer<Int64>.allocate(capacity: 4)
        defer { sums.deallocate() }
        values.withUnsafeBufferPointer { values in
            SplitWorker.run(parts: 4) { part in
                var sum: Int64 = 0
                for i in SplitWorker.range(of: part, in: 4, covering: count, alignment: 16) {
                    sum += values[i]
                }
                sums[part] = sum
            }
        }
        #expect(sums[0] + sums[1] + sums[2] + sums[3] == values.reduce(0, +))
    }

    @Test func rangesCoverEveryIndexOnceAndStartAligned() {
        for (count, parts, alignment) in [(0, 4, 16), (5, 4, 1), (201_616, 4, 16), (784, 4, 8)] {
            let ranges = (0..<parts).map {
                SplitWorker.range(of: $0, in: parts, covering: count, alignment: alignment)
            }
            #expect(ranges.first?.lowerBound == 0 && ranges.last?.upperBound == count)
            for (previous, next) in zip(ranges, ranges.dropFirst()) {
                #expect(previous.upperBound == next.lowerBound)
            }
            #expect(ranges.allSatisfy { $0.isEmpty || $0.lowerBound % alignment == 0 })
        }
    }
}
