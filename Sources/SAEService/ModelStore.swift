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

/// Saved models: weights under `models/<id>/` (`model.safetensors` and `cfg.json`, each
/// written atomically), and one row per model in the store's `models` table.
///
/// A model exists once its row is committed, which happens only after both files are on disk.
/// Weights are loaded on first use and kept; every model's metadata is read at start.
package final class ModelStore: Sendable {
    private let directory: URL
    private let database: SQLiteDatabase
    private struct State {
        var infos: [String: ModelInfo] = [:]
        var loaded: [String: Autoencoder] = [:]
    }
    /// Guards the metadata and the loaded weights. File I/O happens outside the lock.
    private let state = Mutex(State())

    /// Opens the store, reading every model's row; unreadable rows are logged and skipped.
    package init(directory: URL, database: SQLiteDatabase, logger: Logger = .none) throws {
        self.directory = directory
        self.database = database
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var infos: [String: ModelInfo] = [:]
        for row in try database.query("SELECT id, info FROM models") {
            do {
                let info = try APIJSON.decoder.decode(ModelInfo.self, from: Data((row[1].text ?? "").utf8))
                infos[info.id] = info
            } catch {
                logger.warning("model skipped", ["model.id": row[0].text ?? "?", "error": "\(error)"])
            }
        }
        state.withLock { $0.infos = infos }
    }

    /// Writes the weights and `cfg.json` atomically, records the model, then makes it visible.
    package func save(_ model: Autoencoder, info: ModelInfo) throws {
        let folder = directory.appendingPathComponent(info.id)
        let json = APIJSON.bytes(info)
        try model.save(to: folder, configJSON: Data(json))
        try database.execute(
            "INSERT OR REPLACE INTO models (id, created_at, info) VALUES (?, ?, ?)",
            [.text(info.id), .real(info.createdAt.timeIntervalSince1970), .text(String(decoding: json, as: UTF8.self))])
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
