import Dispatch
import Synchronization

/// Wall time spent inside matrix products: ``BLAS/gemm`` and the sparse products of a k-sparse
/// or zero-skipping code.
///
/// The training benchmark starts it around an epoch to tell the time in the products from the
/// time outside them, measured in the epoch itself rather than replayed. Off unless started;
/// while off a product pays one relaxed atomic load. Products run inside one another never, so
/// each is counted once; a product cut across cores counts its wall time on the calling thread.
/// Process-wide: products timed on several threads at once add up.
package enum ProductClock {
    private static let isRunning = Atomic<Bool>(false)
    private static let nanoseconds = Atomic<UInt64>(0)

    /// Sets the total to zero and starts counting.
    package static func start() {
        nanoseconds.store(0, ordering: .relaxed)
        isRunning.store(true, ordering: .releasing)
    }

    /// Stops counting and returns the seconds counted since ``start()``.
    package static func stop() -> Double {
        isRunning.store(false, ordering: .releasing)
        return Double(nanoseconds.load(ordering: .acquiring)) / 1e9
    }

    /// Runs `body`, adding its wall time to the total while the clock runs.
    @inline(__always)
    static func timing<Result>(_ body: () -> Result) -> Result {
        guard isRunning.load(ordering: .relaxed) else { return body() }
        let started = DispatchTime.now().uptimeNanoseconds
        let result = body()
        nanoseconds.wrappingAdd(DispatchTime.now().uptimeNanoseconds - started, ordering: .relaxed)
        return result
    }
}
