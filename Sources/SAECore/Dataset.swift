#if canImport(Glibc)
import Glibc
#endif

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

// MARK: - Memory placement

extension Dataset {
    /// Asks the kernel to back the table's storage with 2 MiB pages, where it can.
    ///
    /// Training reads the rows of each batch at random places in the table: with 4 KiB pages
    /// nearly every row costs a TLB miss and a page walk, which took most of the gather's time
    /// on a 47 MB image set. A hint only: nothing changes when the kernel declines (no
    /// transparent huge pages, or not Linux), and the values stay where they are.
    package func adviseHugePages() {
        #if os(Linux)
        switch storage {
        case .bytes(let values):
            values.withUnsafeBytes { Self.adviseHugePages($0) }
        case .floats(let values):
            values.withUnsafeBytes { Self.adviseHugePages($0) }
        }
        #endif
    }

    #if os(Linux)
    /// `madvise(MADV_COLLAPSE)` over the whole 2 MiB pages inside `bytes`.
    private static func adviseHugePages(_ bytes: UnsafeRawBufferPointer) {
        let page = 2 << 20
        guard let base = bytes.baseAddress, bytes.count >= 2 * page else { return }
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + bytes.count) / page * page
        guard end > start, let address = UnsafeMutableRawPointer(bitPattern: start) else { return }
        // MADV_COLLAPSE (Linux 6.1): rebuild the range from huge pages now, synchronously.
        let collapse: Int32 = 25
        _ = madvise(address, end - start, collapse)
    }
    #endif
}

// MARK: - Normalised gathering

extension Dataset {
    /// Copies the rows named by `indices`, in order, into `out`, normalised.
    ///
    /// `out` must hold `indices.count × width` floats; `normalization` must fit `width`.
    /// Computes exactly what ``Normalization/apply(to:)`` computes on the raw values.
    /// Allocates nothing.
    package func gather(
        rows indices: UnsafeBufferPointer<Int>,
        into out: UnsafeMutablePointer<Float>,
        normalization: Normalization
    ) {
        precondition(normalization.fits(width: width), "normalisation does not fit \(width)")
        let width = self.width
        normalization.mean.withUnsafeBufferPointer { mean in
            normalization.standardDeviation.withUnsafeBufferPointer { deviation in
                let transform = RowTransform(
                    kind: normalization.kind, mean: mean.baseAddress,
                    deviation: deviation.baseAddress)
                switch storage {
                case .bytes(let values):
                    values.withUnsafeBufferPointer { source in
                        for (slot, row) in indices.enumerated() {
                            precondition(row >= 0 && row < rows, "row \(row) outside 0..<\(rows)")
                            // safe: count == rows × width > 0
                            let from = source.baseAddress! + row * width
                            transform.apply(from, to: out + slot * width, width: width)
                        }
                    }
                case .floats(let values):
                    values.withUnsafeBufferPointer { source in
                        for (slot, row) in indices.enumerated() {
                            precondition(row >= 0 && row < rows, "row \(row) outside 0..<\(rows)")
                            // safe: as above
                            let from = source.baseAddress! + row * width
                            transform.apply(from, to: out + slot * width, width: width)
                        }
                    }
                }
            }
        }
    }

    /// Calls `body(column, value)` for every raw value, row by row, as `Double`.
    func forEachRawValue(_ body: (Int, Double) -> Void) {
        switch storage {
        case .bytes(let values):
            for (i, value) in values.enumerated() { body(i % width, Double(value)) }
        case .floats(let values):
            for (i, value) in values.enumerated() { body(i % width, Double(value)) }
        }
    }
}

/// One normalisation's per-row kernel, over pointers that stay valid during a gather.
private struct RowTransform {
    let kind: NormalizationKind
    let mean: UnsafePointer<Float>?
    let deviation: UnsafePointer<Float>?

    @inline(__always)
    func apply(_ from: UnsafePointer<UInt8>, to: UnsafeMutablePointer<Float>, width: Int) {
        switch kind {
        case .none:
            for j in 0..<width { to[j] = Float(from[j]) }
        case .unit:
            for j in 0..<width { to[j] = Float(from[j]) * (1 / 255) }
        case .standardize:
            // safe: a fitted standardize normalisation holds `width` values in each
            let (mean, deviation) = (mean!, deviation!)
            for j in 0..<width { to[j] = (Float(from[j]) - mean[j]) / deviation[j] }
        }
    }

    @inline(__always)
    func apply(_ from: UnsafePointer<Float>, to: UnsafeMutablePointer<Float>, width: Int) {
        switch kind {
        case .none:
            to.update(from: from, count: width)
        case .unit:
            for j in 0..<width { to[j] = from[j] * (1 / 255) }
        case .standardize:
            // safe: a fitted standardize normalisation holds `width` values in each
            let (mean, deviation) = (mean!, deviation!)
            for j in 0..<width { to[j] = (from[j] - mean[j]) / deviation[j] }
        }
    }
}
