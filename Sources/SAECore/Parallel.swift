import Dispatch

/// Splits loops whose iterations are independent across the machine's cores.
///
/// Each chunk computes exactly what the serial loop computes for its iterations, in the same
/// order, so results never depend on the number of threads or on scheduling. The thread count
/// is ``BLAS/threadCount``, OpenBLAS's at start-up, so `OPENBLAS_NUM_THREADS=1` makes all of
/// training single-threaded. Every chunk runs with subnormals flushed to zero, as the training
/// thread does, so a value is computed the same way whichever thread computes it.
enum Parallel {
    /// Calls `body` with consecutive chunks covering `0..<count`, concurrently when
    /// `count ≥ 2 · minimumChunk` and more than one thread is allowed.
    ///
    /// Chunk boundaries are multiples of `alignment` (except the end), which lets a caller keep
    /// eight-lane loops aligned. Returns when every chunk is done.
    static func forEachChunk(
        of count: Int,
        minimumChunk: Int,
        alignment: Int = 1,
        _ body: (Range<Int>) -> Void
    ) {
        let threads = min(BLAS.threadCount, 8)
        let chunks = min(threads, count / max(minimumChunk, 1))
        guard chunks > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        let perChunk = ((count + chunks - 1) / chunks + alignment - 1) / alignment * alignment
        withoutActuallyEscaping(body) { body in
            let shared = SharedBody(run: body)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = min(chunk * perChunk, count)
                let end = min(start + perChunk, count)
                guard start < end else { return }
                withSubnormalsFlushedToZero { shared.run(start..<end) }
            }
        }
    }
}

/// A loop body handed to the worker threads.
///
/// @unchecked Sendable: callers pass bodies whose chunks write disjoint memory and only read
/// memory no chunk writes, and `forEachChunk` does not return before every chunk has finished.
private struct SharedBody: @unchecked Sendable {
    let run: (Range<Int>) -> Void
}
