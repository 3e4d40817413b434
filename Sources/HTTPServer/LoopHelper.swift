import Dispatch
import Synchronization

/// One thread that takes a share of the event loop's own requests (routes that run on the
/// loop) when several are ready at once, so that a second core answers them too.
///
/// A request handed to a worker costs a thread wake-up of its own, which for a quick handler
/// costs more than the handler. The helper is one long-lived thread with a short queue: while
/// requests keep coming it never sleeps, so sharing costs a lock per request. The loop offers
/// it two in three quick requests of a busy round and keeps the rest; a full queue (the helper
/// is behind, or not scheduled) sends requests back to the loop, so none waits long behind
/// another. Each answered connection goes back to the loop through the mailbox, as a worker's
/// does.
final class LoopHelper: Sendable {
    /// Requests waiting beyond the one being answered; more go back to the loop.
    static let maxQueued = 4

    /// The queue and the thread's state; guarded by `state`.
    private struct State {
        var queue: [Exchange] = []
        /// The thread is asleep on `wakeUp` (or about to be) and needs a signal.
        var isSleeping = false
        var isStopped = false
    }

    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)

    /// Queues `exchange` unless `maxQueued` are waiting already or the helper has stopped;
    /// returns whether it was taken.
    func offer(_ exchange: Exchange) -> Bool {
        let taken = self.state.withLock { state -> (Bool, wakes: Bool) in
            guard !state.isStopped, state.queue.count < Self.maxQueued else { return (false, false) }
            state.queue.append(exchange)
            let wakes = state.isSleeping
            state.isSleeping = false
            return (true, wakes)
        }
        if taken.wakes { self.wakeUp.signal() }
        return taken.0
    }

    /// Lets the thread exit once its queue is empty.
    func stop() {
        let wakes = self.state.withLock { state in
            state.isStopped = true
            defer { state.isSleeping = false }
            return state.isSleeping
        }
        if wakes { self.wakeUp.signal() }
    }

    /// The thread's body: answers queued requests in order until stopped.
    func run(core: ServerCore) {
        while true {
            let next = self.state.withLock { state -> Exchange?? in
                if !state.queue.isEmpty { return state.queue.removeFirst() }
                if state.isStopped { return .some(nil) }
                state.isSleeping = true
                return nil
            }
            switch next {
            case .some(.some(let exchange)): Self.answer(exchange, core: core)
            case .some(.none): return
            case .none: self.wakeUp.wait()
            }
        }
    }

    /// Answers one request without ever blocking on its socket: what the socket will not take
    /// at once, and any stream, goes on on a worker thread.
    private static func answer(_ exchange: Exchange, core: ServerCore) {
        let response = RequestWorker.response(for: exchange, core: core)
        let connection = exchange.connection
        guard let (bytes, keepOpen) = RequestWorker.serialized(response, for: exchange) else {
            core.workers.submit {
                let keepOpen = RequestWorker.write(response, for: exchange, core: core)
                core.finished(connection: connection.id, keepOpen: keepOpen)
            }
            return
        }
        guard let sent = connection.sendAvailable(bytes) else {
            core.finished(connection: connection.id, keepOpen: false)
            return
        }
        guard sent == bytes.count else {
            let rest = Array(bytes[sent...])
            core.workers.submit {
                let isSent = connection.send(rest, timeoutSeconds: core.configuration.writeTimeoutSeconds)
                core.finished(connection: connection.id, keepOpen: isSent && keepOpen)
            }
            return
        }
        // As for a worker: a kept-open connection with nothing buffered needs the loop only
        // when input arrives, and the loop polls for that itself.
        core.finished(connection: connection.id, keepOpen: keepOpen) {
            !keepOpen || exchange.hasBufferedInput || connection.isInputPending
        }
    }
}
