import Foundation
import SAECore

/// `saed train JOB.json`: the daemon's training without the server, one line per epoch.
package enum TrainCommand {
    /// Trains the job in `jobFile` and saves the model under `outputDirectory`.
    /// Returns the process exit status: 0 on success, 1 when training failed, 2 for a bad job.
    package static func run(jobFile: String, config: ServiceConfig, outputDirectory: String?,
                            print: @Sendable (String) -> Void) -> Int32 {
        let spec: JobSpec
        do {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: jobFile)))
            spec = try JobSpec.parse(JSONValue.parse(bytes))
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
            let config = AutoencoderConfig(
                inputSize: training.width, hiddenSize: spec.hiddenSize, activation: spec.activation,
                decoderActivation: spec.decoderActivation,
                topK: spec.options.sparsity.kind == .topk ? spec.options.sparsity.k : nil)
            let trainer = try Trainer(model: .initialized(config: config, seed: spec.options.seed),
                                      options: spec.options, training: training, validation: validation)
            var last: EpochRecord?
            for _ in 0..<spec.options.epochs {
                guard let record = try trainer.trainEpoch() else { break }
                print(line(for: record, of: spec.options.epochs))
                last = record
            }
            let directory = URL(fileURLWithPath: outputDirectory ?? "\(config.hiddenSize)-model")
            let info = ModelInfo(
                id: directory.lastPathComponent, jobID: nil, name: spec.name, createdAt: Date(),
                inputSize: config.inputSize, hiddenSize: config.hiddenSize, activation: config.activation,
                decoderActivation: config.decoderActivation, topK: config.topK, normalization: "unit",
                metrics: last, training: spec.json)
            try trainer.model.save(to: directory, configJSON: Data(APIJSON.bytes(info)))
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
