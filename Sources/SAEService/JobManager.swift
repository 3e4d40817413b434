import Foundation
import SAECore

/// Accepts jobs, keeps them in a FIFO queue, trains them on worker threads and records
/// every change durably before anyone can see it.
///
/// Threads: request handlers call in from the server's threads; `maxConcurrentJobs` worker
/// threads train. A job's events can be awaited (`events(forJob:after:waitSeconds:)`), which
/// is how the event stream follows a running job.
package final class JobManager: @unchecked Sendable {
    // @unchecked: every mutable property below is guarded by `condition`, whose broadcast also
    // wakes event-stream readers. Nothing is touched without holding it.
    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var jobs: [String: Job] = [:]
    /// Ids of queued jobs, oldest first. Guarded by `condition`.
    private var queue: [String] = []
    /// Running jobs whose cancellation was asked for. Guarded by `condition`.
    private var cancelRequested: Set<String> = []
    /// Set once by `stop`; workers finish their batch and leave. Guarded by `condition`.
    private var isStopping = false
    /// Worker threads still running. Guarded by `condition`.
    private var activeWorkers = 0
    /// Job id by the client's Idempotency-Key. Guarded by `condition`.
    private var idempotencyKeys: [String: String] = [:]

    private let store: JobStore
    private let models: ModelStore
    private let metrics: Metrics
    /// Where each running job's training state is kept after every epoch, `<job id>.ckpt`.
    private let checkpoints: URL
    private let datasets: DatasetCatalog
    /// Uploaded datasets' records, whose shapes let a submission be checked before it runs.
    private let uploads: DatasetStore?
    private let maxConcurrentJobs: Int
    private let maxQueuedJobs: Int
    private let maxTrainingMemoryBytes: Int
    private let logger: Logger

    /// Loads the stored jobs. A job that was running when the daemon last stopped goes back
    /// to the queue, ahead of jobs submitted later, and resumes from its last epoch checkpoint;
    /// with `resumesInterruptedJobs` false it fails instead, saying why.
    package init(store: JobStore, models: ModelStore, datasets: DatasetCatalog, uploads: DatasetStore? = nil,
                 checkpoints: URL, maxConcurrentJobs: Int, maxQueuedJobs: Int, maxTrainingMemoryBytes: Int = 8 << 30,
                 resumesInterruptedJobs: Bool = true, metrics: Metrics = Metrics(), logger: Logger) throws {
        self.maxTrainingMemoryBytes = maxTrainingMemoryBytes
        try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        self.store = store
        self.models = models
        self.metrics = metrics
        self.checkpoints = checkpoints
        self.datasets = datasets
        self.uploads = uploads
        self.maxConcurrentJobs = maxConcurrentJobs
        self.maxQueuedJobs = maxQueuedJobs
        self.logger = logger

        let (stored, skipped) = try store.loadAll()
        for (id, reason) in skipped {
            logger.warning("stored job skipped", ["job.id": id, "error": reason])
        }
        for var job in stored {
            if job.state == .cancelling {
                job.transition(to: .cancelled, at: Date())
                persist(job)
            } else if job.state == .running && (job.attempts ?? 0) >= Self.maxAttempts {
                let failure = JobFailure(
                    code: "interrupted_repeatedly",
                    message: "the daemon stopped \(Self.maxAttempts) times while this job was training "
                        + "(out of memory?); it was not started again")
                job.transition(to: .failed, at: Date(), failure: failure)
                persist(job)
                logger.warning("job failed after repeated interruptions", ["job.id": job.id])
            } else if job.state == .running && resumesInterruptedJobs {
                job.transition(to: .queued, at: Date())
                persist(job)
                logger.info("job requeued after interruption", ["job.id": job.id])
            } else if job.state == .running {
                let failure = JobFailure(
                    code: "interrupted",
                    message: "the daemon stopped during epoch \(job.history.count + 1); submit the job again")
                job.transition(to: .failed, at: Date(), failure: failure)
                persist(job)
            }
            if job.state.isFinished { removeCheckpoint(job.id) }
            jobs[job.id] = job
            if job.state == .queued { queue.append(job.id) }
            if let key = job.idempotencyKey { idempotencyKeys[key] = job.id }
        }
    }

    /// Starts of one job after which an interruption fails it instead of queueing it again.
    package static let maxAttempts = 3

    /// Starts the worker threads.
    package func start() {
        condition.withLock { activeWorkers = maxConcurrentJobs }
        for index in 0..<maxConcurrentJobs {
            let thread = Thread { [self] in
                while let id = nextQueuedJob() { run(id) }
                condition.withLock {
                    activeWorkers -= 1
                    condition.broadcast()
                }
            }
            thread.name = "saed.trainer.\(index)"
            thread.stackSize = 4 << 20
            thread.start()
        }
    }

    /// Stops taking jobs; running ones stop at their next batch and go back to the queue,
    /// so they train again after a restart. Waits up to `graceSeconds` for the workers.
    package func stop(graceSeconds: Double) {
        let deadline = Date().addingTimeInterval(graceSeconds)
        condition.withLock {
            isStopping = true
            condition.broadcast()
            while activeWorkers > 0 && condition.wait(until: deadline) {}
        }
    }

    // MARK: - Requests

    /// Checks what a submission would check, without queueing anything: the spec's datasets
    /// must exist where it says.
    package func validate(_ spec: JobSpec) throws {
        _ = try datasets.resolve(spec.training.reference, field: "dataset")
        if let validation = spec.validation {
            _ = try datasets.resolve(validation.reference, field: "validation")
        }
        // The shapes of the built-in dataset and of uploads are known without reading them;
        // files named by path are checked when the job starts and their shape is known.
        let training = knownShape(of: spec.training)
        if let training {
            try spec.checkMemory(inputWidth: training.width, rows: training.rows, limit: maxTrainingMemoryBytes)
            if let validation = spec.validation.flatMap(knownShape), validation.width != training.width {
                throw ServiceError.invalidField(
                    path: "validation",
                    message: "rows have \(validation.width) values but the training rows have \(training.width)")
            }
        }
        if let id = spec.initFrom {
            try spec.checkInitialSizes(of: try initialModelInfo(id).config, inputSize: training?.width)
        }
    }

    /// The rows (after `limit`) and width of `source` when known without reading it: the
    /// built-in dataset's, or an upload's from its record. Nil for a file named by path.
    private func knownShape(of source: DatasetSource) -> (rows: Int, width: Int)? {
        let shape: (rows: Int, width: Int)
        switch source.reference {
        case .builtin(_, let split):
            shape = (split == "train" ? 60_000 : 10_000, 784)
        case .uploaded(let id):
            guard let info = try? uploads?.info(id: id) else { return nil }
            shape = (info.rows, info.width)
        case .path:
            return nil
        }
        return (min(source.limit ?? shape.rows, shape.rows), shape.width)
    }

    /// The `init_from` model's record; throws 400 naming `init_from` when there is none.
    private func initialModelInfo(_ id: String) throws -> ModelInfo {
        do {
            return try models.info(id: id)
        } catch ServiceError.modelNotFound {
            throw ServiceError.invalidField(
                path: "init_from", message: "there is no model \"\(id)\"; GET /v1/models lists them")
        }
    }

    /// Stores a new queued job. Throws `queueFull` beyond the queue depth.
    ///
    /// With an `idempotencyKey` already used for the same spec, returns that job and
    /// `isNew == false`; for another spec, throws `idempotencyConflict`.
    package func submit(_ spec: JobSpec, idempotencyKey: String? = nil) throws -> (job: Job, isNew: Bool) {
        try condition.withLock {
            // Refuse datasets that do not exist now rather than failing the job later. Checked
            // under the lock, so a dataset deleted in `withSubmissionsHeld` is either gone
            // here or sees this job.
            try validate(spec)
            if let key = idempotencyKey, let id = idempotencyKeys[key], let existing = jobs[id] {
                guard existing.spec == spec.json else { throw ServiceError.idempotencyConflict(key: key, jobID: id) }
                return (existing, false)
            }
            guard !isStopping else { throw ServiceError.unavailable("the daemon is shutting down") }
            guard queue.count < maxQueuedJobs else { throw ServiceError.queueFull(depth: queue.count) }
            var job = Job(id: Self.newID(prefix: "job"), spec: spec, createdAt: Date())
            job.idempotencyKey = idempotencyKey
            do {
                try store.save(job)
            } catch {
                logger.error("job store write failed", ["error": "\(error)"])
                throw ServiceError.unavailable("the job could not be stored; nothing was queued")
            }
            jobs[job.id] = job
            queue.append(job.id)
            if let key = idempotencyKey { idempotencyKeys[key] = job.id }
            condition.broadcast()
            logger.info("job accepted", ["job.id": job.id, "job.epochs": "\(job.epochs)"])
            return (job, true)
        }
    }

    /// Runs `body` with every job that has not ended, while no job can be submitted.
    ///
    /// For actions that must not race a submission, such as deleting a dataset: a submission
    /// either lands before, and `body` sees its job, or after, and its own dataset check
    /// (`validate`) sees what `body` did. `body` runs under the manager's lock, so it must be
    /// short and must not call back into the manager.
    package func withSubmissionsHeld<T>(_ body: (_ unfinished: [Job]) throws -> T) throws -> T {
        try condition.withLock { try body(jobs.values.filter { !$0.state.isFinished }) }
    }

    /// Forgets a finished job and its events. Throws `invalidState` (409) for one that has not
    /// ended; its model, if any, stays.
    package func delete(id: String) throws {
        try condition.withLock {
            guard let job = jobs[id] else { throw ServiceError.jobNotFound(id) }
            guard job.state.isFinished else {
                throw ServiceError.invalidState("job \(id) is \(job.state.rawValue); cancel it first, then delete it")
            }
            do {
                try store.delete(id: id)
            } catch {
                logger.error("job store delete failed", ["job.id": id, "error": "\(error)"])
                throw ServiceError.unavailable("the job could not be deleted from the store")
            }
            jobs[id] = nil
            if let key = job.idempotencyKey { idempotencyKeys[key] = nil }
            condition.broadcast()
        }
    }

    package func job(id: String) throws -> Job {
        guard let job = condition.withLock({ jobs[id] }) else { throw ServiceError.jobNotFound(id) }
        return job
    }

    /// Jobs newest first, optionally only those in `state`.
    package func list(state: JobState? = nil) -> [Job] {
        condition.withLock { Array(jobs.values) }
            .filter { state == nil || $0.state == state }
            .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    }

    /// One page of `list(state:)`: at most `limit` jobs created before the `cursor` job
    /// (exclusive), and the cursor for the next page when there is one.
    package func page(state: JobState?, limit: Int, after cursor: JobCursor?) -> (jobs: [Job], next: JobCursor?) {
        var remaining = list(state: state)[...]
        if let cursor {
            remaining = remaining.drop { ($0.createdAt, $0.id) >= (cursor.createdAt, cursor.id) }
        }
        let page = Array(remaining.prefix(limit))
        let hasMore = remaining.count > limit
        return (page, hasMore ? page.last.map { JobCursor(createdAt: $0.createdAt, id: $0.id) } : nil)
    }

    /// Cancels a queued job at once, or asks a running one to stop at its next batch.
    /// Throws `invalidState` (409) for a finished job.
    package func cancel(id: String) throws -> Job {
        try condition.withLock {
            guard var job = jobs[id] else { throw ServiceError.jobNotFound(id) }
            switch job.state {
            case .queued:
                queue.removeAll { $0 == id }
                job.transition(to: .cancelled, at: Date())
            case .running:
                cancelRequested.insert(id)
                job.transition(to: .cancelling, at: Date())
            case .cancelling:
                return job
            case .succeeded, .failed, .cancelled:
                throw ServiceError.invalidState("job \(id) is already \(job.state.rawValue)")
            }
            commit(job)
            logger.info("job cancel requested", ["job.id": id])
            return job
        }
    }

    /// The job's events after `after`, waiting up to `waitSeconds` for one to arrive.
    ///
    /// Returns an empty list on timeout (time for a heartbeat). `isFinished` is true once the
    /// job has ended, so a reader that has seen everything can stop. `isStopped` is true once
    /// the daemon is stopping and every trainer has left, so the events returned with it are
    /// the last this process will produce (an interrupted job's return to the queue among them).
    package func events(forJob id: String, after: Int, waitSeconds: Double)
        throws -> (events: [JobEvent], isFinished: Bool, isStopped: Bool)
    {
        let deadline = Date().addingTimeInterval(waitSeconds)
        return try condition.withLock {
            while true {
                guard let job = jobs[id] else { throw ServiceError.jobNotFound(id) }
                let fresh = job.events.filter { $0.id > after }
                let isStopped = isStopping && activeWorkers == 0
                if !fresh.isEmpty || job.state.isFinished || isStopped {
                    return (fresh, job.state.isFinished, isStopped)
                }
                if !condition.wait(until: deadline) { return ([], false, false) }
            }
        }
    }

    // MARK: - Workers

    private func nextQueuedJob() -> String? {
        condition.withLock {
            while !isStopping && queue.isEmpty { condition.wait() }
            guard !isStopping, var job = jobs[queue.removeFirst()] else { return nil }
            job.transition(to: .running, at: Date())
            commit(job)
            return job.id
        }
    }

    /// Trains one job to its end: success, failure, cancellation, or back to the queue
    /// when the daemon stops.
    private func run(_ id: String) {
        var log = logger.with(["job.id": id])
        log.info("job started")
        do {
            let (trainer, spec) = try prepare(id)
            log = log.with(["job.epochs": "\(spec.options.epochs)"])
            while trainer.epochsCompleted < spec.options.epochs {
                let record = try trainer.trainEpoch(
                    shouldStop: { [self] in stopReason(id) != nil },
                    onBatch: { [self] done, total in reportBatch(id, done: done, total: total) })
                guard let record else { break }
                // The record is stored before the checkpoint: after a crash between the two,
                // the job resumes one epoch early and re-runs it to the same record, which is
                // then already stored and streamed, so it is not stored or sent again.
                if (try? job(id: id))?.history.count ?? 0 < record.epoch {
                    update(id) { $0.record(record) }
                    metrics.observeEpoch(record)
                }
                saveCheckpoint(of: trainer, forJob: id, logger: log)
                log.info("epoch finished", Self.figures(record))
            }
            finish(id, trainer: trainer, spec: spec, logger: log)
        } catch {
            let failure = Self.failure(for: error)
            update(id) { $0.transition(to: .failed, at: Date(), failure: failure) }
            log.error("job failed", ["error.code": failure.code, "error.message": failure.message])
        }
        if (try? job(id: id))?.state.isFinished == true { removeCheckpoint(id) }
        _ = condition.withLock { cancelRequested.remove(id) }
    }

    /// Builds the job's trainer: from its checkpoint when one matches the stored history,
    /// otherwise from the seed. Resuming keeps the records of any epochs after the checkpoint
    /// (their re-run gives the same figures); starting from the seed clears the history.
    private func prepare(_ id: String) throws -> (Trainer, JobSpec) {
        let job = try job(id: id)
        let spec = try JobSpec.parse(job.spec)
        let training = try datasets.load(spec.training, field: "dataset")
        let validation = try spec.validation.map { try datasets.load($0, field: "validation") }
        if let validation, validation.width != training.width {
            throw ServiceError.invalidField(
                path: "validation",
                message: "rows have \(validation.width) values but the training rows have \(training.width)")
        }
        try spec.checkMemory(inputWidth: training.width, rows: training.rows, limit: maxTrainingMemoryBytes)
        if !job.history.isEmpty, let trainer = resumedTrainer(id, spec: spec, training: training,
                                                               validation: validation, recorded: job.history.count) {
            logger.info("job resumed", ["job.id": id, "job.epoch": "\(trainer.epochsCompleted)"])
            return (trainer, spec)
        }
        update(id) { $0.rewind(toEpoch: 0) }
        let start = try spec.initFrom.map { modelID in
            _ = try initialModelInfo(modelID)
            return try models.model(id: modelID)
        }
        let model = try spec.initialModel(inputSize: training.width, from: start)
        let trainer = try Trainer(model: model, options: spec.options, training: training, validation: validation)
        return (trainer, spec)
    }

    /// The trainer restored from the job's checkpoint, or nil when there is none or it does not
    /// fit (it is then set aside and the job starts again from its seed).
    private func resumedTrainer(_ id: String, spec: JobSpec, training: Dataset, validation: Dataset?,
                                recorded: Int) -> Trainer? {
        let url = checkpointURL(id)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            let checkpoint = try TrainingCheckpoint.read(from: url)
            guard checkpoint.epochsCompleted <= recorded else {
                logger.warning("checkpoint ahead of the stored history; starting again", ["job.id": id])
                return nil
            }
            return try Trainer(resuming: checkpoint, options: spec.options, training: training, validation: validation)
        } catch {
            logger.warning("checkpoint unusable; starting again", ["job.id": id, "error": "\(error)"])
            return nil
        }
    }

    private func checkpointURL(_ id: String) -> URL {
        checkpoints.appendingPathComponent("\(id).ckpt")
    }

    /// Writes the trainer's state atomically. A failure is logged, not fatal: the job goes on,
    /// and a resume would start from an older checkpoint or from the seed.
    private func saveCheckpoint(of trainer: Trainer, forJob id: String, logger log: Logger) {
        do {
            try trainer.checkpoint().write(to: checkpointURL(id))
        } catch {
            log.error("checkpoint write failed", ["error": "\(error)"])
        }
    }

    private func removeCheckpoint(_ id: String) {
        try? FileManager.default.removeItem(at: checkpointURL(id))
    }

    private enum StopReason { case cancelled, shuttingDown }

    private func stopReason(_ id: String) -> StopReason? {
        condition.withLock {
            if cancelRequested.contains(id) { return .cancelled }
            return isStopping ? .shuttingDown : nil
        }
    }

    private func reportBatch(_ id: String, done: Int, total: Int) {
        condition.withLock {
            guard var job = jobs[id], job.epochs > 0, total > 0 else { return }
            job.progress = (Double(job.history.count) + Double(done) / Double(total)) / Double(job.epochs)
            jobs[id] = job
        }
    }

    private func finish(_ id: String, trainer: Trainer, spec: JobSpec, logger log: Logger) {
        switch stopReason(id) {
        case .cancelled?:
            update(id) { $0.transition(to: .cancelled, at: Date()) }
            log.info("job cancelled")
            return
        case .shuttingDown? where trainer.epochsCompleted < spec.options.epochs:
            update(id) { $0.transition(to: .queued, at: Date()) }
            log.info("job interrupted by shutdown; it will run again at the next start")
            return
        default:
            break
        }
        do {
            let job = try job(id: id)
            let modelID = "model_" + id.dropFirst("job_".count)
            let model = trainer.model
            let info = ModelInfo(
                id: modelID, jobID: id, name: spec.name, createdAt: Date(), config: model.config,
                normalization: trainer.normalization, metrics: job.history.last, training: job.spec)
            try models.save(model, info: info)
            update(id) {
                $0.modelID = modelID
                $0.transition(to: .succeeded, at: Date())
            }
            log.info("job succeeded", ["model.id": modelID].merging(job.history.last.map(Self.figures) ?? [:]) { a, _ in a })
        } catch {
            let failure = JobFailure(code: "model_write_failed", message: "the trained model could not be saved")
            update(id) { $0.transition(to: .failed, at: Date(), failure: failure) }
            log.error("model write failed", ["error": "\(error)"])
        }
    }

    // MARK: - State changes

    /// Applies `change` to a job, stores it and wakes readers, all under the lock.
    private func update(_ id: String, _ change: (inout Job) -> Void) {
        condition.withLock {
            guard var job = jobs[id] else { return }
            change(&job)
            commit(job)
        }
    }

    /// Stores and publishes a job. Caller holds the lock.
    private func commit(_ job: Job) {
        persist(job)
        jobs[job.id] = job
        condition.broadcast()
    }

    private func persist(_ job: Job) {
        do {
            try store.save(job)
        } catch {
            logger.error("job store write failed", ["job.id": job.id, "error": "\(error)"])
        }
    }

    // MARK: - Helpers

    private static func failure(for error: any Error) -> JobFailure {
        switch error {
        case let error as TrainingError: JobFailure(code: error.code, message: error.message)
        case let error as ServiceError: JobFailure(code: error.code, message: error.message)
        case let error as DataError: JobFailure(code: error.code, message: error.message)
        default: JobFailure(code: "internal_error", message: "training failed: \(error)")
        }
    }

    package static func figures(_ record: EpochRecord) -> [String: String] {
        var figures = [
            "job.epoch": "\(record.epoch)",
            "loss.total": String(format: "%.6f", record.loss),
            "loss.reconstruction": String(format: "%.6f", record.reconstruction),
            "loss.sparsity": String(format: "%.6f", record.sparsity),
            "code.l0": String(format: "%.2f", record.l0),
            "code.dead_fraction": String(format: "%.4f", record.deadFraction),
            "epoch.seconds": String(format: "%.3f", record.seconds),
        ]
        let six = { (value: Double) in String(format: "%.6f", value) }
        figures["loss.fvu"] = record.fvu.map(six)
        figures["loss.normalized_mse"] = record.normalizedMSE.map(six)
        figures["loss.auxiliary"] = record.auxiliaryLoss.map(six)
        figures["loss.weight_penalty"] = record.weightPenalty.map(six)
        figures["optimizer.learning_rate"] = record.learningRate.map { String(format: "%.3g", $0) }
        figures["validation.loss"] = record.validationLoss.map(six)
        figures["validation.reconstruction"] = record.validationReconstruction.map(six)
        figures["validation.fvu"] = record.validationFVU.map(six)
        figures["validation.normalized_mse"] = record.validationNormalizedMSE.map(six)
        figures["validation.l0"] = record.validationL0.map { String(format: "%.2f", $0) }
        figures["validation.sparsity"] = record.validationSparsity.map(six)
        figures["validation.dead_fraction"] = record.validationDeadFraction.map { String(format: "%.4f", $0) }
        return figures
    }

    /// A random id such as `job_3f9a1c2e7b4d5a60`.
    package static func newID(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        let hex = String(value, radix: 16)
        return prefix + "_" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Where a page of jobs ends: the creation time and id of its last job, shown to clients as an
/// opaque token.
package struct JobCursor: Equatable, Sendable {
    package var createdAt: Date
    package var id: String

    /// The token: base64url of the exact creation time and the id.
    package var token: String {
        let text = "\(createdAt.timeIntervalSinceReferenceDate.bitPattern)|\(id)"
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    package init(createdAt: Date, id: String) {
        self.createdAt = createdAt
        self.id = id
    }

    /// Reads a token made by `token`; nil for anything else.
    package init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: "|", maxSplits: 1)
        guard parts.count == 2, let bits = UInt64(parts[0]) else { return nil }
        self.init(createdAt: Date(timeIntervalSinceReferenceDate: Double(bitPattern: bits)), id: String(parts[1]))
    }
}
