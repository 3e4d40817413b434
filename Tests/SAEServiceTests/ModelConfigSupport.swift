import Foundation
import SAECore
import Testing
@testable import SAEService

/// Small CSV datasets, jobs run to their end, and a plain-loop reference encoder, for the
/// tests of model configuration, init_from and epoch metrics.
enum ModelConfigSupport {
    /// Writes `rows` as a CSV file named `name` in the service's datasets directory.
    static func writeCSV(_ service: Service, _ name: String, _ rows: [[Float]]) throws {
        let text = rows.map { $0.map { "\($0)" }.joined(separator: ",") }.joined(separator: "\n") + "\n"
        try text.write(toFile: service.config.datasetsDirectory + "/" + name, atomically: true, encoding: .utf8)
    }

    /// `count` rows of `width` values from a fixed linear congruential sequence, column `j`
    /// scaled by `scales[j]` and shifted by `offsets[j]`.
    static func rows(_ count: Int, width: Int, scales: [Float]? = nil, offsets: [Float]? = nil,
                     seed: UInt32 = 7) -> [[Float]] {
        var state = seed
        return (0..<count).map { _ in
            (0..<width).map { j in
                state = state &* 1_664_525 &+ 1_013_904_223
                let unit = Float(state >> 8) / Float(1 << 24)
                return unit * (scales?[j] ?? 1) + (offsets?[j] ?? 0)
            }
        }
    }

    /// Submits `body`, waits (bounded) for the job to end, and returns its final JSON.
    static func runJob(_ service: Service, _ body: String) throws -> [String: Any] {
        let submitted = try TestHTTPClient.request("POST", "/v1/jobs", port: service.port, body: body)
        guard submitted.status == 202, let id = try submitted.json()["id"] as? String else {
            throw TestClientError("job refused: \(submitted.status) \(submitted.text)")
        }
        var job: [String: Any] = [:]
        let ended = try eventually(seconds: 60) {
            job = try TestHTTPClient.request("GET", "/v1/jobs/\(id)", port: service.port).json()
            return ["succeeded", "failed", "cancelled"].contains(job["state"] as? String ?? "")
        }
        guard ended else { throw TestClientError("job \(id) did not end: \(job)") }
        return job
    }

    /// Runs `body` to success and returns the model's id.
    static func trainModel(_ service: Service, _ body: String) throws -> String {
        let job = try runJob(service, body)
        guard job["state"] as? String == "succeeded", let id = job["model_id"] as? String else {
            throw TestClientError("job did not succeed: \(job)")
        }
        return id
    }

    /// The saved weights of model `id`, read straight from its folder.
    static func savedWeights(_ service: Service, _ id: String) throws -> Autoencoder {
        try Autoencoder.load(from: URL(fileURLWithPath: service.config.dataDirectory + "/models/" + id)).model
    }

    /// `GET /v1/models/ID` as JSON.
    static func modelJSON(_ service: Service, _ id: String) throws -> [String: Any] {
        try TestHTTPClient.request("GET", "/v1/models/\(id)", port: service.port).json()
    }

    /// `POST /v1/models/ID/<operation>` with JSON rows under `field`; returns the answer's rows
    /// under `answer`.
    static func rowsOperation(_ service: Service, _ id: String, _ operation: String, field: String = "inputs",
                              _ rows: [[Float]], answer: String) throws -> [[Double]] {
        let body = try JSONSerialization.data(withJSONObject: [field: rows.map { $0.map(Double.init) }])
        let response = try TestHTTPClient.request(
            "POST", "/v1/models/\(id)/\(operation)", port: service.port, body: String(decoding: body, as: UTF8.self))
        guard response.status == 200, let out = try response.json()[answer] as? [[Double]] else {
            throw TestClientError("\(operation) answered \(response.status): \(response.text.prefix(300))")
        }
        return out
    }

    /// A reference encoder, one row at a time in Double: `z = (x − c)·W_enc + b_enc`, with
    /// `c = b_dec` when subtracting; `z_j` is kept when `z_j > threshold` (all when nil), then
    /// ReLU. `W_enc` is `d × h` row-major.
    static func plainEncode(_ x: [Double], _ model: Autoencoder, threshold: Double?) -> [Double] {
        let (d, h) = (model.config.inputSize, model.config.hiddenSize)
        return (0..<h).map { j in
            var z = Double(model.bEnc[j])
            for i in 0..<d {
                let input = x[i] - (model.config.subtractsDecoderBias ? Double(model.bDec[i]) : 0)
                z += input * Double(model.wEnc[i * h + j])
            }
            if let threshold, !(z > threshold) { return 0 }
            return max(z, 0)
        }
    }

    /// A reference ReLU decoder in Double: `relu(h·W_dec + b_dec)`, `W_dec` `h × d` row-major.
    static func plainDecode(_ code: [Double], _ model: Autoencoder) -> [Double] {
        let (d, h) = (model.config.inputSize, model.config.hiddenSize)
        return (0..<d).map { i in
            var sum = Double(model.bDec[i])
            for j in 0..<h { sum += code[j] * Double(model.wDec[j * d + i]) }
            return max(sum, 0)
        }
    }

    /// The largest absolute difference between two equally shaped matrices.
    static func maxDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
        zip(a, b).flatMap { zip($0, $1).map { abs($0 - $1) } }.max() ?? .infinity
    }
}
