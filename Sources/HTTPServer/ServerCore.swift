import Synchronization

/// What the server's threads share: configuration, routes, the wake pipe and the messages
/// workers and `HTTPServer` send to the event loop.
final class ServerCore: Sendable {
    /// Messages for the event loop; guarded by `mailbox`.
    struct Mailbox {
        /// Connections whose response is complete, and whether each may be reused.
        var finished: [(id: UInt64, keepOpen: Bool)] = []
        /// Set once by `beginDraining()`.
        var isDraining = false
        /// Set once by `forceClose()`.
        var isForcing = false
        /// Whether the loop is (about to be) blocked in `poll` and needs the pipe to wake up.
        var isLoopPolling = false
        /// Whether a wake-up byte was written since the loop last took its messages.
        var isWakePending = false

        /// Whether there is anything for the loop to act on.
        var hasMessages: Bool { !self.finished.isEmpty || self.isDraining || self.isForcing }
    }

    let configuration: ServerConfiguration
    let limits: RequestLimits
    let router: Router
    let wakePipe: WakePipe
    /// The threads that run handlers and write responses.
    let workers = WorkerPool(name: "saed.http.worker")
    /// The thread that shares the loop's own requests when several are ready at once.
    let helper = LoopHelper()
    /// Stream writers that asked for heartbeats.
    let heartbeats: HeartbeatRegistry
    private let logger: (@Sendable (String) -> Void)?
    private let mailbox = Mutex(Mailbox())

    init(
        configuration: ServerConfiguration, router: Router, wakePipe: WakePipe,
        logger: (@Sendable (String) -> Void)?
    ) {
        self.configuration = configuration
        self.limits = configuration.requestLimits
        self.router = router
        self.wakePipe = wakePipe
        self.heartbeats = HeartbeatRegistry(wakePipe: wakePipe)
        self.logger = logger
    }

    /// Sends `message` to the logger, if there is one.
    func log(_ message: @autoclosure () -> String) {
        self.logger?(message())
    }

    /// Tells the event loop that the response on connection `id` is complete.
    ///
    /// Writes to the wake pipe only when the loop sleeps in `poll`, no wake-up is pending, and
    /// `needsLoop` says the loop must act now. `needsLoop` is asked after the message is
    /// posted: a flag the loop raised before its next `poll` is then either seen here, or the
    /// loop finds the message before sleeping.
    func finished(connection id: UInt64, keepOpen: Bool, needsLoop: () -> Bool = { true }) {
        let isLoopAsleep = self.mailbox.withLock { mailbox in
            mailbox.finished.append((id: id, keepOpen: keepOpen))
            return mailbox.isLoopPolling && !mailbox.isWakePending
        }
        guard isLoopAsleep && needsLoop() else { return }
        let needsWake = self.mailbox.withLock { mailbox in
            guard mailbox.isLoopPolling && !mailbox.isWakePending else { return false }
            mailbox.isWakePending = true
            return true
        }
        if needsWake { self.wakePipe.wake() }
    }

    /// Called by the loop just before `poll`: whether it may sleep (no message is waiting). When
    /// it may, later messages write to the wake pipe until the loop takes them.
    func mayPoll() -> Bool {
        self.mailbox.withLock { mailbox in
            mailbox.isLoopPolling = !mailbox.hasMessages
            return mailbox.isLoopPolling
        }
    }

    /// Tells the event loop to stop accepting and wind down.
    func beginDraining() {
        self.mailbox.withLock { $0.isDraining = true }
        self.wakePipe.wake()
    }

    /// Tells the event loop to shut every connection and exit now.
    func forceClose() {
        self.mailbox.withLock { $0.isForcing = true }
        self.wakePipe.wake()
    }

    /// Takes the pending messages, leaving the flags set.
    func takeMessages() -> Mailbox {
        self.mailbox.withLock { mailbox in
            mailbox.isLoopPolling = false
            mailbox.isWakePending = false
            let taken = mailbox
            mailbox.finished.removeAll(keepingCapacity: true)
            return taken
        }
    }
}
