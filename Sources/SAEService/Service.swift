import Foundation
import HTTPServer
import SAECore
import Synchronization

/// The saed service: job manager, model store and datasets behind the HTTP routes.
///
/// `start` opens the stores under the data directory, starts the trainers and the server;
/// `stop` drains both. The `saed` executable and the end-to-end tests wire it the same way.
package final class Service: Sendable {
    package let config: ServiceConfig
    package let jobs: JobManager
    package let models: ModelStore
    /// Datasets uploaded through the API.
    package let uploads: DatasetStore
    /// Resolves and caches every dataset a job or picture names.
    package let datasets: DatasetCatalog
    /// Counters and histograms for `GET /metrics`.
    package let metrics: Metrics
    /// The SQLite store shared by jobs, models and datasets.
    package let database: SQLiteDatabase
    /// Every route the server answers, as registered by `Routes`.
    package let router: Router
    let auth: BearerAuth
    let logger: Logger
    private let server: HTTPServer

    /// Where the daemon is in its life, for `/readyz`.
    private enum Phase { case starting, ready, draining }
    private struct Readiness {
        var phase = Phase.starting
        /// When the store last took the probe write, to answer probes in a burst from one write.
        var lastGoodProbe: Date?
    }
    /// Guards the phase and the last probe.
    private let readiness = Mutex(Readiness())
    /// How long one successful store probe vouches for the store.
    private static let probeValiditySeconds = 0.25

    /// Opens (or creates) the store under the data directory, migrates it, and loads the jobs,
    /// models and datasets in it. Throws for a store that cannot be opened or a token file
    /// that cannot be read; nothing listens until `start`.
    /// Held from `init` until `stop`; a second daemon on the same data directory fails.
    private let lock: Mutex<DataDirectoryLock?>

    package init(config: ServiceConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        // A local too, so the job manager can be handed it before `self` is complete.
        let metrics = Metrics()
        self.metrics = metrics
        auth = BearerAuth(token: try config.resolvedAuthToken(environment: ProcessInfo.processInfo.environment))
        let data = URL(fileURLWithPath: config.dataDirectory)
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        lock = Mutex(try DataDirectoryLock(directory: data))
        // Bodies left by uploads the last process never finished go first.
        let spool = URL(fileURLWithPath: config.spoolDirectory)
        try? FileManager.default.removeItem(at: spool)
        try FileManager.default.createDirectory(at: spool, withIntermediateDirectories: true)
        // Writes a crash cut short left their temporary files; the files they were replacing
        // are intact. With the lock held, no other process is writing here.
        for file in AtomicFile.removeLeftovers(under: data) {
            logger.warning("unfinished write removed", ["file": file])
        }
        database = try SQLiteDatabase(path: data.appendingPathComponent("saed.db").path)
        try Schema.migrate(database)
        models = try ModelStore(directory: data.appendingPathComponent("models"), database: database, logger: logger)
        let datasetsDirectory = URL(fileURLWithPath: config.datasetsDirectory)
        uploads = try DatasetStore(datasetsDirectory: datasetsDirectory, database: database,
                                   maxExpandedBytes: config.maxUploadBytes, logger: logger)
        datasets = DatasetCatalog(
            datasetsDirectory: datasetsDirectory,
            fashionMNISTDirectory: URL(fileURLWithPath: config.fashionMNISTDirectory))
        jobs = try JobManager(
            store: JobStore(database: database), models: models, datasets: datasets, uploads: uploads,
            checkpoints: data.appendingPathComponent("checkpoints"), maxConcurrentJobs: config.maxConcurrentJobs,
            maxQueuedJobs: config.maxQueuedJobs, maxTrainingMemoryBytes: config.maxTrainingMemoryBytes,
            metrics: metrics, logger: logger)
        router = Router()
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
        readiness.withLock { $0.phase = .ready }
        logger.info("saed listening", [
            "http.address": "\(config.host):\(server.port)", "data.directory": config.dataDirectory,
            "auth": auth.isEnabled ? "bearer" : "none",
        ])
    }

    /// Stops accepting requests, lets in-flight ones finish and stops the trainers; a job that
    /// was training goes back to the queue and trains again at the next start.
    package func stop() {
        logger.info("saed stopping", ["grace.seconds": "\(config.shutdownGraceSeconds)"])
        readiness.withLock { $0.phase = .draining }
        jobs.stop(graceSeconds: config.shutdownGraceSeconds)
        server.shutdown(graceSeconds: config.shutdownGraceSeconds)
        lock.withLock { $0 = nil }
        logger.info("saed stopped")
    }
}

extension Service {
    /// Why the daemon should not get traffic now, or nil when it is ready: still starting,
    /// draining for a stop, or a store that refuses a small committed write.
    package func notReadyReason() -> String? {
        let (phase, lastGood) = readiness.withLock { ($0.phase, $0.lastGoodProbe) }
        switch phase {
        case .starting: return "the daemon is starting"
        case .draining: return "the daemon is shutting down"
        case .ready: break
        }
        if let lastGood, Date().timeIntervalSince(lastGood) < Self.probeValiditySeconds { return nil }
        do {
            try database.execute(
                """
                INSERT INTO readiness_probe (id, checked_at) VALUES (1, ?)
                ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at
                """,
                [.real(Date().timeIntervalSince1970)])
        } catch {
            logger.warning("store probe failed", ["error": "\(error)"])
            return "the store cannot be written"
        }
        readiness.withLock { $0.lastGoodProbe = Date() }
        return nil
    }
}
