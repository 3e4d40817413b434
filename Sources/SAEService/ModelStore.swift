import Foundation
import SAECore
import Synchronization

/// What the service knows about a saved model; stored as its `cfg.json`.
///
/// It holds every field of the model's ``AutoencoderConfig`` (the weights file's metadata holds
/// them too) and the input normalisation, which only this file holds. Keys added after the
/// first release are optional when decoding, so older `cfg.json` files and store rows still
/// read: they describe untied models without b_dec subtraction, batch top-k or threshold.
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
    /// Batch top-k's mean latents per row, for a model trained with it.
    package var batchTopK: Int?
    /// The learnt inference threshold of a batch top-k model: encoding keeps pre-activations
    /// above it.
    package var threshold: Float?
    /// Whether `W_dec` is `W_enc` transposed.
    package var tiedWeights: Bool
    /// Whether the encoder sees `x − b_dec`.
    package var subtractDecoderBias: Bool
    /// How the training rows were turned into model inputs: `unit` (bytes / 255), `none`, or
    /// `standardize` with ``normalizationMean`` and ``normalizationStd``.
    package var normalization: NormalizationKind
    /// Per-feature mean `μ` of the training set (standardize only).
    package var normalizationMean: [Float]?
    /// Per-feature standard deviation `σ` of the training set (standardize only).
    package var normalizationStd: [Float]?
    /// The last epoch's figures, when the model came from a job that ran at least one epoch.
    package var metrics: EpochRecord?
    /// The job spec that trained it.
    package var training: JSONValue?

    /// The description of `config` normalised by `normalization`.
    package init(
        id: String, jobID: String?, name: String?, createdAt: Date, config: AutoencoderConfig,
        normalization: Normalization, metrics: EpochRecord?, training: JSONValue?
    ) {
        self.id = id
        self.jobID = jobID
        self.name = name
        self.createdAt = createdAt
        inputSize = config.inputSize
        hiddenSize = config.hiddenSize
        activation = config.activation
        decoderActivation = config.decoderActivation
        topK = config.topK
        batchTopK = config.batchTopK
        threshold = config.threshold
        tiedWeights = config.hasTiedWeights
        subtractDecoderBias = config.subtractsDecoderBias
        self.normalization = normalization.kind
        let isStandardized = normalization.kind == .standardize
        normalizationMean = isStandardized ? normalization.mean : nil
        normalizationStd = isStandardized ? normalization.standardDeviation : nil
        self.metrics = metrics
        self.training = training
    }

    /// Decodes the keys present; those added after the first release take their defaults.
    package init(from decoder: any Decoder) throws {
        let values = try decoder.container(keyedBy: CodingKeys.self)
        id = try values.decode(String.self, forKey: .id)
        jobID = try values.decodeIfPresent(String.self, forKey: .jobID)
        name = try values.decodeIfPresent(String.self, forKey: .name)
        createdAt = try values.decode(Date.self, forKey: .createdAt)
        inputSize = try values.decode(Int.self, forKey: .inputSize)
        hiddenSize = try values.decode(Int.self, forKey: .hiddenSize)
        activation = try values.decode(Activation.self, forKey: .activation)
        decoderActivation = try values.decode(Activation.self, forKey: .decoderActivation)
        topK = try values.decodeIfPresent(Int.self, forKey: .topK)
        batchTopK = try values.decodeIfPresent(Int.self, forKey: .batchTopK)
        threshold = try values.decodeIfPresent(Float.self, forKey: .threshold)
        tiedWeights = try values.decodeIfPresent(Bool.self, forKey: .tiedWeights) ?? false
        subtractDecoderBias =
            try values.decodeIfPresent(Bool.self, forKey: .subtractDecoderBias) ?? false
        normalization =
            try values.decodeIfPresent(NormalizationKind.self, forKey: .normalization) ?? .none
        normalizationMean = try values.decodeIfPresent([Float].self, forKey: .normalizationMean)
        normalizationStd = try values.decodeIfPresent([Float].self, forKey: .normalizationStd)
        metrics = try values.decodeIfPresent(EpochRecord.self, forKey: .metrics)
        training = try values.decodeIfPresent(JSONValue.self, forKey: .training)
    }

    package var config: AutoencoderConfig {
        AutoencoderConfig(
            inputSize: inputSize, hiddenSize: hiddenSize, activation: activation,
            decoderActivation: decoderActivation, topK: topK, batchTopK: batchTopK,
            threshold: threshold, hasTiedWeights: tiedWeights,
            subtractsDecoderBias: subtractDecoderBias)
    }

    /// The normalisation with its statistics; a standardize record without them (which saed
    /// never writes) counts as none.
    package var inputNormalization: Normalization {
        guard normalization == .standardize else { return Normalization(kind: normalization) }
        guard let mean = normalizationMean, let std = normalizationStd, mean.count == std.count,
            mean.count == inputSize
        else { return .none }
        return Normalization(kind: .standardize, mean: mean, standardDeviation: std)
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
        try model.save(to: folder, configJSON: Data(json), normalization: info.inputNormalization)
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
    /// with optional metadata (`activation`, `decoder_activation`, `top_k`, `batch_top_k`,
    /// `threshold`, `tied_weights`, `subtract_decoder_bias`, `normalization` with its
    /// statistics, as saed writes them), and optionally the model's `cfg.json` (see
    /// ``ImportedModelConfig``), whose keys override the metadata. A weights file downloaded
    /// from saed therefore imports back to the same model on its own.
    ///
    /// The weights are checked by loading them exactly as a saved model is loaded, then saved
    /// in saed's own layout (F32, other tensors dropped) under a new id. Throws `modelInvalid`
    /// (422, with the reader's code: `safetensors_invalid` or `model_invalid`) naming the
    /// tensor or header entry at fault; `invalidField` (400) naming the cfg.json key at fault;
    /// `unavailable` when the model cannot be written.
    package func importWeights(_ bytes: [UInt8], configJSON: [UInt8]? = nil, name: String?) throws -> ModelInfo {
        let imported = try configJSON.map(ImportedModelConfig.parse)
        let id = JobManager.newID(prefix: "model")
        let staging = directory.appendingPathComponent(Self.importPrefix + id)
        defer { try? FileManager.default.removeItem(at: staging) }
        let model: Autoencoder
        let fileNormalization: Normalization?
        do {
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            let weights = staging.appendingPathComponent(ModelFiles.weightsFileName)
            try AtomicFile.write(bytes, to: weights)
            if let imported, !imported.metadata.isEmpty || !imported.defaults.isEmpty {
                try Self.overrideMetadata(of: weights, with: imported)
            }
            try AtomicFile.write(Array("{}".utf8), to: staging.appendingPathComponent(ModelFiles.configFileName))
            model = try Autoencoder.load(from: staging).model
            fileNormalization = try Autoencoder.savedNormalization(from: staging)
        } catch let error as ServiceError {
            throw error
        } catch let error as DataError where !Self.isWriteFailure(error) {
            let detail = error.message.hasPrefix(error.file + ": ")
                ? String(error.message.dropFirst(error.file.count + 2)) : error.message
            let what = imported == nil ? "the uploaded weights" : "the uploaded weights and cfg.json"
            throw ServiceError.modelInvalid(code: error.code, message: "\(what): \(detail)")
        } catch {
            logger.error("model import staging failed", ["model.id": id, "error": "\(error)"])
            throw ServiceError.unavailable("the uploaded weights could not be staged")
        }

        let config = model.config
        try Self.checkSelection(config, withConfig: imported != nil)
        try Self.checkThreshold(config, withConfig: imported != nil)
        try imported.map { try Self.checkSizes($0, against: config) }
        // cfg.json's normalisation wins over the weights file's; with neither, rows pass as they are.
        let normalization = try imported?.inputNormalization(inputSize: config.inputSize)
            ?? fileNormalization ?? .none
        let info = ModelInfo(
            id: id, jobID: nil, name: name ?? imported?.name, createdAt: Date(), config: config,
            normalization: normalization, metrics: nil, training: nil)
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

    /// Rewrites a staged weights file with the cfg.json's metadata merged into its own, and the
    /// cfg.json's defaults filling keys that neither sets.
    ///
    /// Throws 400 naming the cfg.json key of a latent count (`top_k`, `batch_top_k`, `k`) above
    /// the weights' `d_sae`: the count is the cfg.json's fault, not the weights'.
    private static func overrideMetadata(of url: URL, with imported: ImportedModelConfig) throws {
        let (tensors, metadata) = try SafeTensors.read(contentsOf: url)
        if let encoder = tensors["W_enc"], encoder.shape.count == 2 {
            let latents = encoder.shape[1]
            for (key, source) in imported.countKeys.sorted(by: { $0.key > $1.key }) {
                guard let count = imported.metadata[key].flatMap({ Int($0) }), count > latents else { continue }
                throw ServiceError.invalidField(
                    path: "\(ImportedModelConfig.path).\(source)",
                    message: "is \(count) but the weights have \(latents) latents (W_enc is [d_in, d_sae]); "
                        + "expected 1 to \(latents)")
            }
        }
        let ordered = tensors.values.sorted { $0.name < $1.name }
        let merged = imported.defaults.merging(metadata) { _, file in file }
            .merging(imported.metadata) { _, new in new }
        try SafeTensors.write(ordered, metadata: merged, to: url)
    }

    /// Throws 400 naming the cfg.json key whose size disagrees with the weights' shapes.
    private static func checkSizes(_ imported: ImportedModelConfig, against config: AutoencoderConfig) throws {
        let sizes = [("input_size", imported.inputSize, config.inputSize),
                     ("hidden_size", imported.hiddenSize, config.hiddenSize)]
        for (key, given, actual) in sizes {
            guard let given, given != actual else { continue }
            throw ServiceError.invalidField(
                path: "\(ImportedModelConfig.path).\(key)",
                message: "says \(given) but the weights have \(actual) (W_enc is [d_in, d_sae])")
        }
    }

    /// Throws 422 `model_invalid` when `top_k` comes with `batch_top_k` or `threshold`: encoding
    /// follows `top_k` alone, so the others would be silently ignored. Checked at import only;
    /// models stored before the check keep serving by `top_k` as they did.
    private static func checkSelection(_ config: AutoencoderConfig, withConfig: Bool) throws {
        guard let topK = config.topK, config.batchTopK != nil || config.threshold != nil else { return }
        let other = config.batchTopK != nil ? "batch_top_k" : "threshold"
        let what = withConfig ? "the uploaded weights and cfg.json" : "the uploaded weights"
        throw ServiceError.modelInvalid(
            code: "model_invalid",
            message: "\(what): top_k is \(topK) and \(other) is set too; a model keeps either the top k "
                + "latents of each row or those the batch top-k threshold passes, not both")
    }

    /// Throws 422 `model_invalid` for a threshold below 0 in the weights' metadata (cfg.json's
    /// is refused with 400 as it is read): encoding keeps pre-activations above it, and one
    /// below 0 would let negative codes through, which no JumpReLU or batch top-k model gives.
    /// Checked at import only, so models stored before the check still load.
    private static func checkThreshold(_ config: AutoencoderConfig, withConfig: Bool) throws {
        guard let threshold = config.threshold, threshold < 0 else { return }
        let what = withConfig ? "the uploaded weights and cfg.json" : "the uploaded weights"
        throw ServiceError.modelInvalid(
            code: "model_invalid",
            message: "\(what): metadata threshold is \(threshold); expected a finite number, 0 or more")
    }

    private static func isWriteFailure(_ error: DataError) -> Bool {
        if case .writeFailed = error { return true }
        return false
    }

    /// Folders of imports in progress start with this; any found at start are leftovers.
    private static let importPrefix = ".import-"

    /// The model as the encode, reconstruct and decode routes run it: its weights with the
    /// normalisation its `cfg.json` records.
    package func servedModel(id: String) throws -> ServedModel {
        let model = try model(id: id)
        return ServedModel(model, info: try info(id: id))
    }

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
