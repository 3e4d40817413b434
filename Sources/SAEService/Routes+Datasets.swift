import Foundation
import HTTPServer
import SAECore

/// The dataset routes: upload, list, show and delete datasets that jobs then name by id.
extension Routes {
    func registerDatasetRoutes(on router: Router) {
        add(router, "POST", "/v1/datasets", uploadDataset)
        add(router, "GET", "/v1/datasets", listDatasets)
        add(router, "GET", "/v1/datasets/:id", showDataset)
        add(router, "DELETE", "/v1/datasets/:id", deleteDataset)
    }

    /// `POST /v1/datasets?format=&name=`: the body is an IDX (raw or gzip), NPY or CSV file.
    /// Answers 201 with `Location` and the dataset's id, rows and width.
    ///
    /// The server spools the body to disk as it arrives (up to `max_upload_bytes`), and the
    /// file is moved into the datasets directory, so an upload never sits whole in memory.
    private func uploadDataset(_ request: HTTPRequest) throws -> HTTPResponse {
        let name = try Self.nameQuery(request)
        let byteCount = request.bodyFile?.byteCount ?? request.body.count
        guard byteCount > 0 else {
            throw ServiceError.invalidField(path: "(body)", message: "is empty; send the dataset file as the body")
        }
        let head = try request.bodyFile.map { try Self.firstBytes(of: $0, count: 4096) } ?? Array(request.body.prefix(4096))
        let format = try DatasetFormat.detect(
            query: request.query["format"], contentType: request.headers["Content-Type"], body: head)
        let info = try request.bodyFile.map { try service.uploads.add(spooled: $0, head: head, format: format, name: name) }
            ?? service.uploads.add(request.body, format: format, name: name)
        var headers = HTTPHeaders()
        headers.add("Location", "/v1/datasets/\(info.id)")
        return .json(201, try APIJSON.bytes(info), headers: headers)
    }

    /// Up to `count` bytes from the start of a spooled body.
    private static func firstBytes(of file: BodyFile, count: Int) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            throw ServiceError.unavailable("the upload could not be read back; nothing was kept")
        }
        defer { try? handle.close() }
        return Array((try? handle.read(upToCount: count)) ?? Data())
    }

    private func listDatasets(_ request: HTTPRequest) throws -> HTTPResponse {
        .json(200, try APIJSON.bytes(["datasets": service.uploads.list()]))
    }

    private func showDataset(_ request: HTTPRequest) throws -> HTTPResponse {
        .json(200, try APIJSON.bytes(try service.uploads.info(id: datasetID(request))))
    }

    /// `DELETE /v1/datasets/ID`: 204, or 409 while a job that has not ended reads it.
    ///
    /// The check and the delete happen while job submission is held, so a job submitted at
    /// the same moment is either seen here (and the delete refused) or refused itself with
    /// `dataset_not_found`; no job is ever queued on a deleted dataset.
    private func deleteDataset(_ request: HTTPRequest) throws -> HTTPResponse {
        let id = try datasetID(request)
        let info = try service.uploads.info(id: id)
        let file = try? service.datasets.resolve(.uploaded(id: id), field: "id")
        try service.jobs.withSubmissionsHeld { unfinished in
            if let job = unfinished.first(where: { reads($0.spec, info, file: file) }) {
                throw ServiceError.invalidState(
                    "dataset \(id) is used by job \(job.id), which is \(job.state.rawValue); "
                        + "cancel it or wait for it to end")
            }
            try service.uploads.remove(id: id)
        }
        service.datasets.evict(uploadedID: id)
        return HTTPResponse(status: 204)
    }

    private func datasetID(_ request: HTTPRequest) throws -> String {
        try ResourceID.checked(request.pathParameters["id"] ?? "")
    }

    /// Whether a job spec (in request form) trains or validates on the dataset: by its id, or
    /// by a path that leads to its `file` (however the path is spelt).
    func reads(_ spec: JSONValue, _ info: DatasetInfo, file: URL?) -> Bool {
        guard let spec = try? JobSpec.parse(spec) else { return false }
        return [spec.training, spec.validation].contains { source in
            switch source?.reference {
            case .uploaded(let id)?:
                return id == info.id
            case .path(let path)?:
                let resolved = try? service.datasets.resolve(.path(path), field: "dataset")
                return resolved != nil && resolved?.path == file?.path
            default:
                return false
            }
        }
    }
}
