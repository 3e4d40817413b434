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

    /// Hosts and directories given as empty strings, which would mean "any" or "here".
    @Test func emptyHostsAndDirectoriesAreRefusedNamingTheField() throws {
        for key in ["host", "data_directory", "datasets_directory", "fashion_mnist_directory", "auth_token_file"] {
            let text = "{\"\(key)\": \"\"}"
            let error = #expect(throws: ServiceError.self) { try ServiceConfig.parse(JSONValue.parse(Array(text.utf8))) }
            #expect(error?.field == key)
            #expect(error?.message == "\(key): must not be empty")
        }
    }

    /// Durations are bounded: none of them may be negative or zero (a zero heartbeat would
    /// spin an event stream, a negative timeout would refuse every request), nor absurdly long.
    @Test func durationsOutsideTheirRangeAreRefusedNamingTheField() throws {
        let cases = [
            (#"{"heartbeat_seconds": 0}"#, "heartbeat_seconds"),
            (#"{"heartbeat_seconds": -1}"#, "heartbeat_seconds"),
            (#"{"shutdown_grace_seconds": -5}"#, "shutdown_grace_seconds"),
            (#"{"limits": {"header_timeout_seconds": -1}}"#, "limits.header_timeout_seconds"),
            (#"{"limits": {"body_timeout_seconds": 0}}"#, "limits.body_timeout_seconds"),
            (#"{"limits": {"idle_timeout_seconds": 1e300}}"#, "limits.idle_timeout_seconds"),
            (#"{"limits": {"write_timeout_seconds": 1e19}}"#, "limits.write_timeout_seconds"),
        ]
        for (text, field) in cases {
            let error = #expect(throws: ServiceError.self) { try ServiceConfig.parse(JSONValue.parse(Array(text.utf8))) }
            #expect(error?.field == field, "\(text)")
            #expect(error?.message.contains("must be between") == true, "\(text): \(error?.message ?? "")")
        }
        let fine = try ServiceConfig.parse(JSONValue.parse(Array(
            #"{"heartbeat_seconds": 0.5, "shutdown_grace_seconds": 0, "limits": {"body_timeout_seconds": 3600}}"#.utf8)))
        #expect(fine.heartbeatSeconds == 0.5 && fine.shutdownGraceSeconds == 0)
        #expect(fine.serverConfiguration.bodyTimeoutSeconds == 3600)
    }

    /// `limits.max_target_length` reaches the server: a target one byte over it is 414 naming
    /// the limit, one at it is routed; out of range it is refused naming the key.
    @Test func targetLengthLimitIsReadFromTheConfigAndReachesTheServer() throws {
        let config = try ServiceConfig.parse(JSONValue.parse(Array(#"{"limits": {"max_target_length": 300}}"#.utf8)))
        #expect(config.maxTargetLength == 300 && config.serverConfiguration.maxTargetLength == 300)
        #expect(try ServiceConfig.parse(JSONValue.parse(Array("{}".utf8))).serverConfiguration.maxTargetLength == 8_192)
        #expect(throws: ServiceError.invalidField(
            path: "limits.max_target_length", message: "must be between 256 and 1048576, got 10")) {
            try ServiceConfig.parse(JSONValue.parse(Array(#"{"limits": {"max_target_length": 10}}"#.utf8)))
        }

        try LiveService.run({ $0.maxTargetLength = 300 }) { service in
            let prefix = "/v1/jobs?limit=1&x="
            let atLimit = prefix + String(repeating: "a", count: 300 - prefix.utf8.count)
            #expect(atLimit.utf8.count == 300)
            #expect(try TestHTTPClient.request("GET", atLimit, port: service.port).status != 414)
            let over = try TestHTTPClient.request("GET", atLimit + "a", port: service.port)
            #expect(over.status == 414)
            #expect(try RawHTTP.error(over)["message"] as? String == "request target exceeds the limit of 300 bytes")
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
