import Foundation
import SAECore

/// What one shape's run measured.
struct ShapeResult {
    var shape: BenchShape
    var inputSize: Int
    var rows: Int
    var threads: Int
    /// Wall seconds of each epoch, first (warm-up) included.
    var epochSeconds: [Double]
    /// Wall seconds each epoch spent inside matrix products, dense or sparse (``ProductClock``).
    var productSeconds: [Double]
    /// The last epoch's record, for a sanity check of the losses against torch.
    var lastRecord: EpochRecord
    var residentAfterLoadKiB: Int?
    /// `VmHWM` right after the last epoch, before any GEMM timing allocated anything.
    var peakResidentKiB: Int?
    /// The machine's sgemm rate and the replayed products; nil with `--train-only`.
    var sgemm: SgemmRate?
    var products: EpochProductTiming?

    /// The median over the epochs after the first (the only epoch when there is one).
    var secondsPerEpoch: Double {
        median(epochSeconds.count > 1 ? Array(epochSeconds.dropFirst()) : epochSeconds)
    }

    /// The share of an epoch spent outside the matrix products, as measured in the epochs
    /// themselves: the median over the epochs after the first, like ``secondsPerEpoch``.
    var outsideFraction: Double {
        let shares = zip(epochSeconds, productSeconds).map { 1 - $1 / $0 }
        return median(shares.count > 1 ? Array(shares.dropFirst()) : shares)
    }

    var flops: Double {
        denseEpochFlops(rows: rows, inputSize: inputSize, hiddenSize: shape.hiddenSize)
    }
    /// GFLOP/s of the products over the whole epoch.
    var achievedGflops: Double { flops / secondsPerEpoch / 1e9 }
}

/// Trains one shape for the requested epochs and measures it.
///
/// Order matters for the memory figure: the data is loaded, the epochs run, peak RSS is read,
/// and only then are the sgemm rate and the replay measured, since their buffers would
/// otherwise raise the peak.
func runShape(_ shape: BenchShape, arguments: BenchArguments) throws -> ShapeResult {
    if let threads = arguments.threads { BLAS.threadCount = threads }
    let data = try IDX.load(contentsOf: URL(fileURLWithPath: arguments.dataPath))
    let residentAfterLoad = ProcessMemory.residentKiB

    let config = AutoencoderConfig(
        inputSize: data.width, hiddenSize: shape.hiddenSize, activation: .relu,
        decoderActivation: .relu)
    let model = Autoencoder.initialized(config: config, seed: arguments.seed)
    let options = shape.options(epochs: arguments.epochs, seed: arguments.seed)
    let trainer = try Trainer(model: model, options: options, training: data, validation: nil)

    var epochSeconds: [Double] = []
    var productSeconds: [Double] = []
    var lastRecord: EpochRecord?
    for epoch in 1...arguments.epochs {
        var record: EpochRecord?
        let cpuBefore = ProcessMemory.cpuSeconds
        ProductClock.start()
        let seconds: Double
        do {
            seconds = try timedThrowing { record = try trainer.trainEpoch() }
        } catch {
            _ = ProductClock.stop()
            throw error
        }
        productSeconds.append(ProductClock.stop())
        let cpuSeconds = ProcessMemory.cpuSeconds - cpuBefore
        guard let record else { throw BenchArgumentError(message: "epoch \(epoch) stopped") }
        epochSeconds.append(seconds)
        lastRecord = record
        printEpoch(record, seconds: seconds, cpuSeconds: cpuSeconds, productSeconds: productSeconds[epoch - 1])
    }
    let peak = ProcessMemory.peakResidentKiB

    let sgemm = arguments.isTrainingOnly ? nil : SgemmRate.measure()
    let products =
        arguments.isTrainingOnly
        ? nil
        : EpochProductTiming.measure(
            rows: data.rows, inputSize: data.width, hiddenSize: shape.hiddenSize,
            batchSize: shape.batchSize)
    return ShapeResult(
        shape: shape, inputSize: data.width, rows: data.rows, threads: BLAS.threadCount,
        epochSeconds: epochSeconds, productSeconds: productSeconds, lastRecord: lastRecord!,  // safe: epochs ≥ 1 ran
        residentAfterLoadKiB: residentAfterLoad, peakResidentKiB: peak, sgemm: sgemm,
        products: products)
}

private func timedThrowing(_ body: () throws -> Void) throws -> Double {
    let clock = ContinuousClock()
    let started = clock.now
    try body()
    return (clock.now - started).seconds
}

/// Prints an epoch's figures; the CPU seconds of all threads beside the wall time show how
/// much of it went to waiting (below) or to a second core (above).
private func printEpoch(
    _ record: EpochRecord, seconds: Double, cpuSeconds: Double, productSeconds: Double
) {
    print(
        String(
            format:
                "  epoch %d: %.3f s (CPU %.3f s, products %.3f s), loss %.5f (reconstruction "
                + "%.5f), L0 %.1f, dead %d",
            record.epoch, seconds, cpuSeconds, productSeconds, record.loss,
            record.reconstruction, record.l0, record.deadCount))
}
