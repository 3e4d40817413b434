import Foundation
import HTTPServer
import SAECore

extension Routes {
    /// Registers the pictures (`features.png`, `reconstructions.png`, `loss.svg`), the
    /// dashboard at `/` and the two small routes the dashboard reads: the example jobs and
    /// single rows of the built-in datasets.
    ///
    /// Errors leave as the service's JSON error bodies, like every other route's.
    func registerVisuals(on router: Router) {
        // TODO(#6): share the service's DatasetCatalog (and its cache of loaded files) once
        // Service exposes it; a second catalog costs a second copy of a dataset in memory
        // only when both training and the pictures read the same file.
        let datasets = DatasetCatalog(
            datasetsDirectory: URL(fileURLWithPath: service.config.datasetsDirectory),
            fashionMNISTDirectory: URL(fileURLWithPath: service.config.fashionMNISTDirectory))
        let pictures = PictureHandlers(service: service, datasets: datasets, firing: LatentFiringCache())
        let dashboard = DashboardHandlers(service: service, datasets: datasets,
                                          examplesDirectory: URL(fileURLWithPath: "config/jobs"))

        addVisual(router, "GET", "/", dashboard.page)
        addVisual(router, "GET", "/v1/examples", dashboard.examples)
        addVisual(router, "GET", "/v1/datasets/:name/:split/rows/:index", dashboard.datasetRow)
        addVisual(router, "GET", "/v1/models/:id/features.png", pictures.features)
        addVisual(router, "GET", "/v1/models/:id/reconstructions.png", pictures.reconstructions)
        addVisual(router, "GET", "/v1/jobs/:id/loss.svg", pictures.lossChart)
    }

    /// Registers a handler whose thrown errors become the service's JSON error responses;
    /// errors the service did not expect are logged first.
    private func addVisual(_ router: Router, _ method: String, _ pattern: String,
                           _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        let logger = service.logger
        router.add(method, pattern) { request in
            do {
                return try handler(request)
            } catch {
                if !(error is ServiceError) && !(error is any HTTPError) {
                    logger.error("request failed", ["http.path": request.path, "error": "\(error)"])
                }
                return errorResponse(for: error)
            }
        }
    }
}

extension HTTPResponse {
    /// A 200 response carrying `body` as `contentType`, never cached: pictures of a running
    /// job change from one epoch to the next.
    static func content(_ contentType: String, _ body: [UInt8], headers: HTTPHeaders = HTTPHeaders())
        -> HTTPResponse
    {
        var headers = headers
        headers.set("Content-Type", contentType)
        headers.set("Cache-Control", "no-cache")
        return HTTPResponse(status: 200, headers: headers, body: .bytes(body))
    }
}
