import Foundation
import Testing
@testable import SAEService

/// The optional bearer token on `/v1` routes.
@Suite(.serialized)
struct AuthTests {
    static let token = "s3cret-token_value"

    @Test func v1RoutesNeedTheTokenAndOtherRoutesStayOpen() throws {
        try LiveService.run({ $0.authToken = Self.token }) { service in
            let port = service.port
            let missing = try TestHTTPClient.request("GET", "/v1/jobs", port: port)
            #expect(missing.status == 401)
            #expect(missing.headers["www-authenticate"] == #"Bearer realm="saed""#)
            #expect(try RawHTTP.error(missing)["code"] as? String == "unauthorized")

            for header in ["Bearer wrong", "Bearer \(Self.token)x", "Bearer ", "Basic \(Self.token)", Self.token] {
                let refused = try TestHTTPClient.request("GET", "/v1/jobs", port: port,
                                                         headers: ["Authorization": header])
                #expect(refused.status == 401, "\(header)")
            }
            let wrong = try TestHTTPClient.request("GET", "/v1/models", port: port,
                                                   headers: ["Authorization": "Bearer nope"])
            #expect(wrong.headers["www-authenticate"]?.contains(#"error="invalid_token""#) == true)

            let allowed = ["Authorization": "bearer \(Self.token)"]
            #expect(try TestHTTPClient.request("GET", "/v1/jobs", port: port, headers: allowed).status == 200)
            #expect(try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: "{}").status == 401,
                    "refused before the body is judged")
            #expect(try TestHTTPClient.request("GET", "/v1/examples", port: port).status == 401, "dashboard data too")
            #expect(try TestHTTPClient.request("GET", "/v1/openapi.json", port: port).status == 401)
            for open in ["/", "/healthz", "/readyz", "/metrics"] {
                #expect(try TestHTTPClient.request("GET", open, port: port).status == 200, "\(open)")
            }
            let metrics = try TestHTTPClient.request("GET", "/metrics", port: port).text
            #expect(metrics.contains(#"saed_http_requests_total{method="GET",route="/v1/jobs",status="401"} 6"#))
        }
    }

    /// A client that awaits `100 Continue` without the token gets the 401 at once, before it
    /// sends a body that would be refused; with the token it gets `100 Continue`.
    @Test func expectContinueWithoutTheTokenIsRefusedBeforeTheBody() throws {
        try LiveService.run({ $0.authToken = Self.token }) { service in
            let head = "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                + "Content-Type: application/json\r\nContent-Length: 2\r\n"
            // No body is sent: only an answer from the head can arrive before the timeout.
            let refused = try TestHTTPClient.parse(
                TestHTTPClient.exchange(Array((head + "\r\n").utf8), port: service.port, timeoutSeconds: 5))
            #expect(refused.status == 401)
            #expect(refused.headers["www-authenticate"] == #"Bearer realm="saed""#)
            #expect(refused.headers["connection"] == "close")
            #expect(try RawHTTP.error(refused)["code"] as? String == "unauthorized")

            let wrong = try TestHTTPClient.parse(TestHTTPClient.exchange(
                Array((head + "Authorization: Bearer nope\r\n\r\n").utf8), port: service.port, timeoutSeconds: 5))
            #expect(wrong.status == 401)

            let allowed = head + "Authorization: Bearer \(Self.token)\r\nConnection: close\r\n\r\n"
            let raw = try TestHTTPClient.exchange(Array((allowed + "{}").utf8), port: service.port, timeoutSeconds: 5)
            let text = String(decoding: raw, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 "), "\(text.prefix(80))")
            #expect(!text.hasPrefix("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401"))
        }
    }

    /// The dashboard loads without the token and holds none; it only says one is needed, and
    /// its script sends every request (the event stream and the pictures too) through the one
    /// fetch wrapper that adds the header.
    @Test func dashboardIsServedWithoutTheTokenAndAsksForIt() throws {
        try LiveService.run({ $0.authToken = Self.token }) { service in
            let page = try TestHTTPClient.request("GET", "/", port: service.port)
            #expect(page.status == 200)
            #expect(page.text.contains(#"<meta name="saed-auth" content="bearer">"#))
            #expect(!page.text.contains(Self.token))
            #expect(try TestHTTPClient.request("GET", "/v1/jobs?limit=50", port: service.port).status == 401)
            #expect(try TestHTTPClient.request("GET", "/v1/examples", port: service.port).status == 401)
        }
        try LiveService.run { service in
            let page = try TestHTTPClient.request("GET", "/", port: service.port).text
            #expect(page.contains(#"<meta name="saed-auth" content="none">"#))
        }
        // The whole page's script: only the wrapper itself calls fetch.
        let script = Dashboard.html
        #expect(script.components(separatedBy: "fetch(").count - 1 == 1,
                "every request but the wrapper's own goes through authorizedFetch")
        #expect(script.contains("authorizedFetch(url)") && script.contains("authorizedFetch(path, options)"))
        #expect(!script.contains("new EventSource(") && !script.contains("new Image("))
        #expect(script.contains(#"headers.set("Authorization", "Bearer " + token)"#))
    }

    @Test func withoutATokenEverythingIsOpen() throws {
        try LiveService.run { service in
            #expect(!service.auth.isEnabled)
            let response = try TestHTTPClient.request("GET", "/v1/jobs", port: service.port)
            #expect(response.status == 200)
        }
    }

    @Test func comparisonIsExactWhateverTheLengths() {
        let expected = Array(Self.token.utf8)
        #expect(BearerAuth.constantTimeEquals(expected, expected))
        #expect(!BearerAuth.constantTimeEquals(Array(expected.dropLast()), expected))
        #expect(!BearerAuth.constantTimeEquals(expected + [0], expected))
        #expect(!BearerAuth.constantTimeEquals([], expected))
        var flipped = expected
        flipped[0] ^= 1
        #expect(!BearerAuth.constantTimeEquals(flipped, expected))
    }
}
