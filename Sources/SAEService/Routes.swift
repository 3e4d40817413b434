import Foundation
import HTTPServer
import SAECore

/// The HTTP API: each route parses and validates its request, calls the service and renders
/// JSON. Every error leaves as `{"error": {"code", "message", "field"?}}`.
struct Routes: Sendable {
    let service: Service

    /// Routes whose bodies may be as large as `max_upload_bytes` rather than `max_body_bytes`.
    static let uploadRoutes: Set<String> = ["POST /v1/datasets", "POST /v1/models"]

    /// Routes whose body is JSON, and whether they also take raw float32 rows.
    static let jsonBodyRoutes: [String: Bool] = [
        "POST /v1/jobs": false, "POST /v1/jobs:validate": false,
        "POST /v1/models/:id/encode": true, "POST /v1/models/:id/reconstruct": true,
        "POST /v1/models/:id/decode": true,
    ]

    /// Throws 415 for a body whose `Content-Type` is neither JSON nor, where `allowsRaw`,
    /// raw rows. No type at all is read as JSON. Refusing the form and text types a browser
    /// may send from any page without asking first keeps other sites from posting jobs.
    static func checkJSONBodyType(_ request: HTTPRequest, allowsRaw: Bool) throws {
        guard let header = request.headers["Content-Type"] else { return }
        let mediaType = Self.mediaType(of: header)
        let isJSON = mediaType == "application/json"
            || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
        if mediaType.isEmpty || isJSON || (allowsRaw && mediaType == binaryMediaType) { return }
        let wanted = allowsRaw ? "application/json, or application/octet-stream for raw float32 rows"
            : "application/json"
        throw ServiceError.unsupportedMediaType(
            "Content-Type \(mediaType.prefix(100)) is not a body this route reads; send \(wanted)")
    }

    /// The media type of a `Content-Type` value: what precedes its first `;`, trimmed of
    /// whitespace and lowercased.
    ///
    /// An ASCII value, as every client sends, is read byte by byte: for ASCII, Foundation's
    /// `.whitespaces` is just space and tab, and this runs on every encode request, where
    /// Foundation's trimming cost more than the encoding's arithmetic. Other values take the
    /// Foundation path, which also trims Unicode spaces.
    static func mediaType(of header: String) -> String {
        let bytes = header.utf8
        guard bytes.allSatisfy({ $0 < 0x80 }) else {
            return header.split(separator: ";", omittingEmptySubsequences: false).first
                .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        }
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        let type = bytes.prefix { $0 != UInt8(ascii: ";") }
        guard let first = type.firstIndex(where: { !isSpace($0) }),
              let last = type.lastIndex(where: { !isSpace($0) })
        else { return "" }
        let lowercased = type[first...last].map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        return String(decoding: lowercased, as: UTF8.self)
    }

    /// Throws 400 naming the first query parameter given more than once (`?n=1&n=2`): which
    /// of the values was meant cannot be told, so no route picks one.
    static func checkQueryNamesAreSingle(_ request: HTTPRequest) throws {
        guard let name = request.repeatedQueryNames.first else { return }
        throw ServiceError.invalidField(
            path: name, message: "is given more than once in the query; give it once")
    }

    /// The request headers the routes read, each of which holds one value.
    static let singleHeaders = ["Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "X-Rows"]

    /// Throws 400 naming the first of `singleHeaders` sent more than once: with two
    /// `Content-Type` fields the 415 check and the body's reader could each take another.
    static func checkHeadersAreSingle(_ request: HTTPRequest) throws {
        if let name = request.headers.firstRepeatedName(among: singleHeaders) {
            throw ServiceError.invalidField(path: name, message: "is sent more than once; send it once")
        }
    }

    /// Upload routes whose bodies are written to the spool directory as they arrive rather
    /// than held in memory.
    static let spooledRoutes: Set<String> = ["POST /v1/datasets"]

    /// Registers every route on `server`.
    ///
    /// Routes are first collected on a staging router, whoever registers them, and then
    /// mounted on the server's router behind one gate: the bearer-token check for `/v1`
    /// routes and the request metrics. So no route can be added that skips either.
    func register(on server: Router) {
        let router = Router()
        add(router, "GET", "/healthz") { _ in .json(200, Array(#"{"status":"ok"}"#.utf8)) }
        add(router, "POST", "/v1/jobs", submitJob)
        add(router, "POST", "/v1/jobs:validate", validateJob)
        add(router, "GET", "/v1/jobs", listJobs)
        add(router, "GET", "/v1/jobs/:id", showJob)
        add(router, "DELETE", "/v1/jobs/:id", deleteJob)
        add(router, "GET", "/v1/jobs/:id/metrics", jobMetrics)
        add(router, "POST", "/v1/jobs/:id/cancel", cancelJob)
        add(router, "GET", "/v1/jobs/:id/events", streamEvents)
        registerModelRoutes(on: router)
        registerDatasetRoutes(on: router)
        registerOperationRoutes(on: router)
        registerVisuals(on: router)
        mount(router, on: server)
    }

    /// Registers a handler whose thrown errors become the service's JSON error responses.
    func add(_ router: Router, _ method: String, _ pattern: String,
             _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        let logger = service.logger
        router.add(method, pattern) { request in
            do {
                return try handler(request)
            } catch {
                if !(error is ServiceError) && !(error is any HTTPError) {
                    logger.error("request failed", ["http.path": request.path, "error": "\(error)"])
                }
                return errorResponse(for: error)
            }
        }
    }

    /// The 401 a request gets from its head alone when it lacks `auth`'s token; nil when it
    /// carries it.
    private static func tokenCheck(_ auth: BearerAuth) -> HeadCheck {
        { headers in
            do {
                try auth.check(headers)
                return nil
            } catch {
                return errorResponse(for: error)
            }
        }
    }

    /// Copies every route of `staging` onto `server`, wrapped in the gate.
    private func mount(_ staging: Router, on server: Router) {
        let (auth, metrics, logger) = (service.auth, service.metrics, service.logger)
        for route in staging.routes {
            // A pattern's own segments match it and nothing more specific: a `:name` segment
            // can equal no literal, because literals never start with ':'.
            let segments = route.pattern.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
                .map(String.init)
            guard case .matched(let handler, _) = staging.match(method: route.method, segments: segments) else {
                preconditionFailure("route \(route.method) \(route.pattern) does not match its own pattern")
            }
            let isProtected = BearerAuth.protects(pattern: route.pattern)
            let key = "\(route.method) \(route.pattern)"
            // Every `:id` is checked here, so no route can look one up that is not an id.
            let takesID = segments.contains(":id")
            let isUpload = Self.uploadRoutes.contains(key)
            let jsonBody = Self.jsonBodyRoutes[key]
            let pattern = route.pattern
            // The liveness probe never blocks, so it answers from the event loop itself.
            let isLiveness = pattern == "/healthz"
            // A client awaiting `100 Continue` without the token is refused before it sends the body.
            let headCheck = isProtected && auth.isEnabled ? Self.tokenCheck(auth) : nil
            server.add(route.method, pattern, maxBodyBytes: isUpload ? service.config.maxUploadBytes : nil,
                       runsOnEventLoop: isLiveness, runsOnEventLoopWhen: eventLoopCondition(for: key),
                       spoolsBody: Self.spooledRoutes.contains(key), refusingBeforeBody: headCheck) { request in
                let started = DispatchTime.now().uptimeNanoseconds
                let response: HTTPResponse
                do {
                    try Self.checkHeadersAreSingle(request)
                    if isProtected { try auth.check(request) }
                    try Self.checkQueryNamesAreSingle(request)
                    if takesID { _ = try ResourceID.checked(request.pathParameters["id"] ?? "") }
                    if let allowsRaw = jsonBody { try Self.checkJSONBodyType(request, allowsRaw: allowsRaw) }
                    response = try handler(request)
                } catch {
                    response = errorResponse(for: error)
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                metrics.observeRequest(
                    method: request.method, route: pattern, status: response.status, seconds: seconds)
                if logger.level <= .debug {
                    logger.debug("request", ["http.method": request.method, "http.route": pattern,
                                             "http.status": "\(response.status)"])
                }
                return response
            }
        }
    }

    // MARK: - Jobs

    private func submitJob(_ request: HTTPRequest) throws -> HTTPResponse {
        let spec = try JobSpec.parse(JSONValue.parse(request.body))
        let key = request.headers["Idempotency-Key"]
        if let key, key.isEmpty || key.count > 255 {
            throw ServiceError.invalidField(path: "Idempotency-Key", message: "must be 1 to 255 characters")
        }
        let (job, isNew) = try service.jobs.submit(spec, idempotencyKey: key)
        var headers = HTTPHeaders()
        headers.add("Location", "/v1/jobs/\(job.id)")
        return .json(isNew ? 202 : 200, try APIJSON.bytes(JobView(job, detailed: true)), headers: headers)
    }

    private func validateJob(_ request: HTTPRequest) throws -> HTTPResponse {
        let spec = try JobSpec.parse(JSONValue.parse(request.body))
        try service.jobs.validate(spec)
        return .json(200, try APIJSON.bytes(["valid": JSONValue.bool(true), "spec": spec.json]))
    }

    private func deleteJob(_ request: HTTPRequest) throws -> HTTPResponse {
        try service.jobs.delete(id: request.pathParameters["id"] ?? "")
        return HTTPResponse(status: 204)
    }

    /// The epoch history, a page at a time: `after` is the last epoch already seen.
    private func jobMetrics(_ request: HTTPRequest) throws -> HTTPResponse {
        let job = try service.jobs.job(id: request.pathParameters["id"] ?? "")
        let after = try request.query["after"].map { try Self.queryInteger($0, name: "after", in: 0...Int(Int32.max)) } ?? 0
        let limit = try request.query["limit"].map { try Self.queryInteger($0, name: "limit", in: 1...10_000) } ?? 1000
        let page = Array(job.history.filter { $0.epoch > after }.prefix(limit))
        let hasMore = job.history.contains { $0.epoch > (page.last?.epoch ?? after) }
        return .json(200, try APIJSON.bytes(MetricsPage(metrics: page, nextAfter: hasMore ? page.last?.epoch : nil)))
    }

    private func listJobs(_ request: HTTPRequest) throws -> HTTPResponse {
        var state: JobState?
        if let text = request.query["state"] {
            guard let parsed = JobState(rawValue: text) else {
                let allowed = JobState.allCases.map(\.rawValue).joined(separator: ", ")
                throw ServiceError.invalidField(path: "state", message: "must be one of \(allowed), got \"\(text)\"")
            }
            state = parsed
        }
        let limit = try request.query["limit"].map { try Self.queryInteger($0, name: "limit", in: 1...1000) } ?? 100
        var cursor: JobCursor?
        if let token = request.query["page_token"] {
            guard let parsed = JobCursor(token: token) else {
                throw ServiceError.invalidField(path: "page_token", message: "is not a token this server gave out")
            }
            cursor = parsed
        }
        let (jobs, next) = service.jobs.page(state: state, limit: limit, after: cursor)
        return .json(200, try APIJSON.bytes(JobPage(jobs: jobs.map { JobView($0, detailed: false) },
                                                nextPageToken: next?.token)))
    }

    private func showJob(_ request: HTTPRequest) throws -> HTTPResponse {
        let job = try service.jobs.job(id: request.pathParameters["id"] ?? "")
        return .json(200, try APIJSON.bytes(JobView(job, detailed: true)))
    }

    private func cancelJob(_ request: HTTPRequest) throws -> HTTPResponse {
        let job = try service.jobs.cancel(id: request.pathParameters["id"] ?? "")
        return .json(202, try APIJSON.bytes(JobView(job, detailed: true)))
    }

    private func streamEvents(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = request.pathParameters["id"] ?? ""
        _ = try service.jobs.job(id: id)  // 404 before the stream starts
        // Both are checked; the header, which a reconnecting EventSource sends, wins.
        let afterQuery = try request.query["after"].map {
            try Self.queryInteger($0, name: "after", in: 0...Int(Int32.max))
        }
        let afterHeader = try request.headers["Last-Event-ID"].map {
            try Self.queryInteger($0, name: "Last-Event-ID", in: 0...Int(Int32.max))
        }
        let after = afterHeader ?? afterQuery ?? 0
        let format = request.query["format"] ?? "sse"
        guard format == "sse" || format == "ndjson" else {
            throw ServiceError.invalidField(path: "format", message: "must be \"sse\" or \"ndjson\", got \"\(format)\"")
        }
        let isNDJSON = format == "ndjson"
        var headers = HTTPHeaders()
        headers.add("Content-Type", isNDJSON ? "application/x-ndjson" : "text/event-stream")
        headers.add("Cache-Control", "no-cache")
        let stream = EventStream(jobs: service.jobs, jobID: id, after: after, isNDJSON: isNDJSON,
                                 heartbeatSeconds: service.config.heartbeatSeconds)
        return HTTPResponse(status: 200, headers: headers, body: .stream { writer in stream.run(writer) })
    }

    // MARK: - Helpers

    /// Reads an array of equal-width numeric rows into one row-major buffer, naming the first
    /// bad row or value.
    static func matrix(_ value: JSONValue?, field: String, width: Int, maxRows: Int) throws -> (Int, [Float]) {
        guard let value else { throw ServiceError.invalidField(path: field, message: "is required") }
        guard case .array(let rows) = value else {
            throw ServiceError.invalidField(path: field, message: "must be an array of rows, got \(value.typeName)")
        }
        guard !rows.isEmpty else { throw ServiceError.invalidField(path: field, message: "must hold at least one row") }
        guard rows.count <= maxRows else {
            throw ServiceError.invalidField(path: field, message: "holds \(rows.count) rows; the limit is \(maxRows)")
        }
        var buffer = [Float](repeating: 0, count: rows.count * width)
        for (index, row) in rows.enumerated() {
            guard case .array(let values) = row else {
                throw ServiceError.invalidField(path: "\(field)[\(index)]", message: "must be an array of numbers, got \(row.typeName)")
            }
            guard values.count == width else {
                throw ServiceError.invalidField(
                    path: "\(field)[\(index)]", message: "expected \(width) values, got \(values.count)")
            }
            for (column, item) in values.enumerated() {
                guard case .number(let number) = item else {
                    throw ServiceError.invalidField(path: "\(field)[\(index)][\(column)]", message: "must be a number, got \(item.typeName)")
                }
                let float = Float(number)
                guard float.isFinite else {
                    throw ServiceError.invalidField(
                        path: "\(field)[\(index)][\(column)]", message: "\(MatrixJSON.finiteRule), got \(number)")
                }
                buffer[index * width + column] = float
            }
        }
        return (rows.count, buffer)
    }


    static func queryInteger(_ text: String, name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ServiceError.invalidField(
                path: name, message: "must be a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(text)\"")
        }
        return value
    }
}

struct JobPage: Encodable {
    var jobs: [JobView]
    var nextPageToken: String?

    // The token shows as null on the last page.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jobs, forKey: .jobs)
        try container.encode(nextPageToken, forKey: .nextPageToken)
    }

    enum CodingKeys: String, CodingKey { case jobs, nextPageToken }
}

struct MetricsPage: Encodable {
    var metrics: [EpochRecord]
    var nextAfter: Int?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(metrics, forKey: .metrics)
        try container.encode(nextAfter, forKey: .nextAfter)
    }

    enum CodingKeys: String, CodingKey { case metrics, nextAfter }
}

/// A job as the API shows it.
struct JobView: Encodable {
    var id: String
    var name: String?
    var state: JobState
    var progress: Double
    var epoch: Int
    var epochs: Int
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var error: JobFailure?
    var modelID: String?
    var latest: EpochRecord?
    var spec: JSONValue?
    var history: [EpochRecord]?

    init(_ job: Job, detailed: Bool) {
        id = job.id
        name = job.name
        state = job.state
        progress = job.progress
        epoch = job.history.count
        epochs = job.epochs
        createdAt = job.createdAt
        startedAt = job.startedAt
        finishedAt = job.finishedAt
        error = job.error
        modelID = job.modelID
        latest = job.history.last
        spec = detailed ? job.spec : nil
        history = detailed ? job.history : nil
    }

    // Absent values show as null, so clients see every field of the job every time.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(state, forKey: .state)
        try container.encode(progress, forKey: .progress)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(epochs, forKey: .epochs)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(error, forKey: .error)
        try container.encode(modelID, forKey: .modelID)
        try container.encode(latest, forKey: .latest)
        try container.encodeIfPresent(spec, forKey: .spec)
        try container.encodeIfPresent(history, forKey: .history)
    }

    enum CodingKeys: String, CodingKey {
        case id, name, state, progress, epoch, epochs, createdAt, startedAt, finishedAt, error, modelID, latest
        case spec, history
    }
}
