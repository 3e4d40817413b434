import Foundation
import HTTPServer
import SAECore

/// The HTTP API: each route parses and validates its request, calls the service and renders
/// JSON. Every error leaves as `{"error": {"code", "message", "field"?}}`.
struct Routes: Sendable {
    let service: Service

    func register(on router: Router) {
        add(router, "GET", "/healthz") { _ in .json(200, Array(#"{"status":"ok"}"#.utf8)) }
        add(router, "POST", "/v1/jobs", submitJob)
        add(router, "POST", "/v1/jobs:validate", validateJob)
        add(router, "GET", "/v1/jobs", listJobs)
        add(router, "GET", "/v1/jobs/:id", showJob)
        add(router, "DELETE", "/v1/jobs/:id", deleteJob)
        add(router, "GET", "/v1/jobs/:id/metrics", jobMetrics)
        add(router, "POST", "/v1/jobs/:id/cancel", cancelJob)
        add(router, "GET", "/v1/jobs/:id/events", streamEvents)
        add(router, "GET", "/v1/models", listModels)
        add(router, "GET", "/v1/models/:id", showModel)
        add(router, "POST", "/v1/models/:id/encode", encode)
        add(router, "POST", "/v1/models/:id/reconstruct", reconstruct)
        add(router, "POST", "/v1/models/:id/decode", decode)
        registerVisuals(on: router)
    }

    /// Registers a handler whose thrown errors become the service's JSON error responses.
    private func add(_ router: Router, _ method: String, _ pattern: String,
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
        return .json(isNew ? 202 : 200, APIJSON.bytes(JobView(job, detailed: true)), headers: headers)
    }

    private func validateJob(_ request: HTTPRequest) throws -> HTTPResponse {
        let spec = try JobSpec.parse(JSONValue.parse(request.body))
        try service.jobs.validate(spec)
        return .json(200, APIJSON.bytes(["valid": JSONValue.bool(true), "spec": spec.json]))
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
        return .json(200, APIJSON.bytes(MetricsPage(metrics: page, nextAfter: hasMore ? page.last?.epoch : nil)))
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
        return .json(200, APIJSON.bytes(JobPage(jobs: jobs.map { JobView($0, detailed: false) },
                                                nextPageToken: next?.token)))
    }

    private func showJob(_ request: HTTPRequest) throws -> HTTPResponse {
        let job = try service.jobs.job(id: request.pathParameters["id"] ?? "")
        return .json(200, APIJSON.bytes(JobView(job, detailed: true)))
    }

    private func cancelJob(_ request: HTTPRequest) throws -> HTTPResponse {
        let job = try service.jobs.cancel(id: request.pathParameters["id"] ?? "")
        return .json(202, APIJSON.bytes(JobView(job, detailed: true)))
    }

    private func streamEvents(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = request.pathParameters["id"] ?? ""
        _ = try service.jobs.job(id: id)  // 404 before the stream starts
        let resumeFrom = request.headers["Last-Event-ID"] ?? request.query["after"]
        let after = try resumeFrom.map { try Self.queryInteger($0, name: "after", in: 0...Int(Int32.max)) } ?? 0
        let isNDJSON = request.query["format"] == "ndjson"
        var headers = HTTPHeaders()
        headers.add("Content-Type", isNDJSON ? "application/x-ndjson" : "text/event-stream")
        headers.add("Cache-Control", "no-cache")
        let stream = EventStream(jobs: service.jobs, jobID: id, after: after, isNDJSON: isNDJSON,
                                 heartbeatSeconds: service.config.heartbeatSeconds)
        return HTTPResponse(status: 200, headers: headers, body: .stream { writer in stream.run(writer) })
    }

    // MARK: - Models

    private func listModels(_ request: HTTPRequest) throws -> HTTPResponse {
        .json(200, APIJSON.bytes(["models": service.models.list()]))
    }

    private func showModel(_ request: HTTPRequest) throws -> HTTPResponse {
        .json(200, APIJSON.bytes(try service.models.info(id: request.pathParameters["id"] ?? "")))
    }

    private func encode(_ request: HTTPRequest) throws -> HTTPResponse {
        let (model, body) = try modelAndBody(request)
        var reader = try JSONObjectReader(body, path: "")
        let (rows, inputs) = try Self.matrix(reader.value("inputs"), field: "inputs",
                                             width: model.config.inputSize, maxRows: service.config.maxEncodeRows)
        let format = try reader.string("format") ?? "dense"
        try reader.rejectUnknownFields()
        let codes = model.encode(inputs, rows: rows)
        let width = model.config.hiddenSize
        switch format {
        case "dense":
            return .json(200, APIJSON.bytes(["codes": Self.rows(codes, width: width)]))
        case "sparse":
            let sparse = (0..<rows).map { row in SparseRow(codes[row * width..<(row + 1) * width]) }
            return .json(200, APIJSON.bytes(["codes": sparse]))
        default:
            throw ServiceError.invalidField(path: "format", message: "must be \"dense\" or \"sparse\", got \"\(format)\"")
        }
    }

    private func reconstruct(_ request: HTTPRequest) throws -> HTTPResponse {
        let (model, body) = try modelAndBody(request)
        var reader = try JSONObjectReader(body, path: "")
        let width = model.config.inputSize
        let (rows, inputs) = try Self.matrix(reader.value("inputs"), field: "inputs",
                                             width: width, maxRows: service.config.maxEncodeRows)
        try reader.rejectUnknownFields()
        let outputs = model.reconstruct(inputs, rows: rows)
        let mse = (0..<rows).map { row in
            var sum = 0.0
            for column in row * width..<(row + 1) * width {
                let difference = Double(outputs[column] - inputs[column])
                sum += difference * difference
            }
            return sum / Double(width)
        }
        return .json(200, APIJSON.bytes(ReconstructResponse(reconstructions: Self.rows(outputs, width: width), mse: mse)))
    }

    private func decode(_ request: HTTPRequest) throws -> HTTPResponse {
        let (model, body) = try modelAndBody(request)
        var reader = try JSONObjectReader(body, path: "")
        let (rows, codes) = try Self.matrix(reader.value("codes"), field: "codes",
                                            width: model.config.hiddenSize, maxRows: service.config.maxEncodeRows)
        try reader.rejectUnknownFields()
        let outputs = model.decode(codes, rows: rows)
        return .json(200, APIJSON.bytes(["outputs": Self.rows(outputs, width: model.config.inputSize)]))
    }

    private func modelAndBody(_ request: HTTPRequest) throws -> (Autoencoder, JSONValue) {
        let model = try service.models.model(id: request.pathParameters["id"] ?? "")
        return (model, try JSONValue.parse(request.body))
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
                    throw ServiceError.invalidField(path: "\(field)[\(index)][\(column)]", message: "must be finite, got \(number)")
                }
                buffer[index * width + column] = float
            }
        }
        return (rows.count, buffer)
    }

    static func rows(_ values: [Float], width: Int) -> [[Float]] {
        stride(from: 0, to: values.count, by: width).map { Array(values[$0..<$0 + width]) }
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

/// A code row as its non-zero entries.
struct SparseRow: Encodable {
    var indices: [Int] = []
    var values: [Float] = []

    init(_ row: ArraySlice<Float>) {
        for (offset, value) in row.enumerated() where value != 0 {
            indices.append(offset)
            values.append(value)
        }
    }
}

struct ReconstructResponse: Encodable {
    var reconstructions: [[Float]]
    var mse: [Double]
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
