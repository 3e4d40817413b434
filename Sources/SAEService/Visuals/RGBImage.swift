/// An 8-bit RGB picture in memory, drawn into by the feature grid and the reconstruction
/// strip and written out by ``PNGEncoder``.
///
/// Pixels are row-major, three bytes each (red, green, blue), top row first:
/// the pixel at column `x`, row `y` starts at byte `3 · (y · width + x)`.
struct RGBImage: Sendable, Equatable {
    /// A colour as its three 8-bit channels.
    struct Color: Sendable, Equatable {
        var red: UInt8
        var green: UInt8
        var blue: UInt8

        static let white = Color(red: 255, green: 255, blue: 255)
        static let black = Color(red: 0, green: 0, blue: 0)
        /// The frame around a live latent's tile and the gaps between tiles.
        static let frame = Color(red: 226, green: 230, blue: 236)
        /// The frame that marks a dead latent.
        static let dead = Color(red: 220, green: 38, blue: 38)

        /// A shade of grey, 0 black to 255 white.
        static func gray(_ level: UInt8) -> Color {
            Color(red: level, green: level, blue: level)
        }
    }

    let width: Int
    let height: Int
    private(set) var pixels: [UInt8]

    /// A `width × height` picture filled with `background`. Both sides must be positive.
    init(width: Int, height: Int, background: Color) {
        precondition(width > 0 && height > 0, "an image needs positive sides, not \(width)×\(height)")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, with: background)
    }

    /// The colour at column `x`, row `y`.
    subscript(x: Int, y: Int) -> Color {
        get {
            let offset = 3 * (y * width + x)
            return Color(red: pixels[offset], green: pixels[offset + 1], blue: pixels[offset + 2])
        }
        set {
            let offset = 3 * (y * width + x)
            pixels[offset] = newValue.red
            pixels[offset + 1] = newValue.green
            pixels[offset + 2] = newValue.blue
        }
    }

    /// Paints a rectangle, clipped to the picture.
    mutating func fill(x: Int, y: Int, width: Int, height: Int, with color: Color) {
        let columns = max(x, 0)..<min(x + width, self.width)
        let rows = max(y, 0)..<min(y + height, self.height)
        for row in rows {
            for column in columns { self[column, row] = color }
        }
    }

    /// Paints a frame `thickness` pixels wide just inside the rectangle's edge.
    mutating func stroke(x: Int, y: Int, width: Int, height: Int, thickness: Int, with color: Color) {
        fill(x: x, y: y, width: width, height: thickness, with: color)
        fill(x: x, y: y + height - thickness, width: width, height: thickness, with: color)
        fill(x: x, y: y, width: thickness, height: height, with: color)
        fill(x: x + width - thickness, y: y, width: thickness, height: height, with: color)
    }

    /// Draws `values` (a `shape.height × shape.width` row-major tile) as grey squares of
    /// `scale × scale` pixels with its top-left corner at (`x`, `y`).
    ///
    /// `low` maps to black and `high` to white; values outside are clamped, and a tile whose
    /// range is empty (or not finite) is drawn mid-grey.
    mutating func drawTile(
        _ values: ArraySlice<Float>, shape: TileShape, scale: Int, x: Int, y: Int,
        low: Float, high: Float
    ) {
        let span = high - low
        let isFlat = !(span > 0) || !span.isFinite
        var index = values.startIndex
        for row in 0..<shape.height {
            for column in 0..<shape.width {
                let value = values[index]
                index += 1
                let level: UInt8
                if isFlat || !value.isFinite {
                    level = 128
                } else {
                    let unit = min(max((value - low) / span, 0), 1)
                    level = UInt8((unit * 255).rounded())
                }
                fill(x: x + column * scale, y: y + row * scale, width: scale, height: scale,
                     with: .gray(level))
            }
        }
    }
}

/// The height and width of the picture a row of inputs forms, such as 28 × 28.
struct TileShape: Sendable, Equatable, CustomStringConvertible {
    var height: Int
    var width: Int

    var count: Int { height * width }
    var description: String { "\(height)x\(width)" }

    /// The square shape of an input `count` values wide, or nil when `count` is not a square.
    static func square(of count: Int) -> TileShape? {
        guard count > 0 else { return nil }
        let side = Int(Double(count).squareRoot().rounded())
        return side * side == count ? TileShape(height: side, width: side) : nil
    }

    /// Parses `HxW` (for example `28x28`). Nil unless both sides are whole numbers from 1 to 4096.
    static func parse(_ text: String) -> TileShape? {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let height = Int(parts[0]), let width = Int(parts[1]),
              (1...4096).contains(height), (1...4096).contains(width)
        else { return nil }
        return TileShape(height: height, width: width)
    }
}
