import Foundation
import HTTPServer

/// The optional bearer token that guards the `/v1` routes.
///
/// With no token configured every route is open. With one, a `/v1` request must carry
/// `Authorization: Bearer <token>`; the comparison takes the same time wherever the first
/// difference is, so response timing does not reveal how much of a guess was right.
/// `/`, `/healthz`, `/readyz` and `/metrics` never need it.
package struct BearerAuth: Sendable {
    private let token: [UInt8]?

    /// `token` nil leaves every route open.
    package init(token: String?) {
        self.token = token.map { Array($0.utf8) }
    }

    /// Whether a token is configured at all.
    package var isEnabled: Bool { token != nil }

    /// Whether requests to routes with this pattern must carry the token.
    package static func protects(pattern: String) -> Bool {
        pattern == "/v1" || pattern.hasPrefix("/v1/") || pattern.hasPrefix("/v1:")
    }

    /// Throws `ServiceError.unauthorized` unless the request carries the token (or none is set).
    package func check(_ request: HTTPRequest) throws {
        try check(request.headers)
    }

    /// Throws `ServiceError.unauthorized` unless `headers` carry the token (or none is set);
    /// for a request whose body has not been read yet.
    package func check(_ headers: HTTPHeaders) throws {
        guard let token else { return }
        guard let header = headers["Authorization"] else {
            throw ServiceError.unauthorized(tokenGiven: false)
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw ServiceError.unauthorized(tokenGiven: false)
        }
        let given = Array(parts[1].trimmingCharacters(in: .whitespaces).utf8)
        guard Self.constantTimeEquals(given, token) else { throw ServiceError.unauthorized(tokenGiven: true) }
    }

    /// Compares two byte strings in time that depends only on `expected`'s length.
    static func constantTimeEquals(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = given.count == expected.count ? 0 : 1
        for index in expected.indices {
            // Out-of-range positions still cost one load and one xor.
            let byte = index < given.count ? given[index] : ~expected[index]
            difference |= byte ^ expected[index]
        }
        return difference == 0
    }
}
