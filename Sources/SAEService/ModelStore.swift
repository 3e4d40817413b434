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
    private let logger: Logger
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
        self.logger = logger
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
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in leftovers where name.hasPrefix(Self.importPrefix) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    /// Writes the weights and `cfg.json` atomically, records the model, then makes it visible.
    package func save(_ model: Autoencoder, info: ModelInfo) throws {
        let folder = directory.appendingPathComponent(info.id)
        let json = try APIJSON.bytes(info)
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

    /// The number of saved models.
    package var count: Int { state.withLock { $0.infos.count } }

    /// The `model.safetensors` file of a saved model; throws `modelNotFound`.
    package func weightsURL(id: String) throws -> URL {
        _ = try info(id: id)
        return directory.appendingPathComponent(id).appendingPathComponent(ModelFiles.weightsFileName)
    }

    /// Forgets a model: its row first (so it stops existing), then its folder.
    ///
    /// Throws `modelNotFound`, or `unavailable` when the store refuses the delete. A request
    /// already holding the weights finishes with them.
    package func delete(id: String) throws {
        _ = try info(id: id)
        do {
            try database.execute("DELETE FROM models WHERE id = ?", [.text(id)])
        } catch {
            logger.error("model store delete failed", ["model.id": id, "error": "\(error)"])
            throw ServiceError.unavailable("the model could not be deleted from the store")
        }
        state.withLock {
            $0.infos[id] = nil
            $0.loaded[id] = nil
        }
        do {
            try FileManager.default.removeItem(at: directory.appendingPathComponent(id))
        } catch {
            logger.warning("model folder not removed", ["model.id": id, "error": "\(error)"])
        }
    }

    /// Imports weights trained elsewhere: a safetensors file holding `W_enc` [d_in, d_sae],
    /// `b_enc` [d_sae], `W_dec` [d_sae, d_in] and `b_dec` [d_in] (F32, F16, BF16 or F64),
    /// with optional metadata `activation`, `decoder_activation` and `top_k`.
    ///
    /// The weights are checked by loading them exactly as a saved model is loaded, then saved
    /// in saed's own layout (F32, other tensors dropped) under a new id. Throws `modelInvalid`
    /// (422, with the reader's code: `safetensors_invalid` or `model_invalid`) naming the
    /// tensor or header entry at fault; `unavailable` when the model cannot be written.
    package func importWeights(_ bytes: [UInt8], name: String?) throws -> ModelInfo {
        let id = JobManager.newID(prefix: "model")
        let staging = directory.appendingPathComponent(Self.importPrefix + id)
        defer { try? FileManager.default.removeItem(at: staging) }
        let model: Autoencoder
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            try AtomicFile.write(bytes, to: staging.appendingPathComponent(ModelFiles.weightsFileName))
            try AtomicFile.write(Array("{}".utf8), to: staging.appendingPathComponent(ModelFiles.configFileName))
            model = try Autoencoder.load(from: staging).model
        } catch let error as DataError where !Self.isWriteFailure(error) {
            let detail = error.message.hasPrefix(error.file + ": ")
                ? String(error.message.dropFirst(error.file.count + 2)) : error.message
            throw ServiceError.modelInvalid(code: error.code, message: "the uploaded weights: \(detail)")
        } catch {
            logger.error("model import staging failed", ["model.id": id, "error": "\(error)"])
            throw ServiceError.unavailable("the uploaded weights could not be staged")
        }

        let config = model.config
        let info = ModelInfo(
            id: id, jobID: nil, name: name, createdAt: Date(), inputSize: config.inputSize,
            hiddenSize: config.hiddenSize, activation: config.activation,
            decoderActivation: config.decoderActivation, topK: config.topK, normalization: "none",
            metrics: nil, training: nil)
        do {
            try save(model, info: info)
        } catch {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(id))
            logger.error("model import write failed", ["model.id": id, "error": "\(error)"])
            throw ServiceError.unavailable("the imported model could not be stored")
        }
        logger.info("model imported", ["model.id": id])
        return info
    }

    private static func isWriteFailure(_ error: DataError) -> Bool {
        if case .writeFailed = error { return true }
        return false
    }

    /// Folders of imports in progress start with this; any found at start are leftovers.
    private static let importPrefix = ".import-"

    /// The model's configuration when its weights are in memory already; nil when they are
    /// not (or there is no such model). Never touches the disk.
    package func loadedConfig(id: String) -> AutoencoderConfig? {
        state.withLock { $0.loaded[id]?.config }
    }

    /// The model's weights, read from disk on first use.
    package func model(id: String) throws -> Autoencoder {
        let cached = state.withLock { ($0.infos[id] != nil, $0.loaded[id]) }
        guard cached.0 else { throw ServiceError.modelNotFound(id) }
        if let model = cached.1 { return model }
        let model: Autoencoder
        do {
            model = try Autoencoder.load(from: directory.appendingPathComponent(id)).model
        } catch let error as DataError {
            throw ServiceError.modelUnreadable(id: id, reason: error.message)
        }
        state.withLock { $0.loaded[id] = model }
        return model
    }
}
