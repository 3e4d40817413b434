import Foundation
import HTTPServer
import SAECore

/// The saed service: job manager, model store and datasets behind the HTTP routes.
///
/// `start` opens the stores under the data directory, starts the trainers and the server;
/// `stop` drains both. The `saed` executable and the end-to-end tests wire it the same way.
package final class Service: Sendable {
    package let config: ServiceConfig
    package let jobs: JobManager
    package let models: ModelStore
    let logger: Logger
    private let server: HTTPServer

    package init(config: ServiceConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        let data = URL(fileURLWithPath: config.dataDirectory)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let database = try SQLiteDatabase(path: data.appendingPathComponent("saed.db").path)
        try Schema.migrate(database)
        models = try ModelStore(directory: data.appendingPathComponent("models"), database: database, logger: logger)
        let datasets = DatasetCatalog(
            datasetsDirectory: URL(fileURLWithPath: config.datasetsDirectory),
            fashionMNISTDirectory: URL(fileURLWithPath: config.fashionMNISTDirectory))
        jobs = try JobManager(
            store: JobStore(database: database), models: models,
            datasets: datasets, maxConcurrentJobs: config.maxConcurrentJobs,
            maxQueuedJobs: config.maxQueuedJobs, logger: logger)
        let router = Router()
        server = HTTPServer(configuration: config.serverConfiguration, router: router) { line in
            logger.debug("http", ["http.event": line])
        }
        Routes(service: self).register(on: router)
    }

    /// The port the server listens on (useful when the config asked for port 0).
    package var port: Int { server.port }

    /// Starts the trainers and the HTTP server. Throws when the address cannot be bound.
    package func start() throws {
        try server.start()
        jobs.start()
        logger.info("saed listening", [
            "http.address": "\(config.host):\(server.port)", "data.directory": config.dataDirectory,
        ])
    }

    /// Stops accepting requests, lets in-flight ones finish and stops the trainers; a job that
    /// was training goes back to the queue and trains again at the next start.
    package func stop() {
        logger.info("saed stopping", ["grace.seconds": "\(config.shutdownGraceSeconds)"])
        jobs.stop(graceSeconds: config.shutdownGraceSeconds)
        server.shutdown(graceSeconds: config.shutdownGraceSeconds)
        logger.info("saed stopped")
    }
}
