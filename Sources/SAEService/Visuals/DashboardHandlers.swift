import Foundation
import HTTPServer
import SAECore

/// The dashboard page and the two small JSON routes it reads besides the API: the example
/// jobs, and single rows of the built-in datasets for the encode playground.
struct DashboardHandlers: Sendable {
    let service: Service
    let datasets: DatasetCatalog
    /// Where example job files are looked for (`config/jobs`).
    let examplesDirectory: URL

    /// `GET /`: the dashboard, one self-contained HTML page (no external resources). Served
    /// without the token, which it does not contain; it only says whether one is needed.
    func page(_ request: HTTPRequest) throws -> HTTPResponse {
        let html = service.auth.isEnabled ? Dashboard.htmlRequiringToken : Dashboard.html
        return .content("text/html; charset=utf-8", Array(html.utf8))
    }

    /// `GET /v1/examples`: `{"examples": [{"name", "source", "job"}]}`, read at each request
    /// so edited files show without a restart.
    func examples(_ request: HTTPRequest) throws -> HTTPResponse {
        let (examples, skipped) = ExampleJobs.load(from: examplesDirectory)
        for (file, reason) in skipped {
            service.logger.warning("example job skipped", ["file": file, "error": reason])
        }
        return .json(200, try APIJSON.bytes(["examples": examples]))
    }

    /// One dataset row as the API shows it.
    struct DatasetRow: Encodable {
        var dataset: String
        var split: String
        var index: Int
        /// Rows in the split, so a client can pick any of them.
        var rows: Int
        var width: Int
        /// `[height, width]` when the row is a square picture.
        var shape: [Int]?
        /// The row as the model sees it: pixel bytes divided by 255.
        var values: [Float]
    }

    /// `GET /v1/datasets/NAME/SPLIT/rows/INDEX`: one row of a built-in dataset, such as a test
    /// image for the encode playground.
    func datasetRow(_ request: HTTPRequest) throws -> HTTPResponse {
        let name = request.pathParameters["name"] ?? ""
        let split = request.pathParameters["split"] ?? ""
        guard let splits = JobSpec.builtinDatasets[name] else {
            let known = JobSpec.builtinDatasets.keys.sorted().joined(separator: ", ")
            throw ServiceError.invalidField(path: "name", message: "must be one of \(known), got \"\(name)\"")
        }
        guard splits.contains(split) else {
            throw ServiceError.invalidField(
                path: "split", message: "must be one of \(splits.joined(separator: ", ")), got \"\(split)\"")
        }
        let index = try Routes.queryInteger(request.pathParameters["index"] ?? "", name: "index",
                                            in: 0...Int(Int32.max))
        let dataset = try datasets.load(
            DatasetSource(reference: .builtin(name: name, split: split), limit: nil), field: "name")
        guard index < dataset.rows else {
            throw ServiceError.invalidField(
                path: "index", message: "must be below the \(dataset.rows) rows of \(name) \(split), got \(index)")
        }
        let shape = TileShape.square(of: dataset.width).map { [$0.height, $0.width] }
        let row = DatasetRow(dataset: name, split: split, index: index, rows: dataset.rows, width: dataset.width,
                             shape: shape, values: dataset.floats(rows: [index]))
        return .json(200, try APIJSON.bytes(row))
    }
}
