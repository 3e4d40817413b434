import Foundation
import HTTPServer
import SAECore

/// The model routes: list, show, import, download, delete, and running rows through a model.
///
/// Encode, reconstruct and decode take JSON rows, or raw little-endian float32 rows when the
/// request's `Content-Type` is `application/octet-stream`; a raw request gets a raw answer
/// with `X-Rows` and `X-Columns` saying its shape.
extension Routes {
    func registerModelRoutes(on router: Router) {
        add(router, "GET", "/v1/models", listModels)
        add(router, "POST", "/v1/models", importModel)
        add(router, "GET", "/v1/models/:id", showModel)
        add(router, "DELETE", "/v1/models/:id", deleteModel)
        add(router, "GET", "/v1/models/:id/weights", downloadWeights)
        add(router, "POST", "/v1/models/:id/encode", encode)
        add(router, "POST", "/v1/models/:id/reconstruct", reconstruct)
        add(router, "POST", "/v1/models/:id/decode", decode)
    }

    /// When a model route runs on the event loop (see `runsOnEventLoop`); nil for the routes
    /// that always run on a worker thread. `key` is `METHOD /pattern`.
    func eventLoopCondition(for key: String) -> EventLoopCondition? {
        switch key {
        case "POST /v1/models/:id/encode": { [self] request in runsOnEventLoop(request, passes: 1) }
        case "POST /v1/models/:id/reconstruct": { [self] request in runsOnEventLoop(request, passes: 2) }
        default: nil
        }
    }

    /// The most multiply-adds a request may need (estimated from its body) to run on the event
    /// loop: about 0.1 to 0.2 ms of work. Larger requests go to a worker thread.
    static let eventLoopWork = 1 << 21

    /// When an encode (`passes` 1) or reconstruct (`passes` 2) request is answered on the event
    /// loop: when its model's weights are in memory already (no disk read) and its rows are
    /// few. The body holds at most `bytes / 2` numbers (`0,` is the shortest JSON number), so
    /// the work is at most that many inputs times the hidden size per pass. One row of 784
    /// inputs through 128 latents qualifies; it saves two thread hand-offs, which cost more
    /// than the encoding.
    func runsOnEventLoop(_ request: HTTPRequest, passes: Int) -> Bool {
        guard let id = request.pathParameters["id"], let config = service.models.loadedConfig(id: id) else {
            return false
        }
        let (inputs, overflow) = (request.body.count / 2).multipliedReportingOverflow(by: config.hiddenSize * passes)
        return !overflow && inputs <= Self.eventLoopWork
    }

    /// The `application/octet-stream` media type of raw float32 rows and downloads.
    static let binaryMediaType = "application/octet-stream"

    // MARK: - Stored models

    private func listModels(_ request: HTTPRequest) throws -> HTTPResponse {
        .json(200, try APIJSON.bytes(["models": service.models.list()]))
    }

    private func showModel(_ request: HTTPRequest) throws -> HTTPResponse {
        .json(200, try APIJSON.bytes(try service.models.info(id: modelID(request))))
    }

    /// `POST /v1/models?name=`: a safetensors body becomes a new model (201 with its info).
    ///
    /// The body is the safetensors file itself, or a `multipart/form-data` form (`curl -F`)
    /// with the file as part `weights` and, optionally, the model's `cfg.json` as part `config`.
    private func importModel(_ request: HTTPRequest) throws -> HTTPResponse {
        let name = try Self.nameQuery(request)
        var weights = request.body
        var configJSON: [UInt8]?
        if let boundary = try MultipartForm.boundary(ofContentType: request.headers["Content-Type"]) {
            var form = try MultipartForm(request.body, boundary: boundary)
            guard let part = form.parts.removeValue(forKey: "weights") else {
                throw ServiceError.invalidField(
                    path: "weights", message: "is missing; send the safetensors file as form part \"weights\"")
            }
            weights = part
            configJSON = form.parts.removeValue(forKey: ImportedModelConfig.path)
            if let extra = form.parts.keys.sorted().first {
                throw ServiceError.unknownField(path: extra)
            }
        }
        guard !weights.isEmpty else {
            throw ServiceError.invalidField(path: "(body)", message: "is empty; send a safetensors file")
        }
        let info = try service.models.importWeights(weights, configJSON: configJSON, name: name)
        var headers = HTTPHeaders()
        headers.add("Location", "/v1/models/\(info.id)")
        return .json(201, try APIJSON.bytes(info), headers: headers)
    }

    /// `DELETE /v1/models/ID`: 204, or 409 while a job that has not ended starts from it
    /// (`init_from`). Checked with submissions held, as a dataset delete is.
    private func deleteModel(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try modelID(request)
        _ = try service.models.info(id: id)
        try service.jobs.withSubmissionsHeld { unfinished in
            let user = unfinished.first { job in
                if case .object(let fields) = job.spec, case .string(id)? = fields["init_from"] { return true }
                return false
            }
            if let user {
                throw ServiceError.invalidState(
                    "model \(id) is the init_from of job \(user.id), which is \(user.state.rawValue); "
                        + "cancel it or wait for it to end")
            }
            try service.models.delete(id: id)
        }
        return HTTPResponse(status: 204)
    }

    /// `GET /v1/models/ID/weights`: the `model.safetensors` file as it is stored.
    private func downloadWeights(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try modelID(request)
        let bytes: [UInt8]
        do {
            bytes = try AtomicFile.read(contentsOf: try service.models.weightsURL(id: id))
        } catch DataError.fileNotFound {
            // Deleted between the lookup and the read.
            throw ServiceError.modelNotFound(id)
        }
        var headers = HTTPHeaders()
        headers.add("Content-Type", Self.binaryMediaType)
        headers.add("Content-Disposition", "attachment; filename=\"\(id).safetensors\"")
        return HTTPResponse(status: 200, headers: headers, body: .bytes(bytes))
    }

    // MARK: - Running rows through a model

    private func encode(_ request: HTTPRequest) throws -> HTTPResponse {
        let model = try service.models.servedModel(id: modelID(request))
        let width = model.config.hiddenSize
        if Self.isBinary(request) {
            let (rows, inputs) = try rawRows(request, width: model.config.inputSize)
            if let format = request.query["format"], format != "dense" {
                throw ServiceError.invalidField(
                    path: "format", message: "raw float32 answers are dense, got \"\(format)\"")
            }
            let codes = try model.encode(inputs, rows: rows)
            service.metrics.observeRows(rows, operation: "encode")
            return Self.rawResponse(codes, rows: rows, columns: width)
        }
        let body = try MatrixJSON.parse(request.body, field: "inputs", width: model.config.inputSize,
                                        maxRows: service.config.maxEncodeRows)
        var reader = try JSONObjectReader(.object(body.fields), path: "")
        let format = try reader.string("format") ?? "dense"
        try reader.rejectUnknownFields()
        try Self.checkDeclaredRows(request, rows: body.rows)
        guard format == "dense" || format == "sparse" else {
            throw ServiceError.invalidField(
                path: "format", message: "must be \"dense\" or \"sparse\", got \"\(format)\"")
        }
        let codes = try model.encode(body.values, rows: body.rows)
        service.metrics.observeRows(body.rows, operation: "encode")
        var out = Array(#"{"codes":"#.utf8)
        if format == "dense" {
            try MatrixJSON.appendRows(codes, width: width, to: &out, what: "codes")
        } else {
            try MatrixJSON.appendSparseRows(codes, width: width, to: &out, what: "codes")
        }
        out.append(UInt8(ascii: "}"))
        return .json(200, out)
    }

    private func reconstruct(_ request: HTTPRequest) throws -> HTTPResponse {
        let model = try service.models.servedModel(id: modelID(request))
        let width = model.config.inputSize
        if Self.isBinary(request) {
            let (rows, inputs) = try rawRows(request, width: width)
            let outputs = try model.reconstruct(inputs, rows: rows)
            service.metrics.observeRows(rows, operation: "reconstruct")
            return Self.rawResponse(outputs, rows: rows, columns: width)
        }
        let body = try MatrixJSON.parse(request.body, field: "inputs", width: width,
                                        maxRows: service.config.maxEncodeRows)
        try JSONObjectReader(.object(body.fields), path: "").rejectUnknownFields()
        let (rows, inputs) = (body.rows, body.values)
        try Self.checkDeclaredRows(request, rows: rows)
        let outputs = try model.reconstruct(inputs, rows: rows)
        service.metrics.observeRows(rows, operation: "reconstruct")
        let mse = (0..<rows).map { row in
            var sum = 0.0
            for column in row * width..<(row + 1) * width {
                let difference = Double(outputs[column] - inputs[column])
                sum += difference * difference
            }
            return sum / Double(width)
        }
        var out = Array(#"{"reconstructions":"#.utf8)
        try MatrixJSON.appendRows(outputs, width: width, to: &out, what: "reconstructions")
        out.append(contentsOf: #","mse":"#.utf8)
        try MatrixJSON.appendList(mse, to: &out, what: "mse")
        out.append(UInt8(ascii: "}"))
        return .json(200, out)
    }

    private func decode(_ request: HTTPRequest) throws -> HTTPResponse {
        let model = try service.models.servedModel(id: modelID(request))
        let width = model.config.inputSize
        if Self.isBinary(request) {
            let (rows, codes) = try rawRows(request, width: model.config.hiddenSize)
            let outputs = try model.decode(codes, rows: rows)
            service.metrics.observeRows(rows, operation: "decode")
            return Self.rawResponse(outputs, rows: rows, columns: width)
        }
        var reader = try JSONObjectReader(JSONValue.parse(request.body), path: "")
        let hidden = model.config.hiddenSize
        let (rows, codes) = try Self.matrix(Self.densified(reader.value("codes"), width: hidden), field: "codes",
                                            width: hidden, maxRows: service.config.maxEncodeRows)
        try reader.rejectUnknownFields()
        try Self.checkDeclaredRows(request, rows: rows)
        let outputs = try model.decode(codes, rows: rows)
        service.metrics.observeRows(rows, operation: "decode")
        var out = Array(#"{"outputs":"#.utf8)
        try MatrixJSON.appendRows(outputs, width: width, to: &out, what: "outputs")
        out.append(UInt8(ascii: "}"))
        return .json(200, out)
    }

    // MARK: - Helpers

    /// `codes` with every sparse row (`{"indices": [...], "values": [...]}`, as encode gives
    /// them) written out densely; dense rows and anything malformed pass through for
    /// `matrix` to judge. Throws 400 naming a bad index, a repeated one, a value that is not a
    /// finite float32, or a length mismatch.
    static func densified(_ codes: JSONValue?, width: Int) throws -> JSONValue? {
        guard case .array(let rows)? = codes else { return codes }
        return .array(try rows.enumerated().map { row, value in
            guard case .object = value else { return value }
            let path = "codes[\(row)]"
            var reader = try JSONObjectReader(value, path: path)
            guard case .array(let indices)? = reader.value("indices"), case .array(let values)? = reader.value("values")
            else {
                throw ServiceError.invalidField(
                    path: path, message: "a sparse row needs arrays \"indices\" and \"values\"")
            }
            try reader.rejectUnknownFields()
            guard indices.count == values.count else {
                throw ServiceError.invalidField(
                    path: path, message: "has \(indices.count) indices but \(values.count) values")
            }
            var dense = [JSONValue](repeating: .number(0), count: width)
            var seen = Set<Int>()
            for (position, index) in indices.enumerated() {
                guard case .number(let number) = index, number.rounded() == number, number >= 0,
                      number < Double(width), seen.insert(Int(number)).inserted
                else {
                    throw ServiceError.invalidField(
                        path: "\(path).indices[\(position)]",
                        message: "must be a latent index from 0 to \(width - 1), each once")
                }
                // Checked here, so a bad value is named where it was sent, not by its dense column.
                let valuePath = "\(path).values[\(position)]"
                guard case .number(let value) = values[position] else {
                    throw ServiceError.invalidField(
                        path: valuePath, message: "must be a number, got \(values[position].typeName)")
                }
                guard Float(value).isFinite else {
                    throw ServiceError.invalidField(path: valuePath, message: "\(MatrixJSON.finiteRule), got \(value)")
                }
                dense[Int(number)] = values[position]
            }
            return .array(dense)
        })
    }

    /// The `:id` of the request, checked to be an id before it names a folder.
    private func modelID(_ request: HTTPRequest) throws -> String {
        try ResourceID.checked(request.pathParameters["id"] ?? "")
    }

    /// The optional `?name=` of an upload, checked as `ResourceName` says.
    static func nameQuery(_ request: HTTPRequest) throws -> String? {
        try request.query["name"].map { try ResourceName.checked($0, field: "name") }
    }

    /// Whether the request's `Content-Type` is `application/octet-stream` (parameters and
    /// case aside). Compares bytes: this runs on every encode, where Foundation's trimming
    /// would cost more than the check is worth.
    static func isBinary(_ request: HTTPRequest) -> Bool {
        guard let value = request.headers["Content-Type"]?.utf8 else { return false }
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        let mediaType = value.prefix { $0 != UInt8(ascii: ";") }.drop(while: isSpace).reversed().drop(while: isSpace)
        let lowercased = { (byte: UInt8) in (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }
        return mediaType.elementsEqual(binaryMediaType.utf8.reversed()) { lowercased($0) == $1 }
    }

    /// Reads a raw body of little-endian float32 rows of `width` values. `X-Rows`, when sent,
    /// must agree with the body's length; rows are capped at `max_encode_rows`, and every value
    /// must be finite. Faults are 400 `invalid_field` naming `(body)` or `X-Rows`.
    private func rawRows(_ request: HTTPRequest, width: Int) throws -> (rows: Int, values: [Float]) {
        let body = request.body
        let rowBytes = 4 * width
        guard !body.isEmpty, body.count % rowBytes == 0 else {
            throw ServiceError.invalidField(
                path: "(body)",
                message: "holds \(body.count) bytes; expected whole rows of \(width) float32 values "
                    + "(\(rowBytes) bytes each)")
        }
        let rows = body.count / rowBytes
        try Self.checkDeclaredRows(request, rows: rows)
        let limit = service.config.maxEncodeRows
        guard rows <= limit else {
            throw ServiceError.invalidField(path: "(body)", message: "holds \(rows) rows; the limit is \(limit)")
        }
        let values = body.withUnsafeBytes { raw in
            (0..<rows * width).map { index in
                let bits = raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)
                return Float(bitPattern: UInt32(littleEndian: bits))
            }
        }
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw ServiceError.invalidField(
                path: "(body)",
                message: "row \(index / width), column \(index % width) is \(values[index]); expected a finite number")
        }
        return (rows, values)
    }

    /// Throws 400 naming `X-Rows` when the request carries one that is not `rows`.
    private static func checkDeclaredRows(_ request: HTTPRequest, rows: Int) throws {
        guard let declared = request.headers["X-Rows"] else { return }
        guard Int(declared.trimmingCharacters(in: .whitespaces)) == rows else {
            throw ServiceError.invalidField(
                path: "X-Rows", message: "says \"\(declared)\" but the body holds \(rows) rows")
        }
    }

    /// A raw float32 answer of `rows × columns` values, little-endian, row-major.
    private static func rawResponse(_ values: [Float], rows: Int, columns: Int) -> HTTPResponse {
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 * values.count)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        var headers = HTTPHeaders()
        headers.add("Content-Type", binaryMediaType)
        headers.add("X-Rows", "\(rows)")
        headers.add("X-Columns", "\(columns)")
        return HTTPResponse(status: 200, headers: headers, body: .bytes(bytes))
    }
}
