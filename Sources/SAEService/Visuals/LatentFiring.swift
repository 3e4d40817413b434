import Foundation
import SAECore
import Synchronization

/// How often each latent of a model fires (`h > 0`, as the trainer counts it) on a sample of
/// rows, which orders the feature grid and tells which latents are dead.
struct LatentFiring: Sendable, Equatable {
    /// Per latent, the share of sampled rows on which it fired, 0...1.
    var frequencies: [Double]
    /// How many rows were encoded.
    var sampleRows: Int

    /// The most rows encoded to measure a model; enough to find latents that fire on 0.1 %.
    static let maxSampleRows = 4096

    /// Latent indices, most frequent first; ties keep index order.
    var order: [Int] {
        frequencies.indices.sorted { (frequencies[$0], -$0) > (frequencies[$1], -$1) }
    }

    /// Latents that never fired on the sample.
    var dead: Set<Int> {
        Set(frequencies.indices.filter { frequencies[$0] == 0 })
    }

    /// Encodes up to ``maxSampleRows`` rows of `dataset`, evenly spread over it, in blocks of
    /// 512, and counts each latent's firings. The dataset's width must be the model's input size;
    /// rows are fed as ``Dataset/modelInputs(rows:normalization:)`` makes them.
    static func measure(
        _ model: Autoencoder, on dataset: Dataset, normalization: Normalization = .unit
    ) -> LatentFiring {
        let hiddenSize = model.config.hiddenSize
        let count = min(dataset.rows, maxSampleRows)
        guard count > 0 else {
            return LatentFiring(frequencies: Array(repeating: 0, count: hiddenSize), sampleRows: 0)
        }
        let step = Double(dataset.rows) / Double(count)
        let indices = (0..<count).map { Int(Double($0) * step) }

        var fired = [Int](repeating: 0, count: hiddenSize)
        for start in stride(from: 0, to: count, by: 512) {
            let block = Array(indices[start..<min(start + 512, count)])
            let inputs = dataset.modelInputs(rows: block, normalization: normalization)
            let codes = model.encode(inputs, rows: block.count)
            for row in 0..<block.count {
                for latent in 0..<hiddenSize where codes[row * hiddenSize + latent] > 0 {
                    fired[latent] += 1
                }
            }
        }
        return LatentFiring(frequencies: fired.map { Double($0) / Double(count) }, sampleRows: count)
    }
}

/// Firing measurements by model id. Saved models never change, so a measurement stays valid
/// for the life of the daemon. Guarded by its own mutex; measuring happens outside it.
final class LatentFiringCache: Sendable {
    private let entries = Mutex<[String: LatentFiring]>([:])

    /// The cached measurement of model `id`, or the result of `measure`, which is then kept.
    /// A nil result (no data to measure on) is not kept, so a later request may try again.
    func firing(forModel id: String, measure: () -> LatentFiring?) -> LatentFiring? {
        if let cached = entries.withLock({ $0[id] }) { return cached }
        guard let measured = measure() else { return nil }
        entries.withLock { $0[id] = measured }
        return measured
    }
}

extension Dataset {
    /// The rows at `indices` as a model normalised by `normalization` takes them: standardised
    /// exactly as training gathered them for `standardize`, else as ``floats(rows:)`` gives them
    /// (the scale the API's rows use for `unit` and `none` models).
    func modelInputs(rows indices: [Int], normalization: Normalization) -> [Float] {
        guard normalization.kind == .standardize, normalization.fits(width: width) else {
            return floats(rows: indices)
        }
        var values = [Float](repeating: 0, count: indices.count * width)
        guard !indices.isEmpty, width > 0 else { return values }
        indices.withUnsafeBufferPointer { indices in
            values.withUnsafeMutableBufferPointer { out in
                // safe: the buffer holds indices.count × width > 0 floats
                gather(rows: indices, into: out.baseAddress!, normalization: normalization)
            }
        }
        return values
    }

    /// The rows at `indices`, in order, as `indices.count × width` floats (bytes become [0, 1]).
    /// Every index must be in `0..<rows`.
    func floats(rows indices: [Int]) -> [Float] {
        var values = [Float](repeating: 0, count: indices.count * width)
        guard !indices.isEmpty, width > 0 else { return values }
        indices.withUnsafeBufferPointer { indices in
            values.withUnsafeMutableBufferPointer { out in
                // safe: the buffer holds indices.count × width > 0 floats
                gather(rows: indices, into: out.baseAddress!)
            }
        }
        return values
    }
}
