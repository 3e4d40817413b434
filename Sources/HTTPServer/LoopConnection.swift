import Glibc

/// A request whose head has been accepted and whose body is being read.
struct PendingRequest {
    let head: RequestHead
    let target: RequestTarget
    let route: RouteMatch
    /// When the route's handler runs on the event loop (`Router.add(runsOnEventLoop:)`).
    let eventLoopCondition: EventLoopCondition?
}

/// The event loop's state for one connection. Touched only on the event loop thread.
///
/// Phases and their transitions:
/// - `awaitingHead` → `readingBody` when a valid head arrives; → `closing` on a parse error or
///   header timeout; dropped when idle too long or the peer closes.
/// - `readingBody` → `busy` when the body is complete (a worker takes over writing);
///   → `closing` on an error or body timeout.
/// - `busy` → `awaitingHead` when the worker reports the connection reusable; else
///   → `lingering`, or dropped when the socket broke.
/// - `readingBody` → `flushing` when a handler run on the loop answered and the socket did
///   not take the whole response at once; → `awaitingHead` (or closed) once flushed.
/// - `closing` (an error response is being flushed) → `lingering` once sent.
/// - `lingering` (our side shut; unread input discarded so the peer gets our last response
///   rather than a reset) → dropped at end of input, after a quiet spell, or at `lingerEnd`.
final class LoopConnection {
    enum Phase {
        case awaitingHead
        case readingBody(PendingRequest)
        case busy
        /// A response the loop produced itself (`runsOnEventLoop`) is being flushed; then the
        /// connection is reused when `keepOpen`, as after a worker's response.
        case flushing(keepOpen: Bool)
        case closing
        case lingering
    }

    let connection: Connection
    var decoder: RequestDecoder
    var phase = Phase.awaitingHead
    /// When the current phase times out, in `monotonicSeconds()`; infinite while busy.
    var deadline: Double
    /// Whether at least one response was sent (later heads time from their first byte).
    var hasServedRequest = false
    /// The loop's count of dispatched requests when this connection's latest request was
    /// dispatched (0 before the first): a ready connection with a smaller number has most
    /// likely waited longer, and goes first in its round.
    var dispatchOrder: UInt64 = 0
    /// Whether the peer shut its sending side; no more input will come.
    var isInputClosed = false
    /// Whether input arrived while busy; the socket is not polled for more until the worker
    /// hands the connection back (mirrored in `Connection.isInputPending`).
    var isInputPending = false
    /// When lingering must end even if the peer keeps sending.
    var lingerEnd = 0.0
    /// A response the loop itself is sending (errors only), and how much is sent.
    var outbox: [UInt8] = []
    var outboxOffset = 0
    /// The file the body is being written to, for a route that spools it
    /// (`Router.add(spoolsBody:)`); removed with the connection unless the request completed.
    var spool: SpoolFile?

    init(connection: Connection, limits: RequestLimits, deadline: Double) {
        self.connection = connection
        self.decoder = RequestDecoder(limits: limits)
        self.deadline = deadline
    }

    var id: UInt64 { self.connection.id }

    /// Whether the connection counts toward `maxConnections` (one being closed does not).
    var isActive: Bool {
        switch self.phase {
        case .closing, .lingering: return false
        default: return true
        }
    }

    /// Whether the connection is between requests, waiting for a head.
    var isAwaitingHead: Bool {
        if case .awaitingHead = self.phase { return true }
        return false
    }

    /// The `poll` events to wait for, or nil when the connection needs no polling.
    var pollEvents: Int16? {
        switch self.phase {
        case .awaitingHead, .readingBody, .lingering:
            return Int16(POLLIN)
        case .busy:
            // To notice a peer that goes away while its response is produced, and the next
            // request arriving (so the worker need not wake the loop when it is done).
            if self.isInputClosed { return nil }
            if self.isInputPending { return Socket.pollReadHangUp }
            return Socket.pollReadHangUp | Int16(POLLIN)
        case .closing, .flushing:
            return Int16(POLLOUT)
        }
    }
}
