import Synchronization

/// A request handler. Runs on a worker thread and may block (unless its route runs on the event
/// loop); it may throw an `HTTPError` to choose its error response (any other error becomes
/// 500).
package typealias Handler = @Sendable (HTTPRequest) throws -> HTTPResponse

/// Decides, on the event loop, whether a complete request's handler runs right there
/// (`Router.add(runsOnEventLoopWhen:)`). Must itself be cheap and never block.
package typealias EventLoopCondition = @Sendable (HTTPRequest) -> Bool

/// Answers a request from its header fields alone, before its body is read, or returns nil to
/// let it go on (`Router.add(refusingBeforeBody:)`). Runs on the event loop: must be cheap and
/// never block.
package typealias HeadCheck = @Sendable (HTTPHeaders) -> HTTPResponse?

/// The outcome of looking a request up in a `Router`.
package enum RouteMatch: Sendable {
    /// A route matched; `parameters` holds the decoded `:name` segments.
    case matched(Handler, parameters: [String: String])
    /// Routes exist for the path but not for the method; `allowed` lists the methods that would
    /// match, HEAD included wherever GET is.
    case methodNotAllowed(allowed: [String])
    /// No route has this path.
    case notFound
}

/// Maps a method and path to a handler.
///
/// A pattern is a path whose segments are literals or parameters: in `/v1/jobs/:id/events`,
/// `:id` matches any one non-empty segment and captures it as `id`. Only a segment that
/// *starts* with `:` is a parameter, so `/v1/jobs:validate` is a literal. Matching compares
/// decoded segments exactly (case-sensitive, no trailing-slash folding). When several patterns
/// match, the one with a literal at the first segment where they differ wins. A GET route also
/// answers HEAD unless a HEAD route exists. Routes may be added at any time; lookups are
/// thread-safe.
package final class Router: Sendable {
    private enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    private struct Route {
        let method: String
        let pattern: String
        let segments: [Segment]
        let maxBodyBytes: Int?
        let eventLoopCondition: EventLoopCondition?
        let spoolsBody: Bool
        let headCheck: HeadCheck?
        let handler: Handler
    }

    /// What `lookup` found: the match and the matched route's options.
    struct Lookup {
        let match: RouteMatch
        /// The route's own body limit; nil for the server's.
        var maxBodyBytes: Int? = nil
        /// When the handler runs on the event loop thread; nil for never.
        var eventLoopCondition: EventLoopCondition? = nil
        /// Whether the body goes to a file rather than into memory.
        var spoolsBody = false
        /// The route's answer from the head alone, for a client that awaits `100 Continue`.
        var headCheck: HeadCheck? = nil
    }

    /// The registered routes in the order added; guarded by its own lock.
    private let table = Mutex<[Route]>([])

    /// Creates a router with no routes.
    package init() {}

    /// Registers `handler` for `method` (for example `GET`) and `pattern` (for example
    /// `/v1/jobs/:id`).
    ///
    /// The pattern must start with `/`, parameter names must be non-empty and distinct, and a
    /// method and pattern pair may be added once; breaking these is a programming error.
    ///
    /// - Parameters:
    ///   - maxBodyBytes: the largest request body this route accepts (413 beyond it), for
    ///     example more than the server's `maxBodyBytes` for an upload; nil keeps the
    ///     server's limit. Must be positive.
    ///   - runsOnEventLoop: runs the handler on the event loop thread itself instead of a
    ///     worker thread, saving two thread hand-offs per request. Only for handlers that
    ///     never block and return within microseconds (a health check, a constant answer):
    ///     while one runs, no other connection is served. When several such requests are ready
    ///     at once, some run on the loop's one helper thread instead (`LoopHelper`). A stream it
    ///     returns still runs on a worker thread, and a response the socket cannot take at once
    ///     is finished later without blocking.
    ///   - runsOnEventLoopWhen: runs the handler on the event loop for the requests this
    ///     condition accepts (asked on the loop once the body is complete), and on a worker
    ///     thread for the others; for a handler that is quick only for small inputs.
    ///   - spoolsBody: writes the body to a temporary file in the server's `spoolDirectory` as
    ///     it arrives, instead of holding it in memory; the handler finds it in
    ///     `HTTPRequest.bodyFile` (and `body` empty). For uploads: memory stays bounded by the
    ///     read buffer whatever the body's size.
    ///   - refusingBeforeBody: for a request that sends `Expect: 100-continue`, asked before
    ///     `100 Continue` is sent; a response it returns (a missing credential's 401, say) is
    ///     sent at once and the connection closed, so the client never sends a body that
    ///     would be refused anyway. Requests without the expectation go to the handler, which
    ///     must make the same check itself.
    package func add(
        _ method: String, _ pattern: String, maxBodyBytes: Int? = nil,
        runsOnEventLoop: Bool = false, runsOnEventLoopWhen condition: EventLoopCondition? = nil,
        spoolsBody: Bool = false, refusingBeforeBody headCheck: HeadCheck? = nil,
        _ handler: @escaping Handler
    ) {
        precondition((maxBodyBytes ?? 1) > 0, "route \(method) \(pattern): maxBodyBytes must be > 0")
        precondition(pattern.hasPrefix("/"), "route pattern '\(pattern)' must start with '/'")
        let segments = Self.split(pattern).map { text -> Segment in
            text.hasPrefix(":") ? .parameter(String(text.dropFirst())) : .literal(text)
        }
        let names = segments.compactMap { if case .parameter(let name) = $0 { name } else { nil } }
        precondition(
            !names.contains("") && Set(names).count == names.count,
            "route pattern '\(pattern)' has an empty or repeated parameter name")

        let always: EventLoopCondition = { _ in true }
        let route = Route(
            method: method, pattern: pattern, segments: segments, maxBodyBytes: maxBodyBytes,
            eventLoopCondition: runsOnEventLoop ? always : condition, spoolsBody: spoolsBody,
            headCheck: headCheck, handler: handler)
        self.table.withLock { routes in
            precondition(
                !routes.contains { $0.method == method && $0.segments == segments },
                "route \(method) \(pattern) is already registered")
            routes.append(route)
        }
    }

    /// The registered method and pattern pairs, in the order added.
    package var routes: [(method: String, pattern: String)] {
        self.table.withLock { $0.map { (method: $0.method, pattern: $0.pattern) } }
    }

    /// Looks up a raw (still percent-encoded) path such as `/v1/jobs/a%20b`; a path that does
    /// not decode matches nothing.
    package func match(method: String, path: String) -> RouteMatch {
        var segments: [String] = []
        for raw in Self.split(path) {
            guard let segment = percentDecoded(Substring(raw), plusAsSpace: false) else {
                return .notFound
            }
            segments.append(segment)
        }
        return self.match(method: method, segments: segments)
    }

    /// Looks up decoded path segments, as `RequestTarget.segments` gives them.
    package func match(method: String, segments: [String]) -> RouteMatch {
        self.lookup(method: method, segments: segments).match
    }

    /// Looks up decoded path segments and also returns the matched route's options.
    ///
    /// Runs for every request on the event loop, so it binds routes in place under the lock
    /// rather than copying them.
    func lookup(method: String, segments: [String]) -> Lookup {
        self.table.withLock { routes in
            var candidates: [(index: Int, parameters: [String: String])] = []
            // By index, not by value: copying each `Route` would retain its five references.
            for index in routes.indices where routes[index].segments.count == segments.count {
                if let parameters = Self.bind(routes[index].segments, to: segments) {
                    candidates.append((index, parameters))
                }
            }
            guard !candidates.isEmpty else { return Lookup(match: .notFound) }

            func best(for method: String) -> (index: Int, parameters: [String: String])? {
                candidates.filter { routes[$0.index].method == method }.max {
                    Self.isLessSpecific(routes[$0.index].segments, than: routes[$1.index].segments)
                }
            }
            if let hit = best(for: method) ?? (method == "HEAD" ? best(for: "GET") : nil) {
                let route = routes[hit.index]
                return Lookup(
                    match: .matched(route.handler, parameters: hit.parameters),
                    maxBodyBytes: route.maxBodyBytes, eventLoopCondition: route.eventLoopCondition,
                    spoolsBody: route.spoolsBody, headCheck: route.headCheck)
            }
            var allowed = Set(candidates.map { routes[$0.index].method })
            if allowed.contains("GET") { allowed.insert("HEAD") }
            return Lookup(match: .methodNotAllowed(allowed: Self.ordered(allowed)))
        }
    }

    // MARK: - Matching

    /// The segments of a path: `/` gives `[""]`, `/a/b` gives `["a", "b"]`.
    private static func split(_ path: String) -> [String] {
        path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    }

    /// The parameters `pattern` captures from `segments`, or nil when it does not match.
    private static func bind(_ pattern: [Segment], to segments: [String]) -> [String: String]? {
        guard pattern.count == segments.count else { return nil }
        // Every route of the path's length is tried on every request, and most fail on a
        // literal after a parameter (`/v1/models/:id/weights` for an encode): the dictionary
        // is built only once the whole pattern matched.
        for (part, segment) in zip(pattern, segments) {
            switch part {
            case .literal(let text): guard text == segment else { return nil }
            case .parameter: guard !segment.isEmpty else { return nil }
            }
        }
        var parameters: [String: String] = [:]
        for (part, segment) in zip(pattern, segments) {
            if case .parameter(let name) = part { parameters[name] = segment }
        }
        return parameters
    }

    /// Whether `lhs` has a parameter where `rhs` first differs from it with a literal.
    private static func isLessSpecific(_ lhs: [Segment], than rhs: [Segment]) -> Bool {
        for (left, right) in zip(lhs, rhs) {
            switch (left, right) {
            case (.parameter, .literal): return true
            case (.literal, .parameter): return false
            default: continue
            }
        }
        return false
    }

    /// Methods in the conventional order, unknown ones last alphabetically.
    private static func ordered(_ methods: Set<String>) -> [String] {
        let order = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        return order.filter(methods.contains) + methods.subtracting(order).sorted()
    }
}

extension RouteMatch {
    /// The 404 or 405 response for a failed match; nil for `.matched`.
    package func errorResponse(method: String, path: String) -> HTTPResponse? {
        switch self {
        case .matched:
            return nil
        case .notFound:
            return .error(status: 404, code: "not_found", message: "no route for \(method) \(path)")
        case .methodNotAllowed(let allowed):
            let allow = allowed.joined(separator: ", ")
            return .error(
                status: 405, code: "method_not_allowed",
                message: "method \(method) is not allowed on \(path); allowed: \(allow)",
                headers: ["Allow": allow])
        }
    }
}
