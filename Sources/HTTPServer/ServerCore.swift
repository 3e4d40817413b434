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
    }

    let configuration: ServerConfiguration
    let limits: RequestLimits
    let router: Router
    let wakePipe: WakePipe
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
        self.logger = logger
    }

    /// Sends `message` to the logger, if there is one.
    func log(_ message: @autoclosure () -> String) {
        self.logger?(message())
    }

    /// Tells the event loop that the response on connection `id` is complete.
    func finished(connection id: UInt64, keepOpen: Bool) {
        self.mailbox.withLock { $0.finished.append((id: id, keepOpen: keepOpen)) }
        self.wakePipe.wake()
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
            let taken = mailbox
            mailbox.finished.removeAll()
            return taken
        }
    }
}
