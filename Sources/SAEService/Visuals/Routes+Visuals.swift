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
        let datasets = service.datasets
        let pictures = PictureHandlers(service: service, datasets: datasets, firing: LatentFiringCache())
        let dashboard = DashboardHandlers(service: service, datasets: datasets,
                                          examplesDirectory: URL(fileURLWithPath: "config/jobs"))

        add(router, "GET", "/", dashboard.page)
        add(router, "GET", "/v1/examples", dashboard.examples)
        add(router, "GET", "/v1/datasets/:name/:split/rows/:index", dashboard.datasetRow)
        add(router, "GET", "/v1/models/:id/features.png", pictures.features)
        add(router, "GET", "/v1/models/:id/reconstructions.png", pictures.reconstructions)
        add(router, "GET", "/v1/jobs/:id/loss.svg", pictures.lossChart)
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
