import Foundation
import SAECore
@testable import SAEService

/// A live service on 127.0.0.1 port 0 with its own temporary directories, for one test.
enum LiveService {
    /// Starts a service configured by `configure`, runs `body`, then stops it and removes its
    /// directories. Jobs still queued or running are cancelled first.
    static func run(_ configure: (inout ServiceConfig) -> Void = { _ in },
                    _ body: (Service) throws -> Void) throws {
        let directory = try EndToEndTests.temporaryDirectory()
        var config = EndToEndTests.makeConfig(dataDirectory: directory)
        configure(&config)
        let service = try Service(config: config, logger: .none)
        try service.start()
        defer {
            for job in service.jobs.list() where !job.state.isFinished { _ = try? service.jobs.cancel(id: job.id) }
            service.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        try body(service)
    }

    /// Saves the 4 → 3 test model as `id` straight into the store.
    @discardableResult
    static func saveTinyModel(_ service: Service, id: String = "model_tiny") throws -> Autoencoder {
        let model = try SAECoreFixtures.tinyModel()
        try service.models.save(model, info: ModelInfo(
            id: id, jobID: nil, name: nil, createdAt: Date(), config: model.config, normalization: .unit,
            metrics: nil, training: nil))
        return model
    }
}

/// Requests with any body bytes and headers (TestHTTPClient sends JSON text only).
enum RawHTTP {
    static func send(_ method: String, _ target: String, port: Int, body: [UInt8]? = nil,
                     headers: [String: String] = [:]) throws -> TestResponse {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        let raw = try TestHTTPClient.exchange(Array(head.utf8) + (body ?? []), port: port, timeoutSeconds: 30)
        return try TestHTTPClient.parse(raw)
    }

    /// The `error` object of a JSON error body.
    static func error(_ response: TestResponse) throws -> [String: Any] {
        guard let error = try response.json()["error"] as? [String: Any] else {
            throw TestClientError("no error object in \(response.text.prefix(200))")
        }
        return error
    }
}

/// Little-endian float32 bytes and back.
enum Float32Bytes {
    static func encode(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    }

    static func decode(_ bytes: [UInt8]) -> [Float] {
        stride(from: 0, to: bytes.count, by: 4).map { offset in
            Float(bitPattern: bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        }
    }
}

/// Polls until `condition` holds or `seconds` pass; returns whether it held.
func eventually(seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return try condition()
}
