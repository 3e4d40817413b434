import Foundation
import HTTPServer

/// The daemon's settings, read from `config/saed.json` and overridden by command-line flags.
///
/// Relative directories are resolved against the working directory the daemon starts in.
package struct ServiceConfig: Sendable, Equatable {
    package var host = "127.0.0.1"
    package var port = 8080
    /// Where jobs and models are stored (`jobs/`, `models/`).
    package var dataDirectory = "data"
    /// The only directory from which a job may read dataset files by path.
    package var datasetsDirectory = "datasets"
    /// Where the built-in `fashion-mnist` dataset's IDX files live.
    package var fashionMNISTDirectory = "/usr/share/datasets/fashion-mnist"
    /// Jobs trained at the same time; more wait in a FIFO queue.
    package var maxConcurrentJobs = 1
    /// Queued jobs beyond which a submission gets 429.
    package var maxQueuedJobs = 64
    /// Rows accepted by one encode, decode or reconstruct request.
    package var maxEncodeRows = 4096
    /// The most memory one job's trainer may need (weights, optimiser state and batch buffers,
    /// estimated from the sizes); a larger job is refused rather than exhausting the machine.
    package var maxTrainingMemoryBytes = 8 << 30
    package var maxHeaderBytes = 16_384
    /// The longest request-target (path and query) accepted; longer ones get 414.
    package var maxTargetLength = 8_192
    package var maxBodyBytes = 64 << 20
    /// The largest body of `POST /v1/datasets` and `POST /v1/models`; held in memory whole.
    package var maxUploadBytes = 256 << 20
    package var headerTimeoutSeconds = 10.0
    /// Seconds a whole request body may take to arrive; an upload near `maxUploadBytes` over a
    /// slow link may need more than the default.
    package var bodyTimeoutSeconds = 30.0
    package var idleTimeoutSeconds = 60.0
    package var writeTimeoutSeconds = 30.0
    package var maxConnections = 1024
    /// Seconds between heartbeat comments on an idle event stream.
    package var heartbeatSeconds = 15.0
    /// Seconds SIGTERM waits for in-flight requests before exiting.
    package var shutdownGraceSeconds = 10.0
    /// A file holding the bearer token every `/v1` route then requires; when nil, the
    /// `SAED_TOKEN` environment variable is used if set.
    package var authTokenFile: String?
    /// The token itself, set by code (tests); wins over the file and the environment.
    package var authToken: String?

    /// The environment variable read for the token when no file is configured.
    package static let tokenEnvironmentVariable = "SAED_TOKEN"

    package init() {}

    /// Reads a config file; every field is optional, unknown fields are refused.
    package static func load(contentsOf url: URL) throws -> ServiceConfig {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: url))
        } catch {
            throw ConfigError("cannot read config file \(url.lastPathComponent): \(error.localizedDescription)")
        }
        do {
            return try parse(JSONValue.parse(bytes, source: "the file"))
        } catch let error as ServiceError {
            throw ConfigError("config file \(url.lastPathComponent): \(error.message)")
        }
    }

    /// Heartbeats of an idle event stream: from ten a second to one an hour.
    static let heartbeatRange: ClosedRange<Double> = 0.1...3600
    /// Request timeouts: a tenth of a second up to a day (for large uploads over slow links).
    static let timeoutRange: ClosedRange<Double> = 0.1...86_400

    package static func parse(_ json: JSONValue) throws -> ServiceConfig {
        var reader = try JSONObjectReader(json, path: "")
        var config = ServiceConfig()
        // An empty host or directory is refused rather than read as "any" or "here".
        func nonEmpty(_ key: String) throws -> String? {
            guard let text = try reader.string(key) else { return nil }
            guard !text.isEmpty else { throw ServiceError.invalidField(path: key, message: "must not be empty") }
            return text
        }
        config.host = try nonEmpty("host") ?? config.host
        config.port = try reader.integer("port", in: 0...65_535) ?? config.port
        config.dataDirectory = try nonEmpty("data_directory") ?? config.dataDirectory
        config.datasetsDirectory = try nonEmpty("datasets_directory") ?? config.datasetsDirectory
        config.fashionMNISTDirectory = try nonEmpty("fashion_mnist_directory") ?? config.fashionMNISTDirectory
        config.maxConcurrentJobs = try reader.integer("max_concurrent_jobs", in: 1...64) ?? config.maxConcurrentJobs
        config.maxQueuedJobs = try reader.integer("max_queued_jobs", in: 1...100_000) ?? config.maxQueuedJobs
        config.maxEncodeRows = try reader.integer("max_encode_rows", in: 1...1_000_000) ?? config.maxEncodeRows
        config.maxTrainingMemoryBytes = try reader.integer("max_training_memory_bytes", in: 1 << 20...1 << 50)
            ?? config.maxTrainingMemoryBytes
        config.heartbeatSeconds = try reader.number("heartbeat_seconds", in: Self.heartbeatRange) ?? config.heartbeatSeconds
        config.shutdownGraceSeconds = try reader.number("shutdown_grace_seconds", in: 0...3600) ?? config.shutdownGraceSeconds
        config.authTokenFile = try nonEmpty("auth_token_file") ?? config.authTokenFile
        if var limits = try reader.object("limits") {
            config.maxHeaderBytes = try limits.integer("max_header_bytes", in: 1024...1 << 20) ?? config.maxHeaderBytes
            config.maxTargetLength =
                try limits.integer("max_target_length", in: 256...1 << 20) ?? config.maxTargetLength
            config.maxBodyBytes = try limits.integer("max_body_bytes", in: 1024...1 << 34) ?? config.maxBodyBytes
            config.maxUploadBytes = try limits.integer("max_upload_bytes", in: 1024...1 << 34) ?? config.maxUploadBytes
            config.headerTimeoutSeconds = try limits.number("header_timeout_seconds", in: Self.timeoutRange) ?? config.headerTimeoutSeconds
            config.bodyTimeoutSeconds = try limits.number("body_timeout_seconds", in: Self.timeoutRange) ?? config.bodyTimeoutSeconds
            config.idleTimeoutSeconds = try limits.number("idle_timeout_seconds", in: Self.timeoutRange) ?? config.idleTimeoutSeconds
            config.writeTimeoutSeconds = try limits.number("write_timeout_seconds", in: Self.timeoutRange) ?? config.writeTimeoutSeconds
            config.maxConnections = try limits.integer("max_connections", in: 1...100_000) ?? config.maxConnections
            try limits.rejectUnknownFields()
        }
        try reader.rejectUnknownFields()
        return config
    }

    /// The bearer token `/v1` routes require, or nil when they are open: `authToken`, else the
    /// trimmed contents of `authTokenFile`, else `SAED_TOKEN` from `environment`.
    ///
    /// Throws `ConfigError` for a token file that cannot be read or holds no token, so a
    /// misconfigured daemon refuses to start rather than running unprotected.
    package func resolvedAuthToken(environment: [String: String]) throws -> String? {
        if let authToken { return try Self.checkedToken(authToken, source: "auth_token") }
        if let path = authTokenFile {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigError("cannot read auth_token_file \(path): \(error.localizedDescription)")
            }
            return try Self.checkedToken(text, source: "auth_token_file \(path)")
        }
        guard let value = environment[Self.tokenEnvironmentVariable], !value.isEmpty else { return nil }
        return try Self.checkedToken(value, source: Self.tokenEnvironmentVariable)
    }

    private static func checkedToken(_ text: String, source: String) throws -> String {
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw ConfigError("\(source) holds no token") }
        // RFC 6750 token68 characters, so a client can always send it in the header.
        let isToken68 = token.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || "-._~+/=".utf8.contains(byte)
        }
        guard isToken68 else {
            throw ConfigError("\(source): the token may hold only letters, digits and -._~+/=")
        }
        return token
    }

    /// The HTTP server's part of the settings.
    /// Where uploads are written while they arrive: `spool/` in the data directory, emptied
    /// at start.
    package var spoolDirectory: String {
        URL(fileURLWithPath: dataDirectory).appendingPathComponent("spool").path
    }

    package var serverConfiguration: ServerConfiguration {
        var server = ServerConfiguration()
        server.host = host
        server.port = port
        server.maxHeaderBytes = maxHeaderBytes
        server.maxTargetLength = maxTargetLength
        server.maxBodyBytes = maxBodyBytes
        server.headerTimeoutSeconds = headerTimeoutSeconds
        server.bodyTimeoutSeconds = bodyTimeoutSeconds
        server.idleTimeoutSeconds = idleTimeoutSeconds
        server.writeTimeoutSeconds = writeTimeoutSeconds
        server.maxConnections = maxConnections
        server.spoolDirectory = spoolDirectory
        return server
    }
}

/// A config file that cannot be used; the daemon prints it and exits 2.
package struct ConfigError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
