/// A table of `rows × width` samples held in memory, row-major.
///
/// Byte data (IDX `ubyte`, image pixels) stays as bytes and becomes floats in [0, 1]
/// only when a batch is gathered, so 60,000 MNIST images take 47 MB, not 188 MB.
package struct Dataset: Sendable {
    package enum Storage: Sendable {
        /// Unsigned bytes, scaled by 1/255 when gathered.
        case bytes([UInt8])
        /// Floats, copied as they are.
        case floats([Float])
    }

    package let rows: Int
    package let width: Int
    package let storage: Storage

    package init(rows: Int, width: Int, storage: Storage) {
        switch storage {
        case .bytes(let values):
            precondition(values.count == rows * width, "byte storage has \(values.count) values, not \(rows)×\(width)")
        case .floats(let values):
            precondition(values.count == rows * width, "float storage has \(values.count) values, not \(rows)×\(width)")
        }
        self.rows = rows
        self.width = width
        self.storage = storage
    }

    /// The first `count` rows (all of them when `count >= rows`).
    package func prefix(_ count: Int) -> Dataset {
        let kept = min(max(count, 0), rows)
        switch storage {
        case .bytes(let values):
            return Dataset(rows: kept, width: width, storage: .bytes(Array(values[0..<kept * width])))
        case .floats(let values):
            return Dataset(rows: kept, width: width, storage: .floats(Array(values[0..<kept * width])))
        }
    }

    /// Copies the rows named by `indices`, in order, into `out` as floats.
    ///
    /// `out` must hold `indices.count × width` floats. Bytes are scaled to [0, 1].
    /// Allocates nothing.
    package func gather(rows indices: UnsafeBufferPointer<Int>, into out: UnsafeMutablePointer<Float>) {
        let width = self.width
        switch storage {
        case .bytes(let values):
            values.withUnsafeBufferPointer { source in
                for (slot, row) in indices.enumerated() {
                    precondition(row >= 0 && row < rows, "row \(row) outside 0..<\(rows)")
                    let from = source.baseAddress! + row * width  // safe: count == rows × width > 0
                    let to = out + slot * width
                    for column in 0..<width {
                        to[column] = Float(from[column]) * (1 / 255)
                    }
                }
            }
        case .floats(let values):
            values.withUnsafeBufferPointer { source in
                for (slot, row) in indices.enumerated() {
                    precondition(row >= 0 && row < rows, "row \(row) outside 0..<\(rows)")
                    (out + slot * width).update(from: source.baseAddress! + row * width, count: width)  // safe: as above
                }
            }
        }
    }
}
