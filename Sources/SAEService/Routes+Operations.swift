import Foundation
import HTTPServer

/// The routes for operators and tools: readiness, Prometheus metrics and the OpenAPI document.
extension Routes {
    func registerOperationRoutes(on router: Router) {
        add(router, "GET", "/readyz", readiness)
        add(router, "GET", "/metrics", metrics)
        add(router, "GET", "/v1/openapi.json", openAPI)
    }

    /// `GET /readyz`: 200 `{"status":"ready"}`, or 503 `not_ready` saying why.
    private func readiness(_ request: HTTPRequest) throws -> HTTPResponse {
        if let reason = service.notReadyReason() { throw ServiceError.notReady(reason) }
        return .json(200, Array(#"{"status":"ready"}"#.utf8))
    }

    /// `GET /metrics`: the Prometheus text format, version 0.0.4.
    private func metrics(_ request: HTTPRequest) throws -> HTTPResponse {
        let jobs = service.jobs.list()
        var counts: [JobState: Int] = [:]
        for job in jobs { counts[job.state, default: 0] += 1 }
        let snapshot = Metrics.Snapshot(
            jobsByState: JobState.allCases.map { ($0.rawValue, counts[$0] ?? 0) },
            queueDepth: counts[.queued] ?? 0,
            models: service.models.count,
            datasets: service.uploads.count,
            isReady: service.notReadyReason() == nil)
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        return HTTPResponse(status: 200, headers: headers, body: .bytes(Array(service.metrics.render(snapshot).utf8)))
    }

    /// `GET /v1/openapi.json`: the OpenAPI 3.1 description of every route.
    private func openAPI(_ request: HTTPRequest) throws -> HTTPResponse {
        .json(200, OpenAPI.documentBytes)
    }
}
