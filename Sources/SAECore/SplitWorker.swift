import Foundation
import Synchronization

#if os(Linux)
    import Glibc
#endif

/// A second thread that stays ready to share a training pass with the training thread.
///
/// A training step at 784 → 128 and batch 64 takes about a millisecond; each of its matrix
/// products (see ``BLAS/gemm(transposeA:transposeB:m:n:k:alpha:a:b:beta:c:)``) and its passes
/// outside them (gathering the batch, the loss pass, Adam) take tens to hundreds of
/// microseconds: waking a Dispatch worker for each would cost about as much as it saves.
/// This thread instead spins (yielding the core at each turn, so other processes still run)
/// while work keeps coming, and parks after ``idleNanoseconds`` without any.
///
/// A job is cut by its caller into a fixed number of parts. The calling thread takes parts
/// from the front (0, 1, …) and the worker from the back, so on an idle machine each core gets
/// the same parts at every step and keeps their data in its cache. Either thread takes what
/// the other has not started: a worker without a core (a loaded machine) holds up at most the
/// one part it is running. Every part computes the same values whichever thread runs it, and
/// all run on the calling thread, in order, when another caller holds the worker or
/// ``BLAS/threadCount`` is 1 (`OPENBLAS_NUM_THREADS=1` keeps all of training on one core).
/// Results therefore never depend on scheduling.
///
/// @unchecked Sendable: `job` and `partCount` are written by the caller holding `isHeld`
/// before `parts` is reset (releasing); the worker reads them only after claiming a part from
/// that reset (acquiring), and the caller clears `job` only once `completed` counts every part.
package final class SplitWorker: @unchecked Sendable {
    /// The process's worker, started on first use.
    static let shared = SplitWorker()

    /// How long the worker spins without work before it parks.
    static let idleNanoseconds: UInt64 = 2_000_000

    /// The parts not yet claimed, `front..<back`, packed as `front | back << 32`.
    private let parts = Atomic<Int>(0)
    /// Parts of the current job finished so far.
    private let completed = Atomic<Int>(0)
    /// Jobs posted so far; the worker looks for parts when it changes.
    private let posted = Atomic<Int>(0)
    /// Whether the worker is parked (or about to be) on `wake`.
    private let isParked = Atomic<Bool>(false)
    /// Whether a caller holds the worker.
    private let isHeld = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)
    /// The posted job; see the type's Sendable note.
    private var job: ((Int) -> Void)?

    private init() {
        let thread = Thread(block: Self.entry(for: self))
        thread.name = "saed-split-worker"
        thread.start()
    }

    /// Calls `body(part)` once for each part in `0..<count`, on the calling thread and the
    /// worker together, and returns when all have finished.
    ///
    /// `count` is at most 64. Parts may run in any order and on either thread (on the worker
    /// with subnormals flushed to zero, as training's thread runs), so they must write disjoint
    /// memory and read nothing another part writes. Safe to call from any thread.
    package static func run(parts count: Int, _ body: (Int) -> Void) {
        precondition(count >= 0 && count <= 64, "\(count) parts, at most 64")
        guard count > 1, BLAS.threadCount > 1 else {
            for part in 0..<count { body(part) }
            return
        }
        shared.share(count, body)
    }

    /// The `part`-th of `parts` consecutive ranges covering `0..<count`, each starting at a
    /// multiple of `alignment` (the last may be shorter, or empty).
    package static func range(
        of part: Int, in parts: Int, covering count: Int, alignment: Int = 1
    ) -> Range<Int> {
        let size = ((count + parts - 1) / parts + alignment - 1) / alignment * alignment
        let start = min(part * size, count)
        return start..<min(start + size, count)
    }

    private func share(_ count: Int, _ body: (Int) -> Void) {
        guard isHeld.compareExchange(expected: false, desired: true, ordering: .acquiring)
            .exchanged
        else {
            for part in 0..<count { body(part) }
            return
        }
        withoutActuallyEscaping(body) { body in
            job = body
            completed.store(0, ordering: .relaxed)
            parts.store(count << 32, ordering: .releasing)
            posted.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if isParked.exchange(false, ordering: .sequentiallyConsistent) { wake.signal() }

            while let part = claim(fromFront: true) {
                body(part)
                completed.wrappingAdd(1, ordering: .releasing)
            }
            var turns = 0
            while completed.load(ordering: .acquiring) != count {
                // Give the core away now and then, in case the worker shares this one.
                turns += 1
                if turns % 64 == 0 { sched_yield() }
            }
            job = nil
        }
        isHeld.store(false, ordering: .releasing)
    }

    /// Takes the first (or last) unclaimed part of the current job, or nil when none is left.
    private func claim(fromFront: Bool) -> Int? {
        var state = parts.load(ordering: .acquiring)
        while true {
            let (front, back) = (state & 0xFFFF_FFFF, state >> 32)
            guard front < back else { return nil }
            let next = fromFront ? state + 1 : state - (1 << 32)
            let (exchanged, original) = parts.compareExchange(
                expected: state, desired: next, ordering: .acquiringAndReleasing)
            if exchanged { return fromFront ? front : back - 1 }
            state = original
        }
    }

    /// The worker thread's body.
    private static func entry(for worker: SplitWorker) -> @Sendable () -> Void {
        { withSubnormalsFlushedToZero { worker.serve() } }
    }

    /// The worker's loop: takes parts of each posted job from the back, spinning between jobs
    /// and parking after ``idleNanoseconds`` without one.
    private func serve() {
        var seen = 0
        var idleSince = DispatchTime.now().uptimeNanoseconds
        var turns = 0
        while true {
            let current = posted.load(ordering: .acquiring)
            if current != seen {
                seen = current
                while let part = claim(fromFront: false) {
                    job?(part)
                    completed.wrappingAdd(1, ordering: .releasing)
                }
                idleSince = DispatchTime.now().uptimeNanoseconds
                continue
            }
            turns += 1
            if turns % 32 == 0,
                DispatchTime.now().uptimeNanoseconds - idleSince > Self.idleNanoseconds
            {
                park(seen: seen)
                idleSince = DispatchTime.now().uptimeNanoseconds
            } else {
                sched_yield()
            }
        }
    }

    /// Sleeps until a caller posts a job after `seen`.
    ///
    /// The flag is set before `posted` is read again, and a caller raises `posted` before it
    /// clears the flag, so either this read sees the new job or the caller sees the flag and
    /// signals. When both happen, the caller's signal is taken here so none is left over.
    private func park(seen: Int) {
        isParked.store(true, ordering: .sequentiallyConsistent)
        if posted.load(ordering: .sequentiallyConsistent) != seen {
            if !isParked.exchange(false, ordering: .sequentiallyConsistent) { wake.wait() }
            return
        }
        wake.wait()
    }
}
