import Foundation
import Testing
@testable import SAEService

/// Readiness and the Prometheus metrics.
@Suite(.serialized)
struct OperationsTests {
    @Test func readyzIs503WhileTheStoreRefusesWritesAndWhenDraining() throws {
        let directory = try EndToEndTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let service = try Service(config: EndToEndTests.makeConfig(dataDirectory: directory), logger: .none)
        #expect(service.notReadyReason() == "the daemon is starting")
        try service.start()
        let port = service.port
        let ready = try TestHTTPClient.request("GET", "/readyz", port: port)
        #expect(ready.status == 200 && ready.text == #"{"status":"ready"}"#)

        // A read-only connection stands in for a full disk or a lost volume.
        try service.database.execute("PRAGMA query_only = ON")
        Thread.sleep(forTimeInterval: 0.3)  // past the last good probe's validity
        let refused = try TestHTTPClient.request("GET", "/readyz", port: port)
        #expect(refused.status == 503 && refused.headers["retry-after"] == "1")
        let error = try RawHTTP.error(refused)
        #expect(error["code"] as? String == "not_ready" && error["message"] as? String == "the store cannot be written")
        #expect(try TestHTTPClient.request("GET", "/healthz", port: port).status == 200, "alive, just not ready")
        try service.database.execute("PRAGMA query_only = OFF")
        #expect(try TestHTTPClient.request("GET", "/readyz", port: port).status == 200)

        service.stop()
        #expect(service.notReadyReason() == "the daemon is shutting down")
    }

    @Test func metricsCountRequestsByRoutePatternAndJobsByState() throws {
        try LiveService.run { service in
            let port = service.port
            _ = try TestHTTPClient.request("GET", "/v1/jobs/job_a", port: port)
            _ = try TestHTTPClient.request("GET", "/v1/jobs/job_b", port: port)
            _ = try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: JobAPITests.longJob)
            let response = try TestHTTPClient.request("GET", "/metrics", port: port)
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            let lines = Set(response.text.split(separator: "\n").map(String.init))
            #expect(lines.contains(#"saed_http_requests_total{method="GET",route="/v1/jobs/:id",status="404"} 2"#))
            #expect(lines.contains(#"saed_http_requests_total{method="POST",route="/v1/jobs",status="202"} 1"#))
            #expect(lines.contains(#"saed_http_request_duration_seconds_count{route="/v1/jobs/:id"} 2"#))
            #expect(lines.contains(#"saed_http_request_duration_seconds_bucket{le="+Inf",route="/v1/jobs/:id"} 2"#))
            let queuedOrRunning = [#"saed_jobs{state="queued"} 1"#, #"saed_jobs{state="running"} 1"#]
            #expect(queuedOrRunning.contains(where: lines.contains))
            #expect(lines.contains("saed_ready 1"))
            for family in ["saed_epoch_duration_seconds histogram", "saed_training_samples_total counter",
                           "saed_job_queue_depth gauge", "saed_encoded_rows_total counter"] {
                #expect(lines.contains("# TYPE \(family)"), "\(family)")
            }
        }
    }

    @Test func histogramsAreCumulativeAndEpochsAddTheirSamples() {
        let metrics = Metrics()
        metrics.observeEpoch(seconds: 0.3, samples: 1000)
        metrics.observeEpoch(seconds: 7, samples: 1000)
        metrics.observeEpoch(seconds: 4000, samples: 24)
        let snapshot = Metrics.Snapshot(jobsByState: [], queueDepth: 0, models: 0, datasets: 0, isReady: true)
        let lines = Set(metrics.render(snapshot).split(separator: "\n").map(String.init))
        #expect(lines.contains(#"saed_epoch_duration_seconds_bucket{le="0.1"} 0"#))
        #expect(lines.contains(#"saed_epoch_duration_seconds_bucket{le="0.5"} 1"#))
        #expect(lines.contains(#"saed_epoch_duration_seconds_bucket{le="10"} 2"#))
        #expect(lines.contains(#"saed_epoch_duration_seconds_bucket{le="1800"} 2"#))
        #expect(lines.contains(#"saed_epoch_duration_seconds_bucket{le="+Inf"} 3"#))
        #expect(lines.contains("saed_epoch_duration_seconds_sum 4007.3"))
        #expect(lines.contains("saed_training_samples_total 2024"))
    }

    @Test func labelValuesAreEscaped() {
        let metrics = Metrics()
        metrics.observeRequest(method: "GET", route: "/a\"b\\c\nd", status: 200, seconds: 0.001)
        let snapshot = Metrics.Snapshot(jobsByState: [], queueDepth: 0, models: 0, datasets: 0, isReady: false)
        #expect(metrics.render(snapshot).contains(#"route="/a\"b\\c\nd""#))
    }
}
