import SAECore

/// Lays out one tile per latent, each the latent's weights drawn as a small greyscale picture.
///
/// A tile is a decoder row `W_dec[j, :]` (what latent `j` adds to the reconstruction) or an
/// encoder column `W_enc[:, j]` (the input pattern latent `j` responds to), reshaped to
/// `shape` and scaled to its own minimum (black) and maximum (white).
///
/// Layout, in pixels: tiles of `shape.width · scale × shape.height · scale`, each inside a
/// frame `frame` wide (light grey, or red for a dead latent), placed `columns` to a row with
/// `gap` pixels of white around and between the framed tiles. Tile `k` of the display order
/// sits in grid row `k / columns`, column `k % columns`.
struct FeatureGrid: Sendable {
    /// Which weights a tile shows.
    enum Weights: String, Sendable, CaseIterable {
        case decoder, encoder
    }

    /// Pixels of frame around each tile.
    static let frame = 2
    /// Pixels of white between framed tiles and around the grid.
    static let gap = 2
    /// The largest picture the grid will draw, in pixels (width × height).
    static let maxPixels = 16 << 20

    var shape: TileShape
    var columns: Int
    var scale: Int

    /// The side of one framed tile, in pixels.
    var cellWidth: Int { shape.width * scale + 2 * Self.frame }
    var cellHeight: Int { shape.height * scale + 2 * Self.frame }

    /// The picture's size for `tiles` tiles.
    func size(tiles: Int) -> (width: Int, height: Int) {
        let columns = max(min(self.columns, tiles), 1)
        let rows = max((tiles + columns - 1) / columns, 1)
        return (Self.gap + columns * (cellWidth + Self.gap), Self.gap + rows * (cellHeight + Self.gap))
    }

    /// The top-left pixel of the tile (inside its frame) at display position `position`.
    func origin(ofPosition position: Int) -> (x: Int, y: Int) {
        let column = position % columns
        let row = position / columns
        return (Self.gap + column * (cellWidth + Self.gap) + Self.frame,
                Self.gap + row * (cellHeight + Self.gap) + Self.frame)
    }

    /// Draws the latents of `model` in `order` (latent indices, each at most once), marking
    /// those in `dead`. `shape.count` must equal the model's input size.
    func render(_ model: Autoencoder, weights: Weights, order: [Int], dead: Set<Int>) -> RGBImage {
        precondition(shape.count == model.config.inputSize, "shape \(shape) does not fit \(model.config.inputSize)")
        let (width, height) = size(tiles: order.count)
        var image = RGBImage(width: width, height: height, background: .white)
        for (position, latent) in order.enumerated() {
            let values = Self.tile(of: model, latent: latent, weights: weights)
            let (x, y) = origin(ofPosition: position)
            let color: RGBImage.Color = dead.contains(latent) ? .dead : .frame
            image.stroke(x: x - Self.frame, y: y - Self.frame, width: cellWidth, height: cellHeight,
                         thickness: Self.frame, with: color)
            let (low, high) = Self.range(of: values)
            image.drawTile(values[...], shape: shape, scale: scale, x: x, y: y, low: low, high: high)
        }
        return image
    }

    /// The `inputSize` weights of one latent: its decoder row or its encoder column.
    static func tile(of model: Autoencoder, latent: Int, weights: Weights) -> [Float] {
        let inputSize = model.config.inputSize
        let hiddenSize = model.config.hiddenSize
        switch weights {
        case .decoder:
            return Array(model.wDec[latent * inputSize..<(latent + 1) * inputSize])
        case .encoder:
            return (0..<inputSize).map { model.wEnc[$0 * hiddenSize + latent] }
        }
    }

    /// The smallest and largest finite values, or (0, 0) when there are none.
    static func range(of values: [Float]) -> (low: Float, high: Float) {
        var low = Float.infinity
        var high = -Float.infinity
        for value in values where value.isFinite {
            low = min(low, value)
            high = max(high, value)
        }
        return low <= high ? (low, high) : (0, 0)
    }
}
