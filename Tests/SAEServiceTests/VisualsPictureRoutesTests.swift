import Foundation
import HTTPServer
import SAECore
import Testing
@testable import SAEService

/// `features.png` and `reconstructions.png` on a tiny model with known weights, decoded and
/// checked pixel by pixel, plus their 400 and 404 answers.
@Suite(.serialized)
struct VisualsPictureRoutesTests {
    /// The grey level the grid gives `value` on a tile spanning `low...high`.
    static func level(_ value: Float, _ low: Float, _ high: Float) -> UInt8 {
        UInt8(((value - low) / (high - low) * 255).rounded())
    }

    @Test func featureGridInLatentOrderShowsEachDecoderRowScaledToItsRange() throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        try fixture.save(TinyModel.make(), id: "model_tiny")

        let response = try fixture.get("/v1/models/model_tiny/features.png?sort=index&scale=1&cols=3")
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"] == "image/png")
        #expect(response.headers["X-Feature-Order"] == "index")
        let png = try DecodedPNG.decode(response.bytes)
        // Three framed 4 × 4 tiles in a row: 2 + 3 × (4 + 2 × 2 + 2) = 32 by 2 + 10 = 12.
        #expect((png.width, png.height) == (32, 12))
        let grid = FeatureGrid(shape: TileShape(height: 4, width: 4), columns: 3, scale: 1)

        let ramp = grid.origin(ofPosition: 0)
        #expect(png.rgb(ramp.x, ramp.y) == [0, 0, 0])
        #expect(png.rgb(ramp.x + 3, ramp.y) == Array(repeating: Self.level(3, 0, 15), count: 3))
        #expect(png.rgb(ramp.x + 1, ramp.y + 2) == Array(repeating: Self.level(9, 0, 15), count: 3))
        #expect(png.rgb(ramp.x + 3, ramp.y + 3) == [255, 255, 255])
        let flat = grid.origin(ofPosition: 1)
        #expect(png.rgb(flat.x + 2, flat.y + 1) == [128, 128, 128])
        let reversed = grid.origin(ofPosition: 2)
        #expect(png.rgb(reversed.x, reversed.y) == [255, 255, 255])
        // Frames are light grey, the gaps white; nothing is marked dead without data.
        #expect(png.rgb(ramp.x - 1, ramp.y) == [226, 230, 236])
        #expect(png.rgb(reversed.x - 1, reversed.y + 1) == [226, 230, 236])
        #expect(png.rgb(0, 0) == [255, 255, 255])
    }

    @Test func featureGridSortsByFiringOnTheTrainingSetAndFramesDeadLatentsInRed() throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        try fixture.writeDataset("tiny.csv", TinyModel.csv)
        try fixture.save(TinyModel.make(), id: "model_tiny", training: TinyModel.trainingSpec)

        let response = try fixture.get("/v1/models/model_tiny/features.png?scale=2&cols=2")
        #expect(response.status == 200)
        #expect(response.headers["X-Feature-Order"] == "frequency")
        #expect(response.headers["X-Dead-Latents"] == "1")
        #expect(response.headers["X-Firing-Sample-Rows"] == "4")
        let png = try DecodedPNG.decode(response.bytes)
        let grid = FeatureGrid(shape: TileShape(height: 4, width: 4), columns: 2, scale: 2)
        #expect((png.width, png.height) == grid.size(tiles: 3))

        // Latent 1 (75 %) first, then latent 0 (25 %), then dead latent 2 on the second row.
        let first = grid.origin(ofPosition: 0)
        #expect(png.rgb(first.x + 5, first.y + 5) == [128, 128, 128])
        let second = grid.origin(ofPosition: 1)
        #expect(png.rgb(second.x, second.y) == [0, 0, 0])
        #expect(png.rgb(second.x + 1, second.y + 1) == [0, 0, 0], "scale 2 repeats each value over 2 × 2 pixels")
        #expect(png.rgb(second.x + 7, second.y + 7) == [255, 255, 255])
        let dead = grid.origin(ofPosition: 2)
        #expect(second.y + 1 < dead.y)
        #expect(png.rgb(dead.x, dead.y) == [255, 255, 255])
        #expect(png.rgb(dead.x - 1, dead.y + 3) == [220, 38, 38])
        #expect(png.rgb(dead.x - 2, dead.y - 2) == [220, 38, 38])
        #expect(png.rgb(first.x - 1, first.y + 3) == [226, 230, 236])
    }

    @Test func encoderColumnsAreTheInputPatternEachLatentReadsFrom() throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        try fixture.save(TinyModel.make(), id: "model_tiny")
        let response = try fixture.get("/v1/models/model_tiny/features.png?weights=encoder&sort=index&scale=1")
        let png = try DecodedPNG.decode(response.bytes)
        let grid = FeatureGrid(shape: TileShape(height: 4, width: 4), columns: 2, scale: 1)
        // Default columns: ceil(sqrt(3)) = 2. Latent 1 reads input 1 only: one white pixel.
        #expect((png.width, png.height) == grid.size(tiles: 3))
        let tile = grid.origin(ofPosition: 1)
        #expect(png.rgb(tile.x + 1, tile.y) == [255, 255, 255])
        #expect(png.rgb(tile.x, tile.y) == [0, 0, 0])
        #expect(png.rgb(tile.x + 3, tile.y + 3) == [0, 0, 0])
    }

    @Test func reconstructionsShowOriginalsAboveTheirReconstructions() throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        try fixture.writeDataset("tiny.csv", TinyModel.csv)
        let model = TinyModel.make()
        try fixture.save(model, id: "model_tiny", training: TinyModel.trainingSpec)

        // The model's own (training) set is the default dataset.
        let response = try fixture.get("/v1/models/model_tiny/reconstructions.png?n=3&start=1&scale=1")
        #expect(response.status == 200)
        let png = try DecodedPNG.decode(response.bytes)
        let strip = ReconstructionStrip(shape: TileShape(height: 4, width: 4), columns: 3, scale: 1)
        #expect((png.width, png.height) == strip.size(count: 3))
        #expect((png.width, png.height) == (2 + 3 * 4 + 2 * 2 + 2, 2 + 4 + 2 + 4 + 2))

        // Row 1 of the CSV: input 1 is 1.0 and input 15 is 0.25, on the fixed 0…1 scale.
        let original = strip.origin(ofSample: 0)
        #expect(png.rgb(original.x + 1, original.y) == [255, 255, 255])
        #expect(png.rgb(original.x + 3, original.y + 3) == [64, 64, 64])
        #expect(png.rgb(original.x, original.y) == [0, 0, 0])
        // Its reconstruction: 1 × decoder row 1 = 0.5 everywhere.
        #expect(png.rgb(original.x + 2, original.y + 4 + 2) == [128, 128, 128])
        // Row 3: input 1 is 0.5, so the reconstruction is 0.25 everywhere.
        let third = strip.origin(ofSample: 2)
        #expect(png.rgb(third.x, third.y + 6) == [64, 64, 64])
    }

    @Test func nonSquareInputsNeedAShape() throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        try fixture.save(TinyModel.make(inputSize: 12), id: "model_wide")
        let missing = try fixture.get("/v1/models/model_wide/features.png")
        #expect(missing.status == 400)
        #expect(try missing.errorObject()["field"] as? String == "shape")
        let wrong = try fixture.get("/v1/models/model_wide/features.png?shape=4x4")
        #expect(wrong.status == 400)
        #expect(try wrong.errorObject()["message"] as? String == "shape: 4x4 covers 16 values but the inputs have 12")
        let good = try fixture.get("/v1/models/model_wide/features.png?shape=3x4&scale=1&sort=index")
        #expect(good.status == 200)
        let png = try DecodedPNG.decode(good.bytes)
        let grid = FeatureGrid(shape: TileShape(height: 3, width: 4), columns: 2, scale: 1)
        #expect((png.width, png.height) == grid.size(tiles: 3))
    }

    @Test(arguments: [
        ("/v1/models/model_tiny/features.png?weights=both", "weights"),
        ("/v1/models/model_tiny/features.png?sort=random", "sort"),
        ("/v1/models/model_tiny/features.png?cols=0", "cols"),
        ("/v1/models/model_tiny/features.png?scale=33", "scale"),
        ("/v1/models/model_tiny/features.png?scale=x", "scale"),
        ("/v1/models/model_tiny/features.png?shape=4by4", "shape"),
        ("/v1/models/model_tiny/reconstructions.png?n=0&path=tiny.csv", "n"),
        ("/v1/models/model_tiny/reconstructions.png?start=4&path=tiny.csv", "start"),
        ("/v1/models/model_tiny/reconstructions.png?dataset=mnist", "dataset"),
        ("/v1/models/model_tiny/reconstructions.png?dataset=fashion-mnist&split=dev", "split"),
        ("/v1/models/model_tiny/reconstructions.png?dataset=fashion-mnist&path=tiny.csv", "path"),
        ("/v1/models/model_tiny/reconstructions.png?path=../x.csv", "path"),
        ("/v1/models/model_tiny/reconstructions.png?path=/etc/passwd", "path"),
        ("/v1/models/model_tiny/reconstructions.png?split=test", "split"),
        ("/v1/models/model_tiny/reconstructions.png?path=tiny.csv&split=test", "split"),
    ])
    func badQueryValuesAre400NamingTheField(target: String, field: String) throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        try fixture.writeDataset("tiny.csv", TinyModel.csv)
        try fixture.save(TinyModel.make(), id: "model_tiny")
        let response = try fixture.get(target)
        #expect(response.status == 400)
        let error = try response.errorObject()
        #expect(error["code"] as? String == "invalid_field")
        #expect(error["field"] as? String == field)
    }

    @Test func widthMismatchAndOversizedPicturesAreRefused() throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        try fixture.writeDataset("wide.csv", "1,2,3\n4,5,6\n")
        try fixture.save(TinyModel.make(), id: "model_tiny")
        let mismatch = try fixture.get("/v1/models/model_tiny/reconstructions.png?path=wide.csv")
        #expect(mismatch.status == 400)
        #expect(try mismatch.errorObject()["message"] as? String
                    == "path: rows have 3 values but model model_tiny takes 16")
        #expect(try mismatch.errorObject()["field"] as? String == "path")
        // A file that is not there names the parameter too, not a job's `dataset.path`.
        let absent = try fixture.get("/v1/models/model_tiny/reconstructions.png?path=absent.csv")
        #expect(absent.status == 422)
        #expect(try absent.errorObject()["field"] as? String == "path")
        #expect(try absent.errorObject()["message"] as? String
                    == "path: no file \"absent.csv\" in the datasets directory (or it is not a regular file)")
        try fixture.writeDataset("ragged.csv", "1,2\n3\n")
        let unreadable = try fixture.get("/v1/models/model_tiny/reconstructions.png?path=ragged.csv")
        #expect(unreadable.status == 422)
        #expect(try unreadable.errorObject()["field"] as? String == "path")

        try fixture.save(Autoencoder.initialized(config: AutoencoderConfig(inputSize: 784, hiddenSize: 64), seed: 1),
                         id: "model_big")
        let huge = try fixture.get("/v1/models/model_big/features.png?scale=32&sort=index")
        #expect(huge.status == 400)
        #expect(try huge.errorObject()["field"] as? String == "scale")
    }

    @Test func unknownModelsAre404() throws {
        let fixture = try VisualsFixture()
        defer { fixture.remove() }
        for target in ["/v1/models/model_nope/features.png", "/v1/models/model_nope/reconstructions.png"] {
            let response = try fixture.get(target)
            #expect(response.status == 404)
            let error = try response.errorObject()
            #expect(error["code"] as? String == "model_not_found")
            #expect(error["message"] as? String == "no model with id \"model_nope\"")
        }
    }

    @Test func missingDatasetFilesAre422ButTheGridFallsBackToLatentOrder() throws {
        let fixture = try VisualsFixture(fashionMNIST: "/nonexistent")
        defer { fixture.remove() }
        try fixture.save(TinyModel.make(), id: "model_tiny", training: TinyModel.trainingSpec)
        let grid = try fixture.get("/v1/models/model_tiny/features.png")
        #expect(grid.status == 200)
        #expect(grid.headers["X-Feature-Order"] == "index")
        #expect(grid.headers["X-Dead-Latents"] == nil)
        let pictures = try fixture.get("/v1/models/model_tiny/reconstructions.png?dataset=fashion-mnist")
        #expect(pictures.status == 422)
        #expect(try pictures.errorObject()["code"] as? String == "dataset_not_found")
    }
}
