import Foundation
import SAECore
import Testing
@testable import SAEService

/// Each bad request gets a 4xx with a stable code, a message saying what and where, and the
/// daemon keeps answering.
@Suite(.serialized)
struct BadRequestTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var body: String
        var status: Int
        var code: String
        var field: String?
        var messageContains: String
        var testDescription: String { "\(code) for \(body.prefix(60))" }
    }

    static let jobCases: [Case] = [
        Case(body: #"{"dataset": "fashion-mnist", "#, status: 400, code: "malformed_json", messageContains: "not valid JSON"),
        Case(body: "", status: 400, code: "malformed_json", messageContains: "empty"),
        Case(body: #"{"dataset": "fashion-mnist", "epochs": 1e400}"#, status: 400, code: "malformed_json",
             messageContains: "the number 1e400 is beyond the range of a 64-bit float"),
        Case(body: "[1, 2]", status: 400, code: "invalid_field", field: "(body)", messageContains: "must be an object"),
        Case(body: #"{"dataset": "fashion-mnist", "epochs": 1, "epochs": 2}"#, status: 400, code: "invalid_field",
             field: "epochs", messageContains: "epochs: is given more than once in its object"),
        Case(body: #"{"dataset": "fashion-mnist", "model": {"hidden_size": 8, "hidden_\u0073ize": 9}}"#, status: 400,
             code: "invalid_field", field: "model.hidden_size", messageContains: "more than once"),
        Case(body: #"{"dataset": {"path": "a.csv", "format": "csv"}, "validation": [{"x": 1}, {"y": 1, "y": 2}]}"#,
             status: 400, code: "invalid_field", field: "validation[1].y", messageContains: "more than once"),
        Case(body: #"{"dataset": "fashion-mnist", "epoch": 3}"#, status: 400, code: "unknown_field", field: "epoch",
             messageContains: "epoch: unknown field"),
        Case(body: #"{"dataset": "fashion-mnist", "model": {"hidden_size": 0}}"#, status: 400, code: "invalid_field",
             field: "model.hidden_size", messageContains: "between 1 and 65536, got 0"),
        Case(body: #"{"dataset": "fashion-mnist", "model": {"hidden_size": "128"}}"#, status: 400,
             code: "invalid_field", field: "model.hidden_size", messageContains: "must be a number, got a string"),
        Case(body: #"{"dataset": "fashion-mnist", "optimizer": {"learning_rate": -0.01}}"#, status: 400,
             code: "invalid_field", field: "optimizer.learning_rate", messageContains: "greater than 0"),
        Case(body: #"{"dataset": "fashion-mnist", "batch_size": 0}"#, status: 400, code: "invalid_field",
             field: "batch_size", messageContains: "got 0"),
        Case(body: #"{"dataset": "fashion-mnist", "epochs": 2.5}"#, status: 400, code: "invalid_field",
             field: "epochs", messageContains: "whole number"),
        Case(body: #"{"dataset": "fashion-mnist", "epochs": 1e23}"#, status: 400, code: "invalid_field",
             field: "epochs", messageContains: "epochs: must be between 0 and 100000, got 1e+23"),
        Case(body: #"{"dataset": "fashion-mnist", "seed": -18446744073709551616}"#, status: 400,
             code: "invalid_field", field: "seed", messageContains: "must be between 0 and "),
        Case(body: #"{"dataset": "mnist-digits"}"#, status: 400, code: "invalid_field", field: "dataset",
             messageContains: "unknown dataset \"mnist-digits\""),
        Case(body: #"{"dataset": {"name": "fashion-mnist", "split": "dev"}}"#, status: 400, code: "invalid_field",
             field: "dataset.split", messageContains: "not \"dev\""),
        Case(body: #"{}"#, status: 400, code: "invalid_field", field: "dataset", messageContains: "is required"),
        Case(body: #"{"dataset": {"path": "../../etc/passwd"}}"#, status: 400, code: "invalid_field",
             field: "dataset.path", messageContains: "relative path inside the datasets directory"),
        Case(body: #"{"dataset": {"path": "/etc/passwd"}}"#, status: 400, code: "invalid_field",
             field: "dataset.path", messageContains: "relative path"),
        Case(body: #"{"dataset": {"path": "missing.idx"}}"#, status: 422, code: "dataset_not_found",
             field: "dataset.path", messageContains: "no file \"missing.idx\""),
        Case(body: #"{"dataset": "fashion-mnist", "validation": {"id": "ds_0000000000000000"}}"#, status: 422,
             code: "dataset_not_found", field: "validation.id", messageContains: "no uploaded dataset"),
        Case(body: #"{"dataset": "fashion-mnist", "sparsity": {"kind": "l2"}}"#, status: 400, code: "invalid_field",
             field: "sparsity.kind", messageContains: "must be one of"),
        Case(body: #"{"dataset": "fashion-mnist", "shuffle": "yes"}"#, status: 400, code: "invalid_field",
             field: "shuffle", messageContains: "true or false"),
        Case(body: #"{"dataset": "fashion-mnist", "sparsity": {"kind": "kl"}}"#, status: 400, code: "invalid_field",
             field: "model.activation", messageContains: "sigmoid"),
        Case(body: #"{"dataset": "fashion-mnist", "model": {"hidden_size": 65536}, "batch_size": 1000000}"#,
             status: 422, code: "job_too_large", messageContains: "lower batch_size or hidden_size"),
        Case(body: #"{"dataset": "fashion-mnist", "sparsity": {"beta": 1e300}}"#, status: 400, code: "invalid_field",
             field: "sparsity.beta", messageContains: "too large for float32"),
        Case(body: #"{"dataset": "fashion-mnist", "name": ""}"#, status: 400, code: "invalid_field",
             field: "name", messageContains: "name: must be 1 to 200 characters, got 0"),
        Case(body: #"{"dataset": "fashion-mnist", "name": "  \t"}"#, status: 400, code: "invalid_field",
             field: "name", messageContains: "name: must not be only white space"),
        Case(body: #"{"dataset": "fashion-mnist", "name": "a\u0000b"}"#, status: 400, code: "invalid_field",
             field: "name", messageContains: "name: must not hold control characters, found U+0000"),
        Case(body: #"{"dataset": "fashion-mnist", "name": "\#(String(repeating: "é", count: 201))"}"#,
             status: 400, code: "invalid_field", field: "name", messageContains: "1 to 200 characters, got 201"),
        Case(body: #"{"dataset": "fashion-mnist", "optimizer": {"learning_rate": 1e-50}}"#, status: 400,
             code: "invalid_field", field: "optimizer.learning_rate", messageContains: "too small for float32"),
    ]

    static func startService() throws -> (Service, String) {
        let directory = try EndToEndTests.temporaryDirectory()
        let service = try Service(config: EndToEndTests.makeConfig(dataDirectory: directory), logger: .none)
        try service.start()
        return (service, directory)
    }

    static func expectError(_ response: TestResponse, _ expected: Case) throws {
        #expect(response.status == expected.status, "body: \(response.text)")
        #expect(response.headers["content-type"]?.hasPrefix("application/json") == true)
        let error = try #require(try response.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == expected.code)
        #expect(error["field"] as? String == expected.field)
        let message = error["message"] as? String ?? ""
        #expect(message.contains(expected.messageContains), "message was: \(message)")
    }

    @Test func invalidJobsAreRefusedWithFieldAndReason() throws {
        let (service, directory) = try Self.startService()
        defer {
            service.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        for expected in Self.jobCases {
            let response = try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: expected.body)
            try Self.expectError(response, expected)
        }
        // None of them created a job, and the daemon still answers.
        let jobs = try TestHTTPClient.request("GET", "/v1/jobs", port: service.port).json()["jobs"] as? [Any]
        #expect(jobs?.isEmpty == true)
        #expect(try TestHTTPClient.request("GET", "/healthz", port: service.port).status == 200)
    }

    @Test func unknownIdsAndRoutesAnswerJSONErrors() throws {
        let (service, directory) = try Self.startService()
        defer {
            service.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let port = service.port
        try Self.expectError(try TestHTTPClient.request("GET", "/v1/jobs/job_nope", port: port),
                             Case(body: "", status: 404, code: "job_not_found", messageContains: "\"job_nope\""))
        try Self.expectError(try TestHTTPClient.request("GET", "/v1/jobs/job_nope/events", port: port),
                             Case(body: "", status: 404, code: "job_not_found", messageContains: "\"job_nope\""))
        try Self.expectError(
            try TestHTTPClient.request("POST", "/v1/models/model_nope/encode", port: port, body: #"{"inputs": [[1]]}"#),
            Case(body: "", status: 404, code: "model_not_found", messageContains: "\"model_nope\""))
        try Self.expectError(try TestHTTPClient.request("GET", "/v1/jobs?state=done", port: port),
                             Case(body: "", status: 400, code: "invalid_field", field: "state", messageContains: "done"))

        let missing = try TestHTTPClient.request("GET", "/v2/nothing", port: port)
        #expect(missing.status == 404)
        #expect((try missing.json()["error"] as? [String: Any])?["code"] as? String == "not_found")
        let wrongMethod = try TestHTTPClient.request("DELETE", "/v1/models", port: port)
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["allow"]?.contains("GET") == true)
        #expect((try wrongMethod.json()["error"] as? [String: Any]) != nil)
    }

    /// Every route with an `:id` segment refuses one that is not an id before looking it up,
    /// jobs as much as models and datasets, whatever the method.
    @Test func pathIdsThatAreNotIdsAre400OnEveryRoute() throws {
        try LiveService.run { service in
            let routes = service.router.routes.filter { $0.pattern.contains(":id") }
            #expect(routes.count >= 15)
            for route in routes {
                let target = route.pattern.replacingOccurrences(of: ":id", with: "..%2Fsaed.db")
                let response = try RawHTTP.send(route.method, target, port: service.port,
                                                body: route.method == "POST" ? Array("{}".utf8) : nil)
                #expect(response.status == 400, "\(route.method) \(route.pattern): \(response.text)")
                let error = try RawHTTP.error(response)
                #expect(error["code"] as? String == "invalid_field", "\(route.method) \(route.pattern)")
                #expect(error["field"] as? String == "id", "\(route.method) \(route.pattern)")
                #expect((error["message"] as? String)?.contains("\"../saed.db\"") == true)
            }
        }
    }

    /// A query parameter given twice is 400 naming it on every route, before the route reads
    /// either value: `?n=1&n=2` has no one meaning.
    @Test func aRepeatedQueryParameterIs400NamingItOnEveryRoute() throws {
        try LiveService.run { service in
            try LiveService.saveTinyModel(service)
            let routes = service.router.routes
            #expect(routes.count >= 29)
            for route in routes {
                let path = route.pattern.split(separator: "/", omittingEmptySubsequences: false)
                    .map { $0 == ":id" ? "model_tiny" : $0.hasPrefix(":") ? "0" : String($0) }
                    .joined(separator: "/")
                let response = try RawHTTP.send(
                    route.method, path + "?limit=5&n=2&limit=5", port: service.port,
                    body: route.method == "POST" ? Array("{}".utf8) : nil)
                #expect(response.status == 400, "\(route.method) \(route.pattern): \(response.text)")
                let error = try RawHTTP.error(response)
                #expect(error["code"] as? String == "invalid_field", "\(route.method) \(route.pattern)")
                #expect(error["field"] as? String == "limit", "\(route.method) \(route.pattern)")
                #expect(error["message"] as? String == "limit: is given more than once in the query; give it once")
            }
            // The picture routes' own parameters, as the dashboard would send them.
            let picture = try RawHTTP.send("GET", "/v1/models/model_tiny/features.png?shape=2x2&scale=2&scale=3",
                                           port: service.port)
            #expect(picture.status == 400)
            #expect(try RawHTTP.error(picture)["field"] as? String == "scale")
            let once = try RawHTTP.send("GET", "/v1/models/model_tiny/features.png?shape=2x2&scale=2",
                                        port: service.port)
            #expect(once.status == 200, "\(once.text.prefix(200))")
        }
    }

    /// A header the routes read once is refused when sent twice, naming it: with two
    /// `Content-Type` fields a JSON type first and text second passed the 415 check.
    @Test func aRepeatedSingleHeaderIs400NamingIt() throws {
        try LiveService.run { service in
            try LiveService.saveTinyModel(service)
            let rows = Array(#"{"inputs": [[1, 0, 0, 0]]}"#.utf8)
            let head = "POST /v1/models/model_tiny/encode HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            for (name, first, second) in [("Content-Type", "application/json", "text/plain"),
                                          ("content-type", "text/plain", "application/json"),
                                          ("X-Rows", "1", "1")] {
                let request = head + "\(name): \(first)\r\n\(name.uppercased()): \(second)\r\n"
                    + "Content-Length: \(rows.count)\r\n\r\n"
                let raw = try TestHTTPClient.exchange(Array(request.utf8) + rows, port: service.port,
                                                      timeoutSeconds: 30)
                let response = try TestHTTPClient.parse(raw)
                #expect(response.status == 400, "\(name): \(response.text)")
                let error = try RawHTTP.error(response)
                let canonical = Routes.singleHeaders.first { $0.lowercased() == name.lowercased() }
                #expect(error["field"] as? String == canonical)
                #expect(error["message"] as? String == "\(canonical ?? name): is sent more than once; send it once")
            }
            let once = try RawHTTP.send("POST", "/v1/models/model_tiny/encode", port: service.port, body: rows,
                                        headers: ["Content-Type": "application/json", "X-Rows": "1"])
            #expect(once.status == 200, "\(once.text)")
        }
    }

    /// JSON routes read JSON (or, for the row routes, raw float32) and nothing else: a form,
    /// text or picture body is 415 before it is parsed, while no type at all still reads as JSON.
    @Test func jsonRoutesRefuseBodiesOfOtherMediaTypes() throws {
        try LiveService.run { service in
            try LiveService.saveTinyModel(service)
            let registered = Set(service.router.routes.map { "\($0.method) \($0.pattern)" })
            #expect(Set(Routes.jsonBodyRoutes.keys).isSubset(of: registered))
            let job = Array(#"{"dataset": {"path": "missing.csv"}}"#.utf8)
            let rows = Array(#"{"inputs": [[1, 0, 0, 0]]}"#.utf8)
            let targets: [(String, [UInt8], Bool)] = [
                ("/v1/jobs", job, false), ("/v1/jobs:validate", job, false),
                ("/v1/models/model_tiny/encode", rows, true), ("/v1/models/model_tiny/reconstruct", rows, true),
                ("/v1/models/model_tiny/decode", Array(#"{"codes": [[1, 0, 0]]}"#.utf8), true),
            ]
            for (target, body, allowsRaw) in targets {
                var refusedTypes = ["text/plain", "application/x-www-form-urlencoded", "image/png; q=1",
                                    "multipart/form-data; boundary=x"]
                if !allowsRaw { refusedTypes.append("application/octet-stream") }
                for type in refusedTypes {
                    let response = try RawHTTP.send("POST", target, port: service.port, body: body,
                                                    headers: ["Content-Type": type])
                    #expect(response.status == 415, "\(target) \(type): \(response.text)")
                    let error = try RawHTTP.error(response)
                    #expect(error["code"] as? String == "unsupported_media_type")
                    let mediaType = String(type.prefix { $0 != ";" })
                    #expect((error["message"] as? String)?.contains("Content-Type \(mediaType) is not") == true,
                            "\(error)")
                }
                // JSON by its type, with parameters, as a +json type, or untyped, gets past the check.
                for type in ["application/json; charset=utf-8", "Application/JSON", "application/vnd.saed+json", nil] {
                    let headers = type.map { ["Content-Type": $0] } ?? [:]
                    let response = try RawHTTP.send("POST", target, port: service.port, body: body, headers: headers)
                    #expect(response.status != 415, "\(target) \(type ?? "none"): \(response.text)")
                    let expected = target.hasPrefix("/v1/jobs") ? 422 : 200  // the job's file is missing
                    #expect(response.status == expected, "\(target) \(type ?? "none"): \(response.text)")
                }
            }
            #expect(service.jobs.list().isEmpty)
        }
    }

    @Test func encodeRowsOfTheWrongWidthOrNonNumbersAreRefused() throws {
        let (service, directory) = try Self.startService()
        defer {
            service.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        // A tiny model saved straight into the store: 4 inputs, 3 latents.
        let model = try SAECoreFixtures.tinyModel()
        try service.models.save(model, info: ModelInfo(
            id: "model_tiny", jobID: nil, name: nil, createdAt: Date(), config: model.config,
            normalization: .unit, metrics: nil, training: nil))
        let port = service.port
        let cases: [(String, Case)] = [
            (#"{"inputs": [[0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3]]}"#,
             Case(body: "", status: 400, code: "invalid_field", field: "inputs[1]", messageContains: "expected 4 values, got 3")),
            (#"{"inputs": [[0.1, "x", 0.3, 0.4]]}"#,
             Case(body: "", status: 400, code: "invalid_field", field: "inputs[0][1]", messageContains: "must be a number")),
            (#"{"inputs": [[0.1, 0.2, 0.3, 1e39]]}"#,
             Case(body: "", status: 400, code: "invalid_field", field: "inputs[0][3]",
                  messageContains: "must be a finite float32 (magnitude at most 3.4e38), got 1e39")),
            (#"{"inputs": [[1, 2, 3, 4]], "inputs": [[4, 3, 2, 1]]}"#,
             Case(body: "", status: 400, code: "invalid_field", field: "inputs", messageContains: "more than once")),
            (#"{"format": "dense", "inputs": [[1, 2, 3, 4]], "format": "sparse"}"#,
             Case(body: "", status: 400, code: "invalid_field", field: "format", messageContains: "more than once")),
            (#"{"inputs": []}"#,
             Case(body: "", status: 400, code: "invalid_field", field: "inputs", messageContains: "at least one row")),
            (#"{"rows": [[1, 2, 3, 4]]}"#,
             Case(body: "", status: 400, code: "invalid_field", field: "inputs", messageContains: "is required")),
            (#"{"inputs": [[1, 2, 3, 4]], "format": "csr"}"#,
             Case(body: "", status: 400, code: "invalid_field", field: "format", messageContains: "\"sparse\"")),
            (#"{"inputs": [[1, 2, 3, 4]], "extra": 1}"#,
             Case(body: "", status: 400, code: "unknown_field", field: "extra", messageContains: "unknown field")),
        ]
        for (body, expected) in cases {
            try Self.expectError(
                try TestHTTPClient.request("POST", "/v1/models/model_tiny/encode", port: port, body: body), expected)
        }
        let good = try TestHTTPClient.request("POST", "/v1/models/model_tiny/encode", port: port,
                                              body: #"{"inputs": [[1, 0, 0, 0]]}"#)
        #expect(good.status == 200)
        // Expected: relu(row 0 of W_enc + b_enc) for the one-hot input.
        let codes = try #require(try good.json()["codes"] as? [[Double]])
        let expected = (0..<3).map { Double(max(model.wEnc[$0] + model.bEnc[$0], 0)) }
        #expect(zip(codes[0], expected).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}

enum SAECoreFixtures {
    /// A 4 → 3 model with fixed, mixed-sign weights.
    static func tinyModel() throws -> Autoencoder {
        Autoencoder(
            config: .init(inputSize: 4, hiddenSize: 3),
            wEnc: [0.5, -0.25, 0.125, -0.5, 0.75, 0.25, 0.3, -0.2, 0.1, 0.05, 0.4, -0.6],
            bEnc: [0.01, -0.02, 0.03],
            wDec: [0.2, 0.1, -0.1, 0.3, -0.4, 0.5, 0.6, -0.7, 0.8, 0.9, -1.0, 0.15],
            bDec: [0, 0.1, -0.1, 0.2])
    }
}
