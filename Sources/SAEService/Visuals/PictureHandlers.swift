import Foundation
import HTTPServer
import SAECore

/// The picture routes: a model's features and reconstructions as PNG, a job's curves as SVG.
///
/// Handlers run on the server's request threads and may block while a dataset loads the first
/// time. Bad query values are 400 `invalid_field` naming the parameter; unknown ids are 404.
struct PictureHandlers: Sendable {
    let service: Service
    let datasets: DatasetCatalog
    let firing: LatentFiringCache

    // MARK: - features.png

    /// `GET /v1/models/ID/features.png?weights=&shape=&cols=&scale=&sort=`: one tile per latent.
    ///
    /// Tiles go in order of firing frequency, measured on a sample of the model's training set
    /// (`sort=index` keeps latent order). Latents that never fired on the sample get a red frame.
    /// When the training set cannot be read, tiles stay in latent order and nothing is marked.
    /// The headers `X-Feature-Order` (`frequency` or `index`) and, after a measurement,
    /// `X-Dead-Latents` and `X-Firing-Sample-Rows` say which happened.
    func features(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = request.pathParameters["id"] ?? ""
        let info = try service.models.info(id: id)
        let model = try service.models.model(id: id)
        let weights = try Self.choice(request, "weights", default: FeatureGrid.Weights.decoder)
        let shape = try Self.shape(request, inputSize: info.inputSize)
        let hidden = info.hiddenSize
        let defaultColumns = Int(Double(hidden).squareRoot().rounded(.up))
        let columns = try request.query["cols"].map { try Routes.queryInteger($0, name: "cols", in: 1...1024) }
            ?? defaultColumns
        let scale = try Self.scale(request, shape: shape)
        let sort = try Self.choice(request, "sort", default: FeatureOrder.frequency)
        let grid = FeatureGrid(shape: shape, columns: min(columns, hidden), scale: scale)
        try Self.checkSize(grid.size(tiles: hidden))

        var headers = HTTPHeaders()
        var order = Array(0..<hidden)
        var dead: Set<Int> = []
        var orderedBy = FeatureOrder.index
        if sort == .frequency, let measured = firing(of: model, info: info) {
            order = measured.order
            dead = measured.dead
            orderedBy = .frequency
            headers.add("X-Dead-Latents", "\(dead.count)")
            headers.add("X-Firing-Sample-Rows", "\(measured.sampleRows)")
        }
        headers.add("X-Feature-Order", orderedBy.rawValue)
        let image = grid.render(model, weights: weights, order: order, dead: dead)
        return .content("image/png", PNGEncoder.encode(image), headers: headers)
    }

    /// How the feature tiles are ordered.
    enum FeatureOrder: String, CaseIterable {
        case frequency, index
    }

    /// The model's firing frequencies on a sample of its training rows, or nil when the model
    /// records no training set or the set cannot be read now.
    private func firing(of model: Autoencoder, info: ModelInfo) -> LatentFiring? {
        firing.firing(forModel: info.id) {
            guard let training = info.training, let spec = try? JobSpec.parse(training),
                  let dataset = try? datasets.load(spec.training, field: "dataset"),
                  dataset.width == info.inputSize
            else { return nil }
            return LatentFiring.measure(model, on: dataset, normalization: info.inputNormalization)
        }
    }

    // MARK: - reconstructions.png

    /// `GET /v1/models/ID/reconstructions.png?dataset=&split=&path=&n=&start=&cols=&scale=&shape=`.
    ///
    /// Rows `start..<start + n` of the dataset, originals above reconstructions. Without
    /// `dataset` or `path`, the model's validation set is used, else its training set, else
    /// the Fashion-MNIST test split.
    func reconstructions(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = request.pathParameters["id"] ?? ""
        let info = try service.models.info(id: id)
        let model = try service.models.model(id: id)
        let (source, field) = try Self.datasetSource(request, info: info)
        let count = try request.query["n"].map { try Routes.queryInteger($0, name: "n", in: 1...256) } ?? 16
        let start = try request.query["start"].map {
            try Routes.queryInteger($0, name: "start", in: 0...Int(Int32.max))
        } ?? 0
        let shape = try Self.shape(request, inputSize: info.inputSize)
        let columns = try request.query["cols"].map { try Routes.queryInteger($0, name: "cols", in: 1...256) }
            ?? min(count, 16)
        let scale = try Self.scale(request, shape: shape)

        let dataset = try datasets.load(source, field: field, pathField: field)
        guard dataset.width == info.inputSize else {
            throw ServiceError.invalidField(
                path: field,
                message: "rows have \(dataset.width) values but model \(id) takes \(info.inputSize)")
        }
        guard start < dataset.rows else {
            throw ServiceError.invalidField(
                path: "start", message: "must be below the dataset's \(dataset.rows) rows, got \(start)")
        }
        let rows = Array(start..<min(start + count, dataset.rows))
        let strip = ReconstructionStrip(shape: shape, columns: min(columns, rows.count), scale: scale)
        try Self.checkSize(strip.size(count: rows.count))
        // Both rows of the strip are on the model's scale (standardised for standardize models).
        let originals = dataset.modelInputs(rows: rows, normalization: info.inputNormalization)
        let outputs = model.reconstruct(originals, rows: rows.count)
        let image = strip.render(originals: originals, reconstructions: outputs, count: rows.count)
        return .content("image/png", PNGEncoder.encode(image))
    }

    /// The dataset the query names, or the model's own, with the parameter errors about it
    /// name: `path`, or `dataset` (also for the model's own, which its training spec names so).
    private static func datasetSource(
        _ request: HTTPRequest, info: ModelInfo
    ) throws -> (source: DatasetSource, field: String) {
        if request.query["split"] != nil && request.query["dataset"] == nil {
            throw ServiceError.invalidField(
                path: "split", message: "applies only with dataset= (a built-in dataset), which is not given")
        }
        if let path = request.query["path"] {
            guard request.query["dataset"] == nil else {
                throw ServiceError.invalidField(path: "path", message: "give either dataset or path, not both")
            }
            return (DatasetSource(reference: .path(path), limit: nil), "path")
        }
        if let name = request.query["dataset"] {
            guard let splits = JobSpec.builtinDatasets[name] else {
                let known = JobSpec.builtinDatasets.keys.sorted().joined(separator: ", ")
                throw ServiceError.invalidField(
                    path: "dataset",
                    message: "must be a built-in dataset (\(known)), got \"\(name)\"; use path= for a file")
            }
            let split = request.query["split"] ?? "test"
            guard splits.contains(split) else {
                throw ServiceError.invalidField(
                    path: "split", message: "must be one of \(splits.joined(separator: ", ")), got \"\(split)\"")
            }
            return (DatasetSource(reference: .builtin(name: name, split: split), limit: nil), "dataset")
        }
        if let training = info.training, let spec = try? JobSpec.parse(training) {
            return (spec.validation ?? spec.training, "dataset")
        }
        return (DatasetSource(reference: .builtin(name: "fashion-mnist", split: "test"), limit: nil), "dataset")
    }

    // MARK: - loss.svg

    /// `GET /v1/jobs/ID/loss.svg`: the job's curves so far; a running job's grow each epoch.
    func lossChart(_ request: HTTPRequest) throws -> HTTPResponse {
        let job = try service.jobs.job(id: request.pathParameters["id"] ?? "")
        let title = job.name.map { "\($0) · \(job.id)" } ?? job.id
        let chart = LossChart(title: title, history: job.history, plannedEpochs: job.epochs)
        return .content("image/svg+xml; charset=utf-8", Array(chart.svg().utf8))
    }

    // MARK: - Query values

    /// A query value restricted to the raw values of `T`, or `fallback` when absent.
    static func choice<T: RawRepresentable & CaseIterable>(
        _ request: HTTPRequest, _ name: String, default fallback: T
    ) throws -> T where T.RawValue == String {
        guard let text = request.query[name] else { return fallback }
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw ServiceError.invalidField(path: name, message: "must be one of \(allowed), got \"\(text)\"")
        }
        return value
    }

    /// The picture shape of one input row: `shape=HxW`, or the square the input width makes.
    static func shape(_ request: HTTPRequest, inputSize: Int) throws -> TileShape {
        guard let text = request.query["shape"] else {
            guard let square = TileShape.square(of: inputSize) else {
                throw ServiceError.invalidField(
                    path: "shape",
                    message: "is required: inputs of \(inputSize) values are not a square picture; give shape=HxW")
            }
            return square
        }
        guard let shape = TileShape.parse(text) else {
            throw ServiceError.invalidField(path: "shape", message: "must be HxW, such as 28x28, got \"\(text)\"")
        }
        guard shape.count == inputSize else {
            throw ServiceError.invalidField(
                path: "shape", message: "\(shape) covers \(shape.count) values but the inputs have \(inputSize)")
        }
        return shape
    }

    /// `scale=` pixels per value, 1 to 32; by default enough to make a tile about 56 pixels.
    static func scale(_ request: HTTPRequest, shape: TileShape) throws -> Int {
        if let text = request.query["scale"] {
            return try Routes.queryInteger(text, name: "scale", in: 1...32)
        }
        return max(1, min(8, 56 / max(shape.width, shape.height)))
    }

    /// Refuses pictures larger than ``FeatureGrid/maxPixels``.
    static func checkSize(_ size: (width: Int, height: Int)) throws {
        guard size.width * size.height <= FeatureGrid.maxPixels else {
            throw ServiceError.invalidField(
                path: "scale",
                message: "the picture would be \(size.width)×\(size.height) pixels, over the limit of "
                    + "\(FeatureGrid.maxPixels); lower scale or cols")
        }
    }
}
