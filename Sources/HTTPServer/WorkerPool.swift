import Dispatch
import Foundation
import Synchronization

/// Threads that run request handlers and stream producers, reused from one job to the next.
///
/// The pool never makes a job wait for another: when every thread is busy, `submit` starts a
/// new one. A handler that blocks for minutes therefore holds one thread and stalls nobody,
/// while the common case (a short handler) reuses a parked thread instead of paying for
/// `pthread_create` on every request. Threads that find nothing to do for `idleSeconds` exit,
/// down to `keptThreads`; `stop()` lets every idle thread exit at once.
///
/// The number of threads is bounded by the number of jobs running at once, which the server
/// bounds by `maxConnections` (one request in flight per connection).
final class WorkerPool: Sendable {
    /// A unit of work; runs on a pool thread.
    typealias Job = @Sendable () -> Void

    /// One thread's parking place: the job handed to it and the semaphore it sleeps on.
    private final class Parking: Sendable {
        let wakeUp = DispatchSemaphore(value: 0)
        // Safe: written only while the pool's `state` lock is held, and read by the parked
        // thread under that lock after `wakeUp` fires.
        nonisolated(unsafe) var job: Job?
    }

    /// The parked threads and the counts; guarded by `state`.
    private struct State {
        /// Parked threads, most recently parked last: reusing the last one keeps caches warm
        /// and lets the others reach their idle timeout.
        var parked: [Parking] = []
        /// Threads alive, parked or running a job.
        var threads = 0
        var isStopped = false
    }

    /// Stack size of pool threads: handlers encode JSON, they do not recurse deeply.
    static let stackSize = 1 << 20

    private let idleSeconds: Double
    private let keptThreads: Int
    private let name: String
    private let state = Mutex(State())

    /// Creates an empty pool; threads start on demand.
    ///
    /// - Parameters:
    ///   - name: the name of the pool's threads, as debuggers show it.
    ///   - idleSeconds: how long a thread waits for work before it exits.
    ///   - keptThreads: how many idle threads stay parked regardless.
    init(name: String, idleSeconds: Double = 10, keptThreads: Int = 2) {
        self.name = name
        self.idleSeconds = idleSeconds
        self.keptThreads = keptThreads
    }

    /// Runs `job` on a parked thread, or on a new one when none is parked.
    ///
    /// Never waits for a running job to finish, as it may block for as long as it likes. After
    /// `stop()`, jobs still run, each on a new thread that exits afterwards.
    func submit(_ job: @escaping Job) {
        let parking = self.state.withLock { state -> Parking? in
            guard let parking = state.parked.popLast() else {
                state.threads += 1
                return nil
            }
            parking.job = job
            return parking
        }
        if let parking {
            parking.wakeUp.signal()
        } else {
            self.startThread(with: job)
        }
    }

    /// Lets parked threads exit now and each busy one once its job returns.
    func stop() {
        let parked = self.state.withLock { state -> [Parking] in
            state.isStopped = true
            defer { state.parked.removeAll() }
            return state.parked
        }
        for parking in parked { parking.wakeUp.signal() }
    }

    /// The number of live threads, for tests.
    var threadCount: Int { self.state.withLock { $0.threads } }

    private func startThread(with job: @escaping Job) {
        // The job travels in the parking place, not in the thread's closure: Foundation keeps
        // that closure as long as the thread lives, and a job may hold a connection open.
        let parking = Parking()
        parking.job = job
        let thread = Thread { [self] in self.work(parking) }
        thread.name = self.name
        thread.stackSize = Self.stackSize
        thread.start()
    }

    /// A thread's life: run jobs until parked for too long or stopped.
    private func work(_ parking: Parking) {
        // Safe without the lock: nobody else knows `parking` until it is parked below.
        var pending = parking.job
        parking.job = nil
        while true {
            if let job = pending {
                pending = nil
                job()
            }
            // The finished job is released before parking: it may hold a connection whose
            // socket must close once the event loop lets go of it too.
            guard let job = self.park(parking) else { return }
            pending = job
        }
    }

    /// Parks the thread until a job is handed to it; nil when the thread should exit.
    private func park(_ parking: Parking) -> Job? {
        let isParked = self.state.withLock { state in
            guard !state.isStopped else {
                state.threads -= 1
                return false
            }
            state.parked.append(parking)
            return true
        }
        guard isParked else { return nil }

        while true {
            let timedOut = parking.wakeUp.wait(timeout: .now() + self.idleSeconds) == .timedOut
            let outcome = self.state.withLock { state -> (job: Job?, exits: Bool) in
                if let job = parking.job {
                    parking.job = nil
                    return (job, false)
                }
                guard let index = state.parked.firstIndex(where: { $0 === parking }) else {
                    // Removed by `stop()`, or popped by `submit` whose signal is on its way.
                    if state.isStopped {
                        state.threads -= 1
                        return (nil, true)
                    }
                    return (nil, false)
                }
                if timedOut && state.threads > self.keptThreads {
                    state.parked.remove(at: index)
                    state.threads -= 1
                    return (nil, true)
                }
                return (nil, false)
            }
            if let job = outcome.job { return job }
            if outcome.exits { return nil }
        }
    }
}
