import Foundation

/// The OpenAPI 3.1 description of every route, served at `GET /v1/openapi.json`.
///
/// Written by hand rather than derived from the router, so that `OpenAPITests` comparing the
/// two catches a route added without its description, and a description left behind by a
/// removed route. Each operation lists every status it can answer: its own, the server's
/// (413 on bodies), 401 on `/v1` routes (when a token is configured) and 500.
enum OpenAPI {
    /// The document as JSON, built once.
    static let documentBytes: [UInt8] = {
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        // The document is built from literals only, so it always serialises.
        let data = (try? JSONSerialization.data(withJSONObject: document, options: options)) ?? Data("{}".utf8)
        return [UInt8](data)
    }()

    /// The document as Foundation values.
    static var document: [String: Any] {
        [
            "openapi": "3.1.0",
            "info": [
                "title": "saed",
                "version": "1",
                "description": "Trains sparse autoencoders on a CPU and serves them. Errors are "
                    + "{\"error\": {\"code\", \"message\", \"field\"?}} with a stable code.",
            ] as [String: Any],
            "paths": paths,
            "components": [
                "schemas": Schemas.all,
                "responses": errorResponses,
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
            ] as [String: Any],
        ]
    }

    /// Every documented method and path, such as `("GET", "/v1/jobs/{id}")`.
    static var operations: [(method: String, path: String)] {
        paths.flatMap { path, item in
            (item as? [String: Any] ?? [:]).keys.map { (method: $0.uppercased(), path: path) }
        }
    }

    // MARK: - Paths

    private static var paths: [String: Any] {
        var paths: [String: [String: Any]] = [:]
        for (method, path, operation) in jobOperations + modelOperations + datasetOperations
            + operationsForOperators + visualOperations
        {
            paths[path, default: [:]][method.lowercased()] = operation
        }
        return paths
    }

    private static var jobOperations: [(String, String, [String: Any])] {
        [
            ("POST", "/v1/jobs", op(
                "Queue a training job", tag: "jobs",
                parameters: [header("Idempotency-Key", ["type": "string", "minLength": 1, "maxLength": 255],
                                    "Resubmitting with the same key and body returns the same job (200).")],
                body: json(ref("JobSpec")),
                responses: [200: jsonResponse("The job an earlier request with this Idempotency-Key made", ref("Job")),
                            202: jsonResponse("Queued", ref("Job"), headers: ["Location": true])],
                errors: [400, 409, 413, 422, 429, 503])),
            ("POST", "/v1/jobs:validate", op(
                "Check a job without queueing it", tag: "jobs", body: json(ref("JobSpec")),
                responses: [200: jsonResponse("The spec with every default filled in", object([
                    "valid": ["type": "boolean"], "spec": ["type": "object"],
                ]))],
                errors: [400, 413, 422])),
            ("GET", "/v1/jobs", op(
                "List jobs, newest first", tag: "jobs",
                parameters: [
                    query("state", ["type": "string", "enum": JobState.allCases.map(\.rawValue)]),
                    query("limit", integer(1, 1000)),
                    query("page_token", ["type": "string"], "next_page_token of the previous page"),
                ],
                responses: [200: jsonResponse("A page of jobs", ref("JobPage"))], errors: [400])),
            ("GET", "/v1/jobs/{id}", op(
                "Show a job with its history", tag: "jobs", parameters: [pathID],
                responses: [200: jsonResponse("The job", ref("Job"))], errors: [404])),
            ("DELETE", "/v1/jobs/{id}", op(
                "Delete a finished job", tag: "jobs", parameters: [pathID],
                responses: [204: ["description": "Deleted"]], errors: [404, 409, 503])),
            ("GET", "/v1/jobs/{id}/metrics", op(
                "The epoch history, a page at a time", tag: "jobs",
                parameters: [pathID, query("after", integer(0, Int(Int32.max)), "the last epoch already seen"),
                             query("limit", integer(1, 10_000))],
                responses: [200: jsonResponse("Epochs after `after`", ref("MetricsPage"))], errors: [400, 404])),
            ("POST", "/v1/jobs/{id}/cancel", op(
                "Cancel a queued or running job", tag: "jobs", parameters: [pathID],
                responses: [202: jsonResponse("Cancelled, or stopping at the next batch", ref("Job"))],
                errors: [404, 409, 503])),
            ("GET", "/v1/jobs/{id}/events", op(
                "Follow a job's events", tag: "jobs",
                parameters: [pathID, query("after", integer(0, Int(Int32.max)), "resume after this event id"),
                             query("format", ["type": "string", "enum": ["sse", "ndjson"]]),
                             header("Last-Event-ID", integer(0, Int(Int32.max)), "resume after this event id")],
                responses: [200: [
                    "description": "Server-Sent Events, or JSON lines with format=ndjson; ends after the end event",
                    "content": ["text/event-stream": ["schema": sseEvent],
                                "application/x-ndjson": ["schema": ["type": "string"]]],
                ]],
                errors: [400, 404])),
        ]
    }

    /// One Server-Sent Event of a job's stream: `data` is the event's JSON object as text.
    private static var sseEvent: [String: Any] {
        object([
            "id": ["type": "string", "pattern": "^[0-9]+$"],
            "event": ["type": "string", "enum": ["state", "epoch", "end"]],
            "data": ["type": "string", "contentMediaType": "application/json"],
        ])
    }

    private static var modelOperations: [(String, String, [String: Any])] {
        let rowsHeader: [String: Any] = [
            "description": "Rows in the body", "schema": integer(1, Int(Int32.max)),
        ]
        let rawRequest: [String: Any] = [
            "schema": ["type": "string", "format": "binary", "minLength": 1],
        ]
        func rowsOperation(_ summary: String, field: String, row: [String: Any] = numberRow,
                           extra: [String: Any] = [:], answer: [String: Any]) -> [String: Any] {
            let rows: [String: Any] = ["type": "array", "items": row, "minItems": 1]
            let json: [String: Any] = [
                "type": "object", "additionalProperties": false, "required": [field],
                "properties": extra.merging([field: rows]) { a, _ in a },
            ]
            return op(summary, tag: "models",
               parameters: [pathID, header("X-Rows", integer(1, Int(Int32.max)), "the rows sent, checked")],
               body: ["required": true, "content": [
                   "application/json": ["schema": json], "application/octet-stream": rawRequest,
               ]],
               responses: [200: [
                   "description": "JSON rows, or raw little-endian float32 rows for a raw request",
                   "headers": ["X-Rows": rowsHeader, "X-Columns": rowsHeader],
                   "content": ["application/json": ["schema": answer],
                               "application/octet-stream": rawRequest],
               ]],
               errors: [400, 404, 413, 422])
        }
        return [
            ("GET", "/v1/models", op(
                "List models, newest first", tag: "models",
                responses: [200: jsonResponse("Every model", object(["models": array(ref("Model"))]))])),
            ("POST", "/v1/models", op(
                "Import a safetensors model", tag: "models",
                parameters: [query("name", ["type": "string", "minLength": 1, "maxLength": 200])],
                body: ["required": true, "content": [
                    "application/octet-stream": rawRequest,
                    "multipart/form-data": ["schema": [
                        "type": "object", "required": ["weights"],
                        "properties": [
                            "weights": ["type": "string", "format": "binary",
                                        "description": "the safetensors file"],
                            "config": ["type": "string", "format": "binary",
                                       "description": "the model's cfg.json (optional)"],
                        ] as [String: Any],
                    ] as [String: Any]],
                ] as [String: Any]],
                responses: [201: jsonResponse("Imported", ref("Model"), headers: ["Location": true])],
                errors: [400, 413, 415, 422, 503])),
            ("GET", "/v1/models/{id}", op(
                "Show a model", tag: "models", parameters: [pathID],
                responses: [200: jsonResponse("The model", ref("Model"))], errors: [400, 404])),
            ("DELETE", "/v1/models/{id}", op(
                "Delete a model", tag: "models", parameters: [pathID],
                responses: [204: ["description": "Deleted"]], errors: [400, 404, 409, 503])),
            ("GET", "/v1/models/{id}/weights", op(
                "Download model.safetensors", tag: "models", parameters: [pathID],
                responses: [200: [
                    "description": "The weights file",
                    "headers": ["Content-Disposition": ["required": true, "schema": ["type": "string"]]],
                    "content": ["application/octet-stream": rawRequest],
                ]],
                errors: [400, 404])),
            ("POST", "/v1/models/{id}/encode", rowsOperation(
                "Encode rows into codes", field: "inputs",
                extra: ["format": ["type": "string", "enum": ["dense", "sparse"]]],
                answer: object(["codes": ["type": "array", "items": ["anyOf": [numberRow, ref("SparseRow")]]]]))),
            ("POST", "/v1/models/{id}/reconstruct", rowsOperation(
                "Reconstruct rows", field: "inputs",
                answer: object(["reconstructions": array(numberRow), "mse": array(["type": "number"])]))),
            ("POST", "/v1/models/{id}/decode", rowsOperation(
                "Decode codes (dense or sparse rows) into rows", field: "codes",
                row: ["anyOf": [numberRow, ref("SparseRow")]], answer: object(["outputs": array(numberRow)]))),
        ]
    }

    private static var datasetOperations: [(String, String, [String: Any])] {
        let file: [String: Any] = ["schema": ["type": "string", "format": "binary", "minLength": 1]]
        return [
            ("POST", "/v1/datasets", op(
                "Upload an IDX, NPY or CSV dataset", tag: "datasets",
                parameters: [query("format", ["type": "string", "enum": DatasetFormat.allCases.map(\.rawValue)],
                                   "otherwise taken from Content-Type or the first bytes"),
                             query("name", ["type": "string", "minLength": 1, "maxLength": 200])],
                body: ["required": true, "content": [
                    "application/octet-stream": file, "text/csv": file, "application/x-npy": file,
                    "application/gzip": file,
                ]],
                responses: [201: jsonResponse("Stored", ref("Dataset"), headers: ["Location": true])],
                errors: [400, 413, 415, 422, 503])),
            ("GET", "/v1/datasets", op(
                "List uploaded datasets, newest first", tag: "datasets",
                responses: [200: jsonResponse("Every dataset", object(["datasets": array(ref("Dataset"))]))])),
            ("GET", "/v1/datasets/{id}", op(
                "Show an uploaded dataset", tag: "datasets", parameters: [pathID],
                responses: [200: jsonResponse("The dataset", ref("Dataset"))], errors: [400, 404])),
            ("DELETE", "/v1/datasets/{id}", op(
                "Delete an uploaded dataset", tag: "datasets", parameters: [pathID],
                responses: [204: ["description": "Deleted"]], errors: [400, 404, 409, 503])),
        ]
    }

    private static var operationsForOperators: [(String, String, [String: Any])] {
        let text: [String: Any] = ["schema": ["type": "string"]]
        return [
            ("GET", "/healthz", op(
                "Liveness", tag: "operations", isOpen: true,
                responses: [200: jsonResponse("Alive", object(["status": ["const": "ok"]]))])),
            ("GET", "/readyz", op(
                "Readiness: started, not draining, store writable", tag: "operations", isOpen: true,
                responses: [200: jsonResponse("Ready", object(["status": ["const": "ready"]]))], errors: [503])),
            ("GET", "/metrics", op(
                "Prometheus metrics (text format 0.0.4)", tag: "operations", isOpen: true,
                responses: [200: ["description": "Metrics", "content": ["text/plain": text]]])),
            ("GET", "/v1/openapi.json", op(
                "This document", tag: "operations",
                responses: [200: jsonResponse("OpenAPI 3.1", ["type": "object"])])),
        ]
    }

    private static var visualOperations: [(String, String, [String: Any])] {
        let png: [String: Any] = ["description": "A PNG picture",
                                  "content": ["image/png": ["schema": ["type": "string", "format": "binary"]]]]
        let pictureQueries = [
            query("shape", ["type": "string"], "HxW of one input row"), query("scale", integer(1, 32)),
        ]
        return [
            ("GET", "/", op(
                "The dashboard", tag: "dashboard", isOpen: true,
                responses: [200: ["description": "An HTML page",
                                  "content": ["text/html": ["schema": ["type": "string"]]]]])),
            ("GET", "/v1/examples", op(
                "Example jobs for the dashboard", tag: "dashboard",
                responses: [200: jsonResponse("Examples", object(["examples": array(object([
                    "name": ["type": "string"], "source": ["type": "string"], "job": ["type": "object"],
                    "text": ["type": "string"],
                ]))]))])),
            ("GET", "/v1/datasets/{name}/{split}/rows/{index}", op(
                "One row of a built-in dataset", tag: "dashboard",
                parameters: [pathParameter("name", ["type": "string", "enum": JobSpec.builtinDatasets.keys.sorted()]),
                             pathParameter("split", ["type": "string", "enum": ["train", "test"]]),
                             pathParameter("index", integer(0, Int(Int32.max)))],
                responses: [200: jsonResponse("The row", object([
                    "dataset": ["type": "string"], "split": ["type": "string"], "index": ["type": "integer"],
                    "rows": ["type": "integer"], "width": ["type": "integer"],
                    "shape": array(["type": "integer"]), "values": numberRow,
                ], required: ["dataset", "split", "index", "rows", "width", "values"]))],
                errors: [400, 422])),
            ("GET", "/v1/models/{id}/features.png", op(
                "A model's features as tiles", tag: "dashboard",
                parameters: [pathID, query("weights", ["type": "string", "enum": ["decoder", "encoder"]]),
                             query("cols", integer(1, 1024)),
                             query("sort", ["type": "string", "enum": ["frequency", "index"]])] + pictureQueries,
                responses: [200: png], errors: [400, 404, 422])),
            ("GET", "/v1/models/{id}/reconstructions.png", op(
                "Rows above their reconstructions", tag: "dashboard",
                parameters: [pathID, query("dataset", ["type": "string"]), query("split", ["type": "string"]),
                             query("path", ["type": "string"]), query("n", integer(1, 256)),
                             query("start", integer(0, Int(Int32.max))), query("cols", integer(1, 256))]
                    + pictureQueries,
                responses: [200: png], errors: [400, 404, 422])),
            ("GET", "/v1/jobs/{id}/loss.svg", op(
                "A job's loss curves", tag: "dashboard", parameters: [pathID],
                responses: [200: ["description": "An SVG chart",
                                  "content": ["image/svg+xml": ["schema": ["type": "string"]]]]],
                errors: [404])),
        ]
    }

    // MARK: - Building blocks

    /// One operation. `/v1` routes (all but `isOpen` ones) may need the bearer token and so
    /// may answer 401; every route may answer 500.
    private static func op(
        _ summary: String, tag: String, isOpen: Bool = false, parameters: [[String: Any]] = [],
        body: [String: Any]? = nil, responses: [Int: [String: Any]], errors: [Int] = []
    ) -> [String: Any] {
        var all: [String: Any] = [:]
        for (status, response) in responses { all[String(status)] = response }
        // A query parameter given twice is refused with 400 before the route runs, on every
        // route. A body of a media type the route does not read is refused with 415.
        let extra = [400] + (body != nil ? [415] : [])
        for status in errors + extra + (isOpen ? [] : [401]) + [500] {
            all[String(status)] = ref("E\(status)", in: "responses")
        }
        var operation: [String: Any] = ["summary": summary, "tags": [tag], "responses": all]
        if !parameters.isEmpty { operation["parameters"] = parameters }
        if let body { operation["requestBody"] = body }
        // The token is optional: it is required only when the daemon is configured with one.
        operation["security"] = isOpen ? [] : [["bearer": [String]()], [String: Any]()]
        return operation
    }

    private static let errorDescriptions: [Int: String] = [
        400: "A malformed request, a bad field or a query parameter given twice (`field` names it)",
        401: "A bearer token is required, or the one given is wrong",
        404: "No such job, model, dataset or route",
        409: "The resource's state forbids this, or the Idempotency-Key was used for another body",
        413: "The body is over the limit, which the message names",
        415: "The body's media type is not one this route reads",
        422: "Well-formed, but names a dataset that is missing or unreadable, or weights that are not a model",
        429: "The job queue is full",
        500: "An unexpected fault; details are only in the daemon's log",
        503: "Not ready, shutting down, or the store refused a write",
    ]

    private static var errorResponses: [String: Any] {
        var responses: [String: Any] = [:]
        for (status, description) in errorDescriptions {
            var response: [String: Any] = ["description": description, "content": json(ref("Error"))["content"] ?? [:]]
            switch status {
            case 401: response["headers"] = ["WWW-Authenticate": ["required": true, "schema": ["type": "string"]]]
            case 429: response["headers"] = ["Retry-After": ["required": true, "schema": ["type": "string"]]]
            default: break
            }
            responses["E\(status)"] = response
        }
        return responses
    }

    static func ref(_ name: String, in section: String = "schemas") -> [String: Any] {
        ["$ref": "#/components/\(section)/\(name)"]
    }

    private static func json(_ schema: [String: Any]) -> [String: Any] {
        ["required": true, "content": ["application/json": ["schema": schema]]]
    }

    private static func jsonResponse(_ description: String, _ schema: [String: Any],
                                     headers: [String: Bool] = [:]) -> [String: Any] {
        var response: [String: Any] = ["description": description,
                                       "content": ["application/json": ["schema": schema]]]
        if !headers.isEmpty {
            response["headers"] = headers.mapValues { required in
                ["required": required, "schema": ["type": "string"]] as [String: Any]
            }
        }
        return response
    }

    /// An `{id}` segment: ids the server gives out never hold anything else.
    private static var pathID: [String: Any] {
        pathParameter("id", ["type": "string", "pattern": "^[A-Za-z0-9_-]{1,128}$"])
    }

    private static func pathParameter(_ name: String, _ schema: [String: Any] = ["type": "string"]) -> [String: Any] {
        ["name": name, "in": "path", "required": true, "schema": schema]
    }

    private static func query(_ name: String, _ schema: [String: Any], _ description: String? = nil) -> [String: Any] {
        var parameter: [String: Any] = ["name": name, "in": "query", "required": false, "schema": schema]
        parameter["description"] = description
        return parameter
    }

    private static func header(_ name: String, _ schema: [String: Any], _ description: String) -> [String: Any] {
        ["name": name, "in": "header", "required": false, "schema": schema, "description": description]
    }

    static func integer(_ minimum: Int, _ maximum: Int) -> [String: Any] {
        ["type": "integer", "minimum": minimum, "maximum": maximum]
    }

    static func array(_ items: [String: Any]) -> [String: Any] {
        ["type": "array", "items": items]
    }

    static var numberRow: [String: Any] { array(["type": "number"]) }

    /// An object schema; every property is required unless `required` says otherwise.
    static func object(_ properties: [String: Any], required: [String]? = nil) -> [String: Any] {
        ["type": "object", "properties": properties, "required": required ?? properties.keys.sorted()]
    }
}
