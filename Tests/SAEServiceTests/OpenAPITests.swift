import Foundation
import Testing
@testable import SAEService

/// The OpenAPI document describes exactly the routes the server answers.
@Suite(.serialized)
struct OpenAPITests {
    /// `/v1/jobs/:id/events` as OpenAPI writes it: `/v1/jobs/{id}/events`.
    static func openAPIPath(_ pattern: String) -> String {
        pattern.split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
            .joined(separator: "/")
    }

    @Test func everyRouteIsDocumentedAndEveryDocumentedOperationIsARoute() throws {
        try LiveService.run { service in
            let routes = Set(service.router.routes.map { "\($0.method) \(Self.openAPIPath($0.pattern))" })
            let served = try TestHTTPClient.request("GET", "/v1/openapi.json", port: service.port).json()
            let paths = try #require(served["paths"] as? [String: [String: Any]])
            let documented = Set(paths.flatMap { path, item in item.keys.map { "\($0.uppercased()) \(path)" } })
            #expect(routes.subtracting(documented).isEmpty, "routes without a description")
            #expect(documented.subtracting(routes).isEmpty, "descriptions without a route")
            #expect(routes.count >= 29)
        }
    }

    @Test func everyOperationListsItsErrorsAndTheSharedOnes() throws {
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(OpenAPI.documentBytes)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let components = try #require(document["components"] as? [String: Any])
        let responses = try #require(components["responses"] as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        for (path, item) in paths {
            for (method, operation) in item {
                let statuses = Set((operation["responses"] as? [String: Any] ?? [:]).keys)
                #expect(statuses.contains("500"), "\(method) \(path)")
                #expect(statuses.contains("401") == path.hasPrefix("/v1/"), "\(method) \(path)")
                #expect(statuses.contains { $0.hasPrefix("2") }, "\(method) \(path) has no success")
                if operation["requestBody"] != nil {
                    #expect(statuses.contains("413") && statuses.contains("415"), "\(method) \(path)")
                }
                // Path parameters are declared.
                let declared = Set((operation["parameters"] as? [[String: Any]] ?? [])
                    .filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String })
                let inPath = Set(path.split(separator: "/").filter { $0.hasPrefix("{") }
                    .map { String($0.dropFirst().dropLast()) })
                #expect(declared == inPath, "\(method) \(path)")
                // A path id that is not an id, or a query parameter given twice, is a 400.
                #expect(statuses.contains("400"), "\(method) \(path)")
            }
        }
        // Each referenced error response exists.
        let text = String(decoding: OpenAPI.documentBytes, as: UTF8.self)
        let statuses = ["400", "401", "404", "409", "413", "415", "422", "429", "500", "503"]
        for status in statuses where text.contains("E\(status)\"") {
            #expect(responses["E\(status)"] != nil, "E\(status)")
        }
    }
}
