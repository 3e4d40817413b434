import Foundation
import SAECore
import Synchronization

/// What the service knows about a saved model; stored as its `cfg.json`.
package struct ModelInfo: Codable, Sendable, Equatable {
    package var id: String
    package var jobID: String?
    package var name: String?
    package var createdAt: Date
    package var inputSize: Int
    package var hiddenSize: Int
    package var activation: Activation
    package var decoderActivation: Activation
    package var topK: Int?
    /// How inputs must be scaled before encoding: `unit` means pixel bytes divided by 255.
    package var normalization: String
    /// The last epoch's figures, when the model came from a job that ran at least one epoch.
    package var metrics: EpochRecord?
    /// The job spec that trained it.
    package var training: JSONValue?

    package var config: AutoencoderConfig {
        AutoencoderConfig(inputSize: inputSize, hiddenSize: hiddenSize, activation: activation,
                          decoderActivation: decoderActivation, topK: topK)
    }
}

/// Saved models under `models/<id>/` (`model.safetensors` and `cfg.json`).
///
/// Weights are loaded on first use and kept; the metadata of every model is read at start.
package final class ModelStore: Sendable {
    private let directory: URL
    private struct State {
        var infos: [String: ModelInfo] = [:]
        var loaded: [String: Autoencoder] = [:]
    }
    /// Guards the metadata and the loaded weights. File I/O happens outside the lock.
    private let state = Mutex(State())

    /// Opens the store, reading every model's `cfg.json`; unreadable ones are reported in `skipped`.
    package init(directory: URL, logger: Logger = .none) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var infos: [String: ModelInfo] = [:]
        for name in names where !name.hasPrefix(".") {
            let cfg = directory.appendingPathComponent(name).appendingPathComponent("cfg.json")
            do {
                let info = try APIJSON.decoder.decode(ModelInfo.self, from: Data(contentsOf: cfg))
                infos[info.id] = info
            } catch {
                logger.warning("model skipped", ["model.dir": name, "error": "\(error)"])
            }
        }
        state.withLock { $0.infos = infos }
    }

    /// Writes the weights and `cfg.json` atomically, then makes the model visible.
    package func save(_ model: Autoencoder, info: ModelInfo) throws {
        let folder = directory.appendingPathComponent(info.id)
        try model.save(to: folder, configJSON: Data(APIJSON.bytes(info)))
        state.withLock {
            $0.infos[info.id] = info
            $0.loaded[info.id] = model
        }
    }

    /// Every model, newest first.
    package func list() -> [ModelInfo] {
        state.withLock { Array($0.infos.values) }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    }

    package func info(id: String) throws -> ModelInfo {
        guard let info = state.withLock({ $0.infos[id] }) else { throw ServiceError.modelNotFound(id) }
        return info
    }

    /// The model's weights, read from disk on first use.
    package func model(id: String) throws -> Autoencoder {
        let cached = state.withLock { ($0.infos[id] != nil, $0.loaded[id]) }
        guard cached.0 else { throw ServiceError.modelNotFound(id) }
        if let model = cached.1 { return model }
        let model = try Autoencoder.load(from: directory.appendingPathComponent(id)).model
        state.withLock { $0.loaded[id] = model }
        return model
    }
}
