/// Draws inputs above their reconstructions, so a reader compares each pair at a glance.
///
/// Samples go `columns` to a band. Each band is a row of originals with the row of their
/// reconstructions right under it, `gap` pixels apart; bands are `bandGap` pixels apart and
/// the picture has a `gap`-pixel white margin. Sample `k` sits in band `k / columns`,
/// column `k % columns`.
///
/// Grey levels: when every original lies in [0, 1] (pixel bytes divided by 255), 0 is black
/// and 1 white for originals and reconstructions alike, so brightness means the same in
/// both rows. Otherwise each pair is scaled to its original's own minimum and maximum.
struct ReconstructionStrip: Sendable {
    /// Pixels between tiles and around the picture.
    static let gap = 2
    /// Pixels between one band and the next.
    static let bandGap = 10

    var shape: TileShape
    var columns: Int
    var scale: Int

    private var tileWidth: Int { shape.width * scale }
    private var tileHeight: Int { shape.height * scale }
    private var bandHeight: Int { 2 * tileHeight + Self.gap }

    /// The picture's size for `count` samples.
    func size(count: Int) -> (width: Int, height: Int) {
        let columns = max(min(self.columns, count), 1)
        let bands = max((count + columns - 1) / columns, 1)
        let width = 2 * Self.gap + columns * tileWidth + (columns - 1) * Self.gap
        let height = 2 * Self.gap + bands * bandHeight + (bands - 1) * Self.bandGap
        return (width, height)
    }

    /// The top-left pixel of sample `index`'s original; its reconstruction starts
    /// `shape.height · scale + gap` pixels lower.
    func origin(ofSample index: Int) -> (x: Int, y: Int) {
        let column = index % columns
        let band = index / columns
        return (Self.gap + column * (tileWidth + Self.gap), Self.gap + band * (bandHeight + Self.bandGap))
    }

    /// Draws `count` samples from two row-major `count × shape.count` buffers.
    func render(originals: [Float], reconstructions: [Float], count: Int) -> RGBImage {
        precondition(originals.count == count * shape.count && reconstructions.count == originals.count,
                     "expected \(count) rows of \(shape.count) values")
        let (width, height) = size(count: count)
        var image = RGBImage(width: width, height: height, background: .white)
        let isUnitRange = originals.allSatisfy { $0 >= 0 && $0 <= 1 }
        for sample in 0..<count {
            let rows = sample * shape.count..<(sample + 1) * shape.count
            let (low, high) = isUnitRange ? (0, 1) : FeatureGrid.range(of: Array(originals[rows]))
            let (x, y) = origin(ofSample: sample)
            image.drawTile(originals[rows], shape: shape, scale: scale, x: x, y: y, low: low, high: high)
            image.drawTile(reconstructions[rows], shape: shape, scale: scale, x: x,
                           y: y + tileHeight + Self.gap, low: low, high: high)
        }
        return image
    }
}
