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
    package var maxHeaderBytes = 16_384
    package var maxBodyBytes = 64 << 20
    package var headerTimeoutSeconds = 10.0
    package var idleTimeoutSeconds = 60.0
    package var writeTimeoutSeconds = 30.0
    package var maxConnections = 1024
    /// Seconds between heartbeat comments on an idle event stream.
    package var heartbeatSeconds = 15.0
    /// Seconds SIGTERM waits for in-flight requests before exiting.
    package var shutdownGraceSeconds = 10.0

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
            return try parse(JSONValue.parse(bytes))
        } catch let error as ServiceError {
            throw ConfigError("config file \(url.lastPathComponent): \(error.message)")
        }
    }

    package static func parse(_ json: JSONValue) throws -> ServiceConfig {
        var reader = try JSONObjectReader(json, path: "")
        var config = ServiceConfig()
        config.host = try reader.string("host") ?? config.host
        config.port = try reader.integer("port", in: 0...65_535) ?? config.port
        config.dataDirectory = try reader.string("data_directory") ?? config.dataDirectory
        config.datasetsDirectory = try reader.string("datasets_directory") ?? config.datasetsDirectory
        config.fashionMNISTDirectory = try reader.string("fashion_mnist_directory") ?? config.fashionMNISTDirectory
        config.maxConcurrentJobs = try reader.integer("max_concurrent_jobs", in: 1...64) ?? config.maxConcurrentJobs
        config.maxQueuedJobs = try reader.integer("max_queued_jobs", in: 1...100_000) ?? config.maxQueuedJobs
        config.maxEncodeRows = try reader.integer("max_encode_rows", in: 1...1_000_000) ?? config.maxEncodeRows
        config.heartbeatSeconds = try reader.number("heartbeat_seconds") ?? config.heartbeatSeconds
        config.shutdownGraceSeconds = try reader.number("shutdown_grace_seconds") ?? config.shutdownGraceSeconds
        if var limits = try reader.object("limits") {
            config.maxHeaderBytes = try limits.integer("max_header_bytes", in: 1024...1 << 20) ?? config.maxHeaderBytes
            config.maxBodyBytes = try limits.integer("max_body_bytes", in: 1024...1 << 34) ?? config.maxBodyBytes
            config.headerTimeoutSeconds = try limits.number("header_timeout_seconds") ?? config.headerTimeoutSeconds
            config.idleTimeoutSeconds = try limits.number("idle_timeout_seconds") ?? config.idleTimeoutSeconds
            config.writeTimeoutSeconds = try limits.number("write_timeout_seconds") ?? config.writeTimeoutSeconds
            config.maxConnections = try limits.integer("max_connections", in: 1...100_000) ?? config.maxConnections
            try limits.rejectUnknownFields()
        }
        try reader.rejectUnknownFields()
        return config
    }

    /// The HTTP server's part of the settings.
    package var serverConfiguration: ServerConfiguration {
        var server = ServerConfiguration()
        server.host = host
        server.port = port
        server.maxHeaderBytes = maxHeaderBytes
        server.maxBodyBytes = maxBodyBytes
        server.headerTimeoutSeconds = headerTimeoutSeconds
        server.idleTimeoutSeconds = idleTimeoutSeconds
        server.writeTimeoutSeconds = writeTimeoutSeconds
        server.maxConnections = maxConnections
        return server
    }
}

/// A config file that cannot be used; the daemon prints it and exits 2.
package struct ConfigError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
