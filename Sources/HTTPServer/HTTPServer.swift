import Dispatch
import Foundation
import Synchronization

/// An HTTP/1.1 server on POSIX sockets that routes requests to handlers.
///
/// One event-loop thread accepts connections and reads every socket with `poll`; each complete
/// request is answered on a worker-pool thread that is idle or started for it, so a slow
/// handler or a long stream never holds up other connections. See the README for the limits
/// and behaviour it enforces.
package final class HTTPServer: Sendable {
    private enum Phase {
        case idle
        case running(core: ServerCore, loopExited: DispatchSemaphore)
        case stopped
    }

    /// Lifecycle state and the bound port; guarded by `state`.
    private struct State {
        var phase = Phase.idle
        var port = 0
    }

    private let configuration: ServerConfiguration
    private let router: Router
    private let logger: (@Sendable (String) -> Void)?
    private let state = Mutex(State())

    /// Creates a server; nothing is bound until `start()`.
    ///
    /// - Parameter logger: receives one line per problem the server handles itself (accept
    ///   failures, handler errors that became 500). Called from the server's threads.
    package init(
        configuration: ServerConfiguration, router: Router,
        logger: (@Sendable (String) -> Void)? = nil
    ) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
    }

    deinit {
        // A server dropped without `shutdown` must not leave its loop thread running.
        if case .running(let core, _) = self.state.withLock({ $0.phase }) {
            core.forceClose()
            core.helper.stop()
            core.workers.stop()
        }
    }

    /// Binds and listens, then returns at once; requests are served on background threads.
    ///
    /// - Throws: `HTTPServerError`: `isAddressInUse` when the port is taken, or another reason
    ///   the address cannot be bound; also when called twice.
    package func start() throws {
        try self.state.withLock { state throws(HTTPServerError) in
            guard case .idle = state.phase else { throw .alreadyStarted }
            let configuration = self.configuration
            let wakePipe = try WakePipe()
            let (listener, port) = try Socket.listen(
                host: configuration.host, port: configuration.port, backlog: 1_024)
            let core = ServerCore(
                configuration: configuration, router: self.router, wakePipe: wakePipe,
                logger: self.logger)
            let loopExited = DispatchSemaphore(value: 0)
            let thread = Thread {
                EventLoop(core: core, listener: listener).run()
                loopExited.signal()
            }
            thread.name = "saed.http.loop"
            thread.start()
            let helper = Thread { core.helper.run(core: core) }
            helper.name = "saed.http.helper"
            helper.stackSize = WorkerPool.stackSize
            helper.start()
            state.phase = .running(core: core, loopExited: loopExited)
            state.port = port
        }
    }

    /// The shared state of the running server, for tests; nil before `start()` and after
    /// `shutdown`.
    var runningCore: ServerCore? {
        self.state.withLock { state in
            if case .running(let core, _) = state.phase { return core }
            return nil
        }
    }

    /// The port actually bound (useful with port 0); 0 before `start()`.
    package var port: Int { self.state.withLock { $0.port } }

    /// Stops the server within `graceSeconds`.
    ///
    /// Stops accepting, closes idle connections and lets requests in flight finish (their
    /// responses carry `Connection: close`). Stream writers report `isClosed` and
    /// `isDraining` while their `write` keeps working, so a producer can send its final event
    /// and return. Whatever is still open when the grace period ends is shut down hard (writes
    /// then fail). Returns once everything is closed, or at the end of the grace period; then
    /// idle worker threads exit. Calling it again, or before `start()`, does nothing.
    package func shutdown(graceSeconds: Double) {
        let running = self.state.withLock { state -> (ServerCore, DispatchSemaphore)? in
            guard case .running(let core, let loopExited) = state.phase else { return nil }
            state.phase = .stopped
            return (core, loopExited)
        }
        guard let (core, loopExited) = running else { return }

        // Keep a little of the grace period for the forced close to take effect.
        let margin = min(0.05, max(0, graceSeconds) / 10)
        core.beginDraining()
        if loopExited.wait(timeout: .now() + max(0, graceSeconds - margin)) == .timedOut {
            core.forceClose()
            _ = loopExited.wait(timeout: .now() + margin)
        }
        core.helper.stop()
        core.workers.stop()
    }
}
