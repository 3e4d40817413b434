import Foundation
import SAECore
import Testing
@testable import SAEService

/// The dashboard page, the example jobs and the dataset-row route it reads.
@Suite(.serialized)
struct VisualsDashboardTests {
    @Test func pageIsSelfContainedHTMLWithEveryElementTheScriptUses() throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        let response = try fixture.get("/")
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"] == "text/html; charset=utf-8")
        let html = response.text
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        for id in ["view", "jobs-table", "models-table", "job-form", "example-select", "job-json", "submit-job",
                   "loss-chart", "features-img", "reconstructions-img", "playground", "code-chart", "token-box",
                   "token-input", "token-submit"] {
            #expect(html.contains("id=\"\(id)\""), "missing element #\(id)")
        }
        for call in ["followEvents(", "/events", "authorizedFetch(", "/v1/examples", "/v1/jobs?limit=", "/features.png",
                     "/reconstructions.png", "/v1/datasets/fashion-mnist/test/rows/", "/encode", "/reconstruct"] {
            #expect(html.contains(call), "the script never uses \(call)")
        }
        // Nothing from the network: the only URL is the SVG namespace name, which is not fetched.
        let urls = html.components(separatedBy: "http").dropFirst().map { "http" + $0.prefix(30) }
        #expect(urls.allSatisfy { $0.hasPrefix("http://www.w3.org/2000/svg") }, "\(urls)")
        #expect(!html.contains("<script src") && !html.contains("stylesheet"))
    }

    /// Node checks the script's syntax when it is installed (the browser test runs it for real).
    @Test func scriptParsesAsJavaScript() throws {
        let node = ["/usr/bin/node", "/usr/local/bin/node"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let node else { return }
        let file = NSTemporaryDirectory() + "saed-dashboard-\(UUID().uuidString).js"
        try Dashboard.script.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: node)
        process.arguments = ["--check", file]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(message)")
    }

    @Test func builtInExamplesAreValidJobs() throws {
        for (name, body) in ExampleJobs.builtIn {
            let json = try JSONValue.parse(Array(body.utf8))
            let spec = try JobSpec.parse(json)
            #expect(spec.name == name)
            #expect(spec.training.limit != nil, "\(name) should train in minutes, on a slice")
        }
    }

    @Test func examplesListFilesFirstAndSkipInvalidOnes() throws {
        let directory = NSTemporaryDirectory() + "saed-examples-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try #"{"dataset": "fashion-mnist", "epochs": 1}"#.write(
            toFile: directory + "/quick-demo.json", atomically: true, encoding: .utf8)
        try #"{"dataset": "fashion-mnist", "epochs": -1}"#.write(
            toFile: directory + "/broken.json", atomically: true, encoding: .utf8)
        try "not json".write(toFile: directory + "/notes.txt", atomically: true, encoding: .utf8)

        let (examples, skipped) = ExampleJobs.load(from: URL(fileURLWithPath: directory))
        #expect(examples.map(\.name) == ["quick-demo", "topk-32", "kl-sigmoid"])
        #expect(examples[0].source == "config/jobs/quick-demo.json")
        #expect(examples[1].source == "built-in")
        #expect(examples[0].text == #"{"dataset": "fashion-mnist", "epochs": 1}"#)
        #expect(examples[1].text.hasPrefix("{\n  \"name\": \"topk-32\",\n"))
        #expect(skipped.map(\.file) == ["broken.json"])
        #expect(skipped.first?.reason == "epochs: must be between 0 and 100000, got -1")
    }

    @Test func examplesRouteServesTheRepositoryExamples() throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        let response = try fixture.get("/v1/examples")
        #expect(response.status == 200)
        let object = try JSONSerialization.jsonObject(with: Data(response.bytes)) as? [String: Any]
        let examples = try #require(object?["examples"] as? [[String: Any]])
        let names = examples.compactMap { $0["name"] as? String }
        #expect(names.contains("quick-demo"))
        #expect(examples.allSatisfy { $0["job"] is [String: Any] && $0["text"] is String })
    }

    @Test func datasetRowIsOneTestImageScaledToUnitRange() throws {
        #expect(FileManager.default.fileExists(atPath: EndToEndTests.fashionDirectory + "/t10k-images-idx3-ubyte.gz"))
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        let response = try fixture.get("/v1/datasets/fashion-mnist/test/rows/9999")
        #expect(response.status == 200)
        let row = try #require(try JSONSerialization.jsonObject(with: Data(response.bytes)) as? [String: Any])
        #expect(row["index"] as? Int == 9999)
        #expect(row["rows"] as? Int == 10_000)
        #expect(row["width"] as? Int == 784)
        #expect(row["shape"] as? [Int] == [28, 28])
        let values = try #require(row["values"] as? [Double])
        #expect(values.count == 784)
        #expect(values.allSatisfy { $0 >= 0 && $0 <= 1 } && values.contains { $0 > 0 })
    }

    @Test(arguments: [
        ("/v1/datasets/mnist/test/rows/0", "name"),
        ("/v1/datasets/fashion-mnist/dev/rows/0", "split"),
        ("/v1/datasets/fashion-mnist/test/rows/-1", "index"),
        ("/v1/datasets/fashion-mnist/test/rows/ten", "index"),
        ("/v1/datasets/fashion-mnist/test/rows/10000", "index"),
    ])
    func badDatasetRowsAre400NamingTheField(target: String, field: String) throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        let response = try fixture.get(target)
        #expect(response.status == 400)
        #expect(try response.errorObject()["field"] as? String == field)
    }

    /// Without the built-in files the row route names its own path parameter, `name`.
    @Test func datasetRowWithoutTheFilesIs422NamingTheName() throws {
        let fixture = try VisualsFixture(fashionMNIST: "/nonexistent")
        defer { fixture.remove() }
        let response = try fixture.get("/v1/datasets/fashion-mnist/test/rows/0")
        #expect(response.status == 422)
        #expect(try response.errorObject()["code"] as? String == "dataset_not_found")
        #expect(try response.errorObject()["field"] as? String == "name")
    }
}
