import Foundation
import SAECore

/// `saed train JOB.json`: the daemon's training without the server, one line per epoch, with a
/// progress bar between the lines when standard output is a terminal.
package enum TrainCommand {
    /// Trains the job in `jobFile` and saves the model under `outputDirectory`.
    ///
    /// `print` receives whole lines. When `progress` is given (by default: standard output, if it
    /// is a terminal), a bar with the epoch, step, latest loss and rate is redrawn in place
    /// while an epoch runs and erased before each line is printed.
    /// Returns the process exit status: 0 on success, 1 when training failed, 2 for a bad job.
    package static func run(jobFile: String, config: ServiceConfig, outputDirectory: String?,
                            progress: TerminalProgress? = TerminalProgress.standardOutput(),
                            print: @Sendable (String) -> Void) -> Int32 {
        let spec: JobSpec
        do {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: jobFile)))
            spec = try JobSpec.parse(JSONValue.parse(bytes, source: "the job file"))
        } catch let error as ServiceError {
            print("saed train: \(jobFile): \(error.message)")
            return 2
        } catch {
            print("saed train: cannot read \(jobFile): \(error.localizedDescription)")
            return 2
        }
        let catalog = DatasetCatalog(
            datasetsDirectory: URL(fileURLWithPath: config.datasetsDirectory),
            fashionMNISTDirectory: URL(fileURLWithPath: config.fashionMNISTDirectory))
        do {
            let loadStart = Date()
            let training = try catalog.load(spec.training, field: "dataset")
            let validation = try spec.validation.map { try catalog.load($0, field: "validation") }
            print(String(format: "data: %d training rows of %d values%@ (%.2f s)", training.rows, training.width,
                         validation.map { ", \($0.rows) validation rows" } ?? "", Date().timeIntervalSince(loadStart)))
            let start = try spec.initFrom.map { try savedModel($0, config: config) }
            let trainer = try Trainer(model: spec.initialModel(inputSize: training.width, from: start),
                                      options: spec.options, training: training, validation: validation)
            var last: EpochRecord?
            for _ in 0..<spec.options.epochs {
                let record = try trainEpoch(trainer, rows: training.rows, epochs: spec.options.epochs,
                                            lastLoss: last?.loss, progress: progress)
                guard let record else { break }
                print(line(for: record, of: spec.options.epochs))
                last = record
            }
            let model = trainer.model
            let directory = URL(fileURLWithPath: outputDirectory ?? "\(spec.hiddenSize)-model")
            let info = ModelInfo(
                id: directory.lastPathComponent, jobID: nil, name: spec.name, createdAt: Date(),
                config: model.config, normalization: trainer.normalization, metrics: last,
                training: spec.json)
            try model.save(
                to: directory, configJSON: Data(try APIJSON.bytes(info)), normalization: trainer.normalization)
            print("model saved to \(directory.relativePath)")
            return 0
        } catch let error as ServiceError {
            print("saed train: \(error.message)")
            return 2
        } catch let error as TrainingError {
            print("saed train: \(error.message)")
            return 1
        } catch let error as DataError {
            print("saed train: \(error.message)")
            return 1
        } catch {
            print("saed train: \(error)")
            return 1
        }
    }

    /// The weights of saved model `id` in the configured data directory's model folder, for
    /// `init_from`. Throws 400 naming `init_from` when it cannot be read.
    private static func savedModel(_ id: String, config: ServiceConfig) throws -> Autoencoder {
        let folder = URL(fileURLWithPath: config.dataDirectory)
            .appendingPathComponent("models").appendingPathComponent(id)
        do {
            return try Autoencoder.load(from: folder).model
        } catch DataError.fileNotFound {
            throw ServiceError.invalidField(
                path: "init_from", message: "there is no model \"\(id)\" in \(folder.deletingLastPathComponent().path)")
        } catch let error as DataError {
            throw ServiceError.invalidField(path: "init_from", message: "model \"\(id)\": \(error.message)")
        }
    }

    /// Runs one epoch, redrawing the progress bar after batches (at most every
    /// `progress.redrawSeconds`, and always after the last) and erasing it at the end.
    private static func trainEpoch(_ trainer: Trainer, rows: Int, epochs: Int, lastLoss: Double?,
                                   progress: TerminalProgress?) throws -> EpochRecord? {
        guard let progress else { return try trainer.trainEpoch() }
        let epoch = trainer.epochsCompleted + 1
        let started = Date()
        var lastDrawn = Date.distantPast
        defer { progress.write(TerminalProgress.clearLine) }
        return try trainer.trainEpoch(onBatch: { done, total in
            let now = Date()
            guard done == total || now.timeIntervalSince(lastDrawn) >= progress.redrawSeconds else { return }
            lastDrawn = now
            let elapsed = max(now.timeIntervalSince(started), 1e-9)
            let samples = Double(rows) * Double(done) / Double(total)
            let rate = samples / elapsed
            let status = TerminalProgress.Status(
                epoch: epoch, epochs: epochs, batchesDone: done, batches: total, step: trainer.steps,
                loss: lastLoss, samplesPerSecond: rate,
                secondsLeft: rate > 0 ? (Double(rows) - samples) / rate : nil)
            progress.write(TerminalProgress.clearLine + progress.line(for: status))
        })
    }

    /// One epoch as a line: `epoch 3/10 loss 0.0213 rec 0.0171 sparsity 0.0042 L0 31.2 dead 0.0% ...`.
    package static func line(for record: EpochRecord, of epochs: Int) -> String {
        var text = String(format: "epoch %d/%d loss %.5f rec %.5f sparsity %.5f L0 %.1f dead %.1f%%",
                          record.epoch, epochs, record.loss, record.reconstruction, record.sparsity, record.l0,
                          record.deadFraction * 100)
        if let mse = record.validationReconstruction, let l0 = record.validationL0 {
            text += String(format: " val_mse %.5f val_L0 %.1f", mse, l0)
        }
        text += String(format: " %.2f s %.0f samples/s", record.seconds, record.samplesPerSecond)
        return text
    }
}
