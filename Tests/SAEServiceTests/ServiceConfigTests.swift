import Foundation
import Testing
@testable import SAEService

/// The settings this part of the API added: the token's sources and the upload limits.
struct ServiceConfigTests {
    @Test func theTokenComesFromTheFileThenTheEnvironment() throws {
        let file = NSTemporaryDirectory() + "saed-token-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Data("  from-file\n".utf8).write(to: URL(fileURLWithPath: file))
        let environment = [ServiceConfig.tokenEnvironmentVariable: "from-env"]

        var config = try ServiceConfig.parse(JSONValue.parse(Array(#"{"auth_token_file": "\#(file)"}"#.utf8)))
        #expect(config.authTokenFile == file)
        #expect(try config.resolvedAuthToken(environment: environment) == "from-file")
        config.authTokenFile = nil
        #expect(try config.resolvedAuthToken(environment: environment) == "from-env")
        #expect(try config.resolvedAuthToken(environment: [:]) == nil)

        config.authTokenFile = file + ".missing"
        #expect(throws: ConfigError.self) { try config.resolvedAuthToken(environment: environment) }
        try Data("\n".utf8).write(to: URL(fileURLWithPath: file))
        config.authTokenFile = file
        #expect(throws: ConfigError.self) { try config.resolvedAuthToken(environment: [:]) }
        config.authToken = "two words"  // could never be sent in one header value
        #expect(throws: ConfigError.self) { try config.resolvedAuthToken(environment: [:]) }
    }

    /// A config file that is not JSON is named as the file, not as a request body.
    @Test func aMalformedConfigFileIsNamedAsTheFile() throws {
        let url = URL(fileURLWithPath: NSTemporaryDirectory() + "saed-config-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        for (text, expected) in [("{\"port\": ", "is not valid JSON"), ("", "is empty")] {
            try Data(text.utf8).write(to: url)
            let error = #expect(throws: ConfigError.self) { try ServiceConfig.load(contentsOf: url) }
            let description = error?.description ?? ""
            #expect(description.hasPrefix("config file \(url.lastPathComponent): the file \(expected)"), "\(description)")
            #expect(!description.contains("request body"))
        }
    }

    @Test func uploadLimitsAreReadFromTheConfigAndReachTheServer() throws {
        let text = #"{"limits": {"max_upload_bytes": 2048, "body_timeout_seconds": 90}}"#
        let config = try ServiceConfig.parse(JSONValue.parse(Array(text.utf8)))
        #expect(config.maxUploadBytes == 2048)
        #expect(config.serverConfiguration.bodyTimeoutSeconds == 90)
        #expect(throws: ServiceError.self) {
            try ServiceConfig.parse(JSONValue.parse(Array(#"{"limits": {"max_upload_bytes": 10}}"#.utf8)))
        }
    }
}
