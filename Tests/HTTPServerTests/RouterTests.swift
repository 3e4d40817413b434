import Testing

@testable import HTTPServer

/// The router on its own, without sockets.
struct RouterTests {
    /// A handler that answers with `name`, so tests can tell which route matched.
    private func named(_ name: String) -> Handler {
        { _ in HTTPResponse(status: 200, body: .bytes(Array(name.utf8))) }
    }

    /// The name of the handler that matched, with the captured parameters.
    private func resolve(
        _ router: Router, _ method: String, _ path: String
    ) throws -> (name: String, parameters: [String: String])? {
        guard case .matched(let handler, let parameters) = router.match(method: method, path: path)
        else { return nil }
        guard
            case .bytes(let body) = try handler(
                HTTPRequest(method: method, target: path).withMethod(method)
            ).body
        else { return nil }
        return (String(decoding: body, as: UTF8.self), parameters)
    }

    private func sampleRouter() -> Router {
        let router = Router()
        router.add("GET", "/v1/jobs", self.named("list"))
        router.add("POST", "/v1/jobs", self.named("create"))
        router.add("POST", "/v1/jobs:validate", self.named("validate"))
        router.add("GET", "/v1/jobs/:id", self.named("job"))
        router.add("DELETE", "/v1/jobs/:id", self.named("cancel"))
        router.add("GET", "/v1/jobs/stats", self.named("stats"))
        router.add("GET", "/v1/jobs/:id/events", self.named("events"))
        router.add("GET", "/", self.named("root"))
        return router
    }

    @Test func parametersAreCapturedAndDecoded() throws {
        let router = self.sampleRouter()

        let events = try #require(try self.resolve(router, "GET", "/v1/jobs/job%201/events"))
        #expect(events.name == "events")
        #expect(events.parameters == ["id": "job 1"])
    }

    @Test func literalSegmentBeatsAParameter() throws {
        let router = self.sampleRouter()

        #expect(try self.resolve(router, "GET", "/v1/jobs/stats")?.name == "stats")
        #expect(try self.resolve(router, "GET", "/v1/jobs/other")?.name == "job")
    }

    @Test func segmentWithColonAfterTextIsALiteral() throws {
        let router = self.sampleRouter()

        #expect(try self.resolve(router, "POST", "/v1/jobs:validate")?.name == "validate")
        #expect(try self.resolve(router, "POST", "/v1/jobs:other") == nil)
    }

    @Test func unknownPathIsNotFound() {
        let router = self.sampleRouter()

        for path in ["/v2/jobs", "/v1/jobs/a/b/c", "/v1/jobs/", "/v1"] {
            guard case .notFound = router.match(method: "GET", path: path) else {
                Issue.record("expected notFound for \(path)")
                continue
            }
        }
    }

    @Test func knownPathWithOtherMethodIsNotAllowedWithAllow() {
        let router = self.sampleRouter()

        guard case .methodNotAllowed(let allowed) = router.match(method: "PUT", path: "/v1/jobs/j1")
        else {
            Issue.record("expected methodNotAllowed")
            return
        }
        #expect(allowed == ["GET", "HEAD", "DELETE"])
        let response = RouteMatch.methodNotAllowed(allowed: allowed)
            .errorResponse(method: "PUT", path: "/v1/jobs/j1")
        #expect(response?.status == 405)
        #expect(response?.headers["allow"] == "GET, HEAD, DELETE")
    }

    @Test func headFallsBackToGet() throws {
        let router = self.sampleRouter()

        #expect(try self.resolve(router, "HEAD", "/v1/jobs")?.name == "list")
        guard
            case .methodNotAllowed(let allowed) = router.match(
                method: "HEAD", path: "/v1/jobs:validate")
        else {
            Issue.record("expected methodNotAllowed")
            return
        }
        #expect(allowed == ["POST"])
    }

    @Test func rootPathMatchesOnlyItself() throws {
        let router = self.sampleRouter()

        #expect(try self.resolve(router, "GET", "/")?.name == "root")
        guard case .notFound = router.match(method: "GET", path: "//") else {
            Issue.record("expected notFound for //")
            return
        }
    }

    @Test func routesAreListedInRegistrationOrder() {
        let router = Router()
        router.add("GET", "/a", self.named("a"))
        router.add("POST", "/b/:id", self.named("b"))

        #expect(router.routes.map { "\($0.method) \($0.pattern)" } == ["GET /a", "POST /b/:id"])
    }
}

extension HTTPRequest {
    /// The request with `method` replaced.
    func withMethod(_ method: String) -> HTTPRequest {
        var copy = self
        copy.method = method
        return copy
    }
}
