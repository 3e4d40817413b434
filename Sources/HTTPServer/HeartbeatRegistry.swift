import Synchronization

/// The stream writers that asked for heartbeats; the event loop checks them on every turn.
///
/// Writers register from producer threads; the loop asks `dueWriters(now:)` for those whose
/// heartbeat is due and has a worker-pool thread send each (a send may block on a slow client,
/// and the loop never blocks). Registration wakes the loop so its `poll` timeout accounts for
/// the new due time.
final class HeartbeatRegistry: Sendable {
    /// The registered writers by identity; guarded by its own lock.
    private let writers = Mutex<[ObjectIdentifier: ResponseWriter]>([:])
    private let wakePipe: WakePipe

    init(wakePipe: WakePipe) {
        self.wakePipe = wakePipe
    }

    /// Adds `writer` (again, harmlessly) and wakes the loop.
    func add(_ writer: ResponseWriter) {
        self.writers.withLock { $0[ObjectIdentifier(writer)] = writer }
        self.wakePipe.wake()
    }

    /// Removes `writer`; it gets no more heartbeats.
    func remove(_ writer: ResponseWriter) {
        _ = self.writers.withLock { $0.removeValue(forKey: ObjectIdentifier(writer)) }
    }

    /// The writers whose heartbeat is due at `now`, each now marked scheduled, and the earliest
    /// due time among the rest (infinity when none).
    func dueWriters(now: Double) -> (due: [ResponseWriter], next: Double) {
        let registered = self.writers.withLock { Array($0.values) }
        var due: [ResponseWriter] = []
        var next = Double.infinity
        for writer in registered {
            if writer.claimHeartbeat(now: now) {
                due.append(writer)
            } else if let time = writer.heartbeatDue() {
                next = min(next, time)
            }
        }
        return (due, next)
    }

    /// Whether no writer is registered; lets the loop skip the scan.
    var isEmpty: Bool { self.writers.withLock { $0.isEmpty } }
}
