import Foundation
import SAECore
import Testing
@testable import SAEService

/// The PNG writer, checked by decoding its output with zlib in `DecodedPNG`.
struct VisualsPNGTests {
    @Test func smallImageRoundTripsWithValidChunksAndCRCs() throws {
        var image = RGBImage(width: 3, height: 2, background: .white)
        image[0, 0] = .black
        image[2, 0] = RGBImage.Color(red: 10, green: 20, blue: 30)
        image[1, 1] = .dead
        let png = try DecodedPNG.decode(PNGEncoder.encode(image))
        #expect(png.chunkTypes == ["IHDR", "IDAT", "IEND"])
        #expect((png.width, png.height, png.bitDepth, png.colorType) == (3, 2, 8, 2))
        #expect(png.pixels == image.pixels)
        #expect(png.rgb(2, 0) == [10, 20, 30])
        #expect(png.rgb(1, 1) == [220, 38, 38])
    }

    @Test func largeImageRoundTripsAndCompresses() throws {
        var image = RGBImage(width: 300, height: 200, background: .frame)
        for y in 0..<200 {
            for x in 0..<300 where (x / 10 + y / 10) % 2 == 0 {
                image[x, y] = .gray(UInt8((x + y) % 256))
            }
        }
        let bytes = PNGEncoder.encode(image)
        let png = try DecodedPNG.decode(bytes)
        #expect(png.pixels == image.pixels)
        #expect(bytes.count < image.pixels.count / 4, "a patterned image should deflate well")
    }

    @Test func tileScalesEachValueToItsOwnRange() {
        var image = RGBImage(width: 4, height: 2, background: .white)
        let shape = TileShape(height: 1, width: 4)
        image.drawTile([-1, 0, 1, 3], shape: shape, scale: 1, x: 0, y: 0, low: -1, high: 3)
        image.drawTile([2, 2, 2, .nan], shape: shape, scale: 1, x: 0, y: 1, low: 2, high: 2)
        #expect((0..<4).map { image[$0, 0].red } == [0, 64, 128, 255])
        #expect((0..<4).map { image[$0, 1].red } == [128, 128, 128, 128])
    }

    @Test func tileShapesParseAndSquaresAreFound() {
        #expect(TileShape.parse("28x28") == TileShape(height: 28, width: 28))
        #expect(TileShape.parse("8X16") == TileShape(height: 8, width: 16))
        for bad in ["28", "x28", "28x", "0x4", "4x-1", "axb", "4x4x4", "5000x1"] {
            #expect(TileShape.parse(bad) == nil, "\(bad)")
        }
        #expect(TileShape.square(of: 784) == TileShape(height: 28, width: 28))
        #expect(TileShape.square(of: 100)?.width == 10)
        #expect(TileShape.square(of: 12) == nil)
        #expect(TileShape.square(of: 0) == nil)
    }

    @Test func firingIsMeasuredOnEveryRowOfASmallDataset() {
        let cells = TinyModel.csv.split(separator: "\n").flatMap { $0.split(separator: ",") }
        let rows = cells.compactMap { Float($0) }
        #expect(rows.count == 64)
        let dataset = Dataset(rows: 4, width: 16, storage: .floats(rows))
        let firing = LatentFiring.measure(TinyModel.make(), on: dataset)
        #expect(firing.sampleRows == 4)
        #expect(firing.frequencies == [0.25, 0.75, 0])
        #expect(firing.order == [1, 0, 2])
        #expect(firing.dead == [2])
    }
}
