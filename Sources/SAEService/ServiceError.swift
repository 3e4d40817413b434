import Foundation
import HTTPServer
import SAECore

/// Everything the service refuses, with the HTTP answer each one gets.
///
/// `code` is stable and carries no dynamic values, so clients can switch on it;
/// `message` says what was wrong and where; `field` names the JSON path when one applies.
package enum ServiceError: Error, Equatable {
    case malformedJSON(String)
    case invalidField(path: String, message: String)
    case unknownField(path: String)
    case unsupportedMediaType(String)
    /// A body, or what it expands to, over a limit the message names.
    case contentTooLarge(String)
    case jobNotFound(String)
    case modelNotFound(String)
    /// A job's dataset that is not there; `field` is the reference at fault (`dataset.path`).
    case datasetNotFound(field: String, message: String)
    /// A dataset file that does not read: the reader's code; `field` is the job's reference
    /// to it, nil for an upload.
    case datasetUnreadable(code: String, field: String? = nil, message: String)
    /// No uploaded dataset has this id (a lookup by id, as opposed to a job's reference).
    case uploadNotFound(String)
    /// An imported model that cannot be served: the code of the fault and a sentence.
    case modelInvalid(code: String, message: String)
    /// A `/v1` request without the configured bearer token (`tokenGiven` false), or with
    /// another one.
    case unauthorized(tokenGiven: Bool)
    /// `/readyz` while starting, draining or when the store refuses writes.
    case notReady(String)
    case invalidState(String)
    case nonFiniteOutput(what: String, row: Int)
    case jobTooLarge(String)
    case modelUnreadable(id: String, reason: String)
    case idempotencyConflict(key: String, jobID: String)
    case queueFull(depth: Int)
    case unavailable(String)
}

extension ServiceError: HTTPError {
    package var status: Int {
        switch self {
        case .malformedJSON, .invalidField, .unknownField: 400
        case .unsupportedMediaType: 415
        case .contentTooLarge: 413
        case .unauthorized: 401
        case .jobNotFound, .modelNotFound, .uploadNotFound: 404
        case .datasetNotFound, .datasetUnreadable, .modelInvalid: 422
        case .invalidState, .idempotencyConflict: 409
        case .nonFiniteOutput, .jobTooLarge: 422
        case .modelUnreadable: 500
        case .queueFull: 429
        case .unavailable, .notReady: 503
        }
    }

    package var code: String {
        switch self {
        case .malformedJSON: "malformed_json"
        case .invalidField: "invalid_field"
        case .unknownField: "unknown_field"
        case .unsupportedMediaType: "unsupported_media_type"
        case .contentTooLarge: "content_too_large"
        case .jobNotFound: "job_not_found"
        case .modelNotFound: "model_not_found"
        case .datasetNotFound: "dataset_not_found"
        case .datasetUnreadable(let code, _, _): code
        case .uploadNotFound: "dataset_not_found"
        case .modelInvalid(let code, _): code
        case .unauthorized: "unauthorized"
        case .notReady: "not_ready"
        case .invalidState: "invalid_state"
        case .idempotencyConflict: "idempotency_conflict"
        case .nonFiniteOutput: "non_finite_output"
        case .jobTooLarge: "job_too_large"
        case .modelUnreadable: "model_unreadable"
        case .queueFull: "queue_full"
        case .unavailable: "unavailable"
        }
    }

    package var message: String {
        switch self {
        case .malformedJSON(let message): message
        case .invalidField(let path, let message): "\(path): \(message)"
        case .unknownField(let path): "\(path): unknown field"
        case .unsupportedMediaType(let message): message
        case .contentTooLarge(let message): message
        case .jobNotFound(let id): "no job with id \"\(id)\""
        case .modelNotFound(let id): "no model with id \"\(id)\""
        case .datasetNotFound(_, let message): message
        case .datasetUnreadable(_, _, let message): message
        case .uploadNotFound(let id): "no dataset with id \"\(id)\""
        case .modelInvalid(_, let message): message
        case .unauthorized(let tokenGiven):
            tokenGiven
                ? "the bearer token is not valid"
                : "this server requires \"Authorization: Bearer <token>\" on /v1 routes"
        case .notReady(let message): message
        case .invalidState(let message): message
        case .jobTooLarge(let message): message
        case .modelUnreadable(let id, let reason): "the stored weights of model \(id) cannot be read: \(reason)"
        case .nonFiniteOutput(let what, let row):
            "\(what)[\(row)] overflowed float32; the input is far outside the range the model was trained on"
        case .idempotencyConflict(let key, let jobID):
            "Idempotency-Key \"\(key)\" was used for job \(jobID) with a different body"
        case .queueFull(let depth): "the job queue is full (\(depth) jobs waiting); retry later"
        case .unavailable(let message): message
        }
    }

    /// The JSON path of the offending field, when the error is about one.
    package var field: String? {
        switch self {
        case .invalidField(let path, _), .unknownField(let path): path
        case .datasetNotFound(let path, _): path
        case .datasetUnreadable(_, let path, _): path
        default: nil
        }
    }

    package var headers: HTTPHeaders {
        switch self {
        case .queueFull: HTTPHeaders([("Retry-After", "5")])
        case .notReady: HTTPHeaders([("Retry-After", "1")])
        case .unauthorized(let tokenGiven):
            // RFC 6750: name the scheme, and say when a token came but was wrong.
            tokenGiven
                ? HTTPHeaders([("WWW-Authenticate", #"Bearer realm="saed", error="invalid_token""#)])
                : HTTPHeaders([("WWW-Authenticate", #"Bearer realm="saed""#)])
        default: HTTPHeaders()
        }
    }
}

/// Builds the JSON error body every error response of the service carries:
/// `{"error": {"code": ..., "message": ..., "field": ...}}`.
package func errorResponse(for error: any Error) -> HTTPResponse {
    let status: Int
    let code: String
    let message: String
    var field: String?
    var headers = HTTPHeaders()
    switch error {
    case let error as ServiceError:
        (status, code, message, field, headers) = (error.status, error.code, error.message, error.field, error.headers)
    case let error as any HTTPError:
        (status, code, message, headers) = (error.status, error.code, error.message, error.headers)
    default:
        (status, code, message) = (500, "internal_error", "internal server error")
    }
    var body: [String: String] = ["code": code, "message": message]
    body["field"] = field
    let data = (try? JSONSerialization.data(withJSONObject: ["error": body], options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    return HTTPResponse.json(status, [UInt8](data), headers: headers)
}
