import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import SAECore
import Testing
@testable import SAEService

/// Collects what the tests look at in an SVG document while checking it parses as XML.
final class SVGSummary: NSObject, XMLParserDelegate {
    var rootName: String?
    var curves: [String] = []
    var texts: [String] = []
    var circles = 0
    private var text = ""
    private var isInText = false

    static func parse(_ svg: String) throws -> SVGSummary {
        let summary = SVGSummary()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = summary
        guard parser.parse() else {
            throw TestClientError("not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "unknown error")")
        }
        return summary
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if rootName == nil { rootName = name }
        if name == "path" {
            // Only curves are paths; anything else would break "one path per curve".
            let isCurve = attributes["class"] == "curve" && attributes["d"]?.hasPrefix("M") == true
            curves.append(isCurve ? attributes["data-series"] ?? "?" : "not a curve")
        }
        if name == "circle" { circles += 1 }
        if name == "text" {
            isInText = true
            text = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if isInText { text += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" {
            texts.append(text)
            isInText = false
        }
    }
}

@Suite(.serialized)
struct VisualsLossChartTests {
    static func record(_ epoch: Int, validation: Bool) -> EpochRecord {
        let e = Double(epoch)
        return EpochRecord(
            epoch: epoch, loss: 0.05 / e, reconstruction: 0.04 / e, sparsity: 0.01 / e, l0: 30 - e,
            deadFraction: 0, deadCount: 0, validationReconstruction: validation ? 0.045 / e : nil,
            validationL0: validation ? 29 - e : nil, seconds: 1, samplesPerSecond: 1000, steps: 10 * epoch)
    }

    @Test func chartWithValidationHasOnePathPerCurveAndLabelledAxes() throws {
        let history = (1...3).map { Self.record($0, validation: true) }
        let chart = LossChart(title: "demo <&> · job_1", history: history, plannedEpochs: 10)
        let svg = try SVGSummary.parse(chart.svg())
        #expect(svg.rootName == "svg")
        let everyCurve = ["loss", "reconstruction", "sparsity", "validation_reconstruction", "l0", "validation_l0"]
        #expect(svg.curves == everyCurve)
        #expect(svg.circles == 6 * 3)
        for label in ["epoch", "loss", "L0 (active latents)", "training loss", "validation MSE", "L0 validation",
                      "demo <&> · job_1", "1", "10"] {
            #expect(svg.texts.contains(label), "missing text \(label)")
        }
    }

    @Test func chartWithoutValidationLeavesThoseCurvesOut() throws {
        let chart = LossChart(title: "t", history: [Self.record(1, validation: false)], plannedEpochs: 1)
        let svg = try SVGSummary.parse(chart.svg())
        #expect(svg.curves == ["loss", "reconstruction", "sparsity", "l0"])
        #expect(!svg.texts.contains("validation MSE"))
    }

    @Test func emptyHistoryIsAValidChartSayingItWaits() throws {
        let svg = try SVGSummary.parse(LossChart(title: "t", history: [], plannedEpochs: 5).svg())
        #expect(svg.curves.isEmpty)
        #expect(svg.texts.contains("waiting for the first epoch"))
    }

    @Test func axesRoundUpToFewRoundTicks() {
        #expect(NiceAxis(maximum: 0.03).ticks.count <= 6)
        #expect(NiceAxis(maximum: 0.03).maximum >= 0.03)
        #expect(NiceAxis(maximum: 27).ticks == [0, 10, 20, 30])
        #expect(NiceAxis(maximum: 0).maximum == 1)
        #expect(NiceAxis(maximum: .nan).maximum == 1)
        #expect(LossChart.epochTicks(lastEpoch: 4) == [1, 2, 3, 4])
        #expect(LossChart.epochTicks(lastEpoch: 100) == [1] + Array(stride(from: 10, through: 100, by: 10)))
    }

    @Test func routeDrawsAQueuedJobAndRefusesUnknownOnes() throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        try fixture.writeDataset("tiny.csv", TinyModel.csv)
        let spec = try JobSpec.parse(JSONValue.parse(Array(#"{"dataset": {"path": "tiny.csv"}, "epochs": 3}"#.utf8)))
        let job = try fixture.service.jobs.submit(spec).job

        let response = try fixture.get("/v1/jobs/\(job.id)/loss.svg")
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"] == "image/svg+xml; charset=utf-8")
        let svg = try SVGSummary.parse(response.text)
        #expect(svg.curves.isEmpty)
        #expect(svg.texts.contains(job.id))

        let missing = try fixture.get("/v1/jobs/job_nope/loss.svg")
        #expect(missing.status == 404)
        #expect(try missing.errorObject()["code"] as? String == "job_not_found")
    }

    /// Over real sockets: train a tiny job, then fetch its chart, its model's pictures and the page.
    @Test func liveServiceServesChartPicturesAndDashboard() throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        try fixture.writeDataset("tiny.csv", TinyModel.csv)
        try fixture.service.start()
        defer { fixture.service.stop() }
        let port = fixture.service.port
        let body = #"{"name": "tiny", "dataset": {"path": "tiny.csv"}, "validation": {"path": "tiny.csv"}, "#
            + #""model": {"hidden_size": 9}, "epochs": 3, "batch_size": 2}"#
        let submitted = try TestHTTPClient.request("POST", "/v1/jobs", port: port, body: body).json()
        let id = try #require(submitted["id"] as? String)

        var job: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(30)
        repeat {
            Thread.sleep(forTimeInterval: 0.05)
            job = try TestHTTPClient.request("GET", "/v1/jobs/\(id)", port: port).json()
        } while job["state"] as? String != "succeeded" && Date() < deadline
        #expect(job["state"] as? String == "succeeded")

        let chart = try TestHTTPClient.request("GET", "/v1/jobs/\(id)/loss.svg", port: port)
        #expect(chart.status == 200)
        let svg = try SVGSummary.parse(chart.text)
        #expect(svg.curves.count == 6)
        #expect(svg.circles == 18)

        let modelID = try #require(job["model_id"] as? String)
        let features = try TestHTTPClient.request("GET", "/v1/models/\(modelID)/features.png", port: port)
        #expect(features.status == 200)
        #expect(features.headers["x-feature-order"] == "frequency")
        let png = try DecodedPNG.decode(features.body)
        let grid = FeatureGrid(shape: TileShape(height: 4, width: 4), columns: 3, scale: 8)
        #expect((png.width, png.height) == grid.size(tiles: 9))

        let page = try TestHTTPClient.request("GET", "/", port: port)
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
    }
}
