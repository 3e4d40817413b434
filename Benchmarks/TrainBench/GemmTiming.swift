import SAECore

// Timing of OpenBLAS sgemm, from outside the trainer.
//
// Legend: N = training rows, B = rows in a batch, D = inputSize, H = hiddenSize.
//
// A dense training step makes five products, each of 2·B·D·H floating-point operations
// (one multiply and one add per term). With W_enc stored transposed (H × D), as the trainer
// keeps it:
//   encode    X·W_encᵀᵀ        (B×D)·(D×H)
//   decode    h·W_dec          (B×H)·(H×D)
//   dW_dec    hᵀ·dOut          (H×B)·(B×D)
//   dh        dOut·W_decᵀ      (B×D)·(D×H)
//   dW_enc    dzᵀ·X            (H×B)·(B×D), giving dW_encᵀ
// so an epoch costs 10·N·D·H. No product with X is needed for ∂/∂X, which torch skips too.
// Top-k codes have only k non-zero latents per row; a sparsity-aware step needs the encode
// product whole but the other four only over the kept latents: 2·N·D·H + 8·N·D·k.
//
// The time spent outside the products is timed in the epochs themselves (`ProductClock`
// counts the wall time inside every dense and sparse product). Beside it, the five dense
// products are replayed alone, as a yardstick of what a dense epoch's products cost: the same
// calls (shapes, transposes, `beta`, through `BLAS.gemm`, so cut in the same two parts on the
// same two threads) in the same order as the trainer's dense path, on buffers of the same
// sizes, timed call by call for three epochs' worth of batches; each product's median call
// time, times the calls an epoch makes. The replay's buffers stay warm in cache between
// calls, which training's other passes do not allow, so it leans low. When the trainer skips
// the code's zeros (top-k, or a sparse ReLU code) an epoch can beat it.
// sgemm's speed does not depend on the values (no zero skipping; subnormals cannot arise from
// the small values used), so the buffers hold arbitrary data. The replay mirrors
// TrainingWorkspace's calls as of this writing: when those change, change
// `StepBuffers.timeStep` with them.

/// Floating-point operations of one epoch's five dense products: `10·N·D·H`.
func denseEpochFlops(rows: Int, inputSize: Int, hiddenSize: Int) -> Double {
    10 * Double(rows) * Double(inputSize) * Double(hiddenSize)
}

/// The least work a top-k epoch needs: the dense encode product plus four products over the
/// `k` kept latents, `2·N·D·H + 8·N·D·k`.
func sparseEpochFlops(rows: Int, inputSize: Int, hiddenSize: Int, topK: Int) -> Double {
    let perLatent = Double(rows) * Double(inputSize)
    return 2 * perLatent * Double(hiddenSize) + 8 * perLatent * Double(topK)
}

/// The sgemm rate this machine reaches on square products, in GFLOP/s.
struct SgemmRate {
    /// `(size, GFLOP/s)` for each square size tried, best of several runs.
    var bySize: [(size: Int, gflops: Double)]
    /// The best of them: the rate the benchmark calls the machine's.
    var best: Double { bySize.map(\.gflops).max() ?? 0 }

    /// Times `size³` products for a few sizes and keeps the best run of each.
    static func measure(sizes: [Int] = [512, 1024, 2048]) -> SgemmRate {
        var results: [(Int, Double)] = []
        for size in sizes {
            let count = size * size
            let a = UnsafeMutablePointer<Float>.allocate(capacity: count)
            let b = UnsafeMutablePointer<Float>.allocate(capacity: count)
            let c = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer {
                for buffer in [a, b, c] { buffer.deallocate() }
            }
            fill(a, count: count)
            fill(b, count: count)
            c.initialize(repeating: 0, count: count)

            // About a second of work per size at 100 GFLOP/s, and at least three runs.
            let flops = 2 * Double(size) * Double(size) * Double(size)
            let runs = max(3, Int(1e11 / flops))
            var fastest = Double.infinity
            for _ in 0..<runs {
                let seconds = timed {
                    BLAS.gemm(
                        transposeA: false, transposeB: false, m: size, n: size, k: size,
                        a: a, b: b, c: c)
                }
                fastest = min(fastest, seconds)
            }
            results.append((size, flops / fastest / 1e9))
        }
        return SgemmRate(bySize: results)
    }
}

/// The replayed products of one epoch, per product and in total.
struct EpochProductTiming {
    /// Product names in the order of ``seconds``.
    static let names = ["encode", "decode", "dW_dec", "dh", "dW_enc"]
    /// Seconds each of the five products takes over one epoch.
    var seconds: [Double]
    /// Seconds of all five over one epoch.
    var total: Double { seconds.reduce(0, +) }

    /// Replays an epoch's products `repeats` times and returns, per product, the median time
    /// of one call times the calls an epoch makes.
    ///
    /// `rows` samples are split into batches of `batchSize` with a smaller last batch, as the
    /// trainer splits them; the last batch's calls get their own median. The median shrugs
    /// off bursts of load from other processes, which a whole replay's total does not.
    static func measure(
        rows: Int, inputSize: Int, hiddenSize: Int, batchSize: Int, repeats: Int = 3
    ) -> EpochProductTiming {
        let buffers = StepBuffers(inputSize: inputSize, hiddenSize: hiddenSize, capacity: batchSize)
        let fullBatches = rows / batchSize
        let lastBatch = rows % batchSize
        var full = [[Double]](repeating: [], count: names.count)
        var last = [[Double]](repeating: [], count: names.count)
        for _ in 0..<repeats {
            for _ in 0..<fullBatches {
                for (product, seconds) in buffers.timeStep(rows: batchSize).enumerated() {
                    full[product].append(seconds)
                }
            }
            guard lastBatch > 0 else { continue }
            for (product, seconds) in buffers.timeStep(rows: lastBatch).enumerated() {
                last[product].append(seconds)
            }
        }
        let seconds = names.indices.map { product in
            median(full[product]) * Double(fullBatches) + median(last[product])
        }
        return EpochProductTiming(seconds: seconds)
    }
}

/// The median of `values`, or 0 when there are none.
func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Buffers shaped like the trainer's, for replaying a step's five products.
private final class StepBuffers {
    let inputSize: Int
    let hiddenSize: Int
    let capacity: Int
    // x, W_encᵀ, h, W_dec, logits, dOut, dz, dW_dec, dW_encᵀ, in that order.
    private let buffers: [UnsafeMutablePointer<Float>]

    init(inputSize d: Int, hiddenSize h: Int, capacity c: Int) {
        inputSize = d
        hiddenSize = h
        capacity = c
        let counts = [c * d, h * d, c * h, h * d, c * d, c * d, c * h, h * d, h * d]
        buffers = counts.map { count in
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            fill(buffer, count: count)
            return buffer
        }
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }

    /// Runs one batch's five products in the trainer's order; returns each call's seconds.
    func timeStep(rows b: Int) -> [Double] {
        precondition(b > 0 && b <= capacity, "batch of \(b) rows, capacity \(capacity)")
        let (d, h) = (inputSize, hiddenSize)
        let (x, wEncT, code, wDec, logits, dOut, dz, dWDec, dWEncT) = (
            buffers[0], buffers[1], buffers[2], buffers[3], buffers[4], buffers[5], buffers[6],
            buffers[7], buffers[8]
        )
        let encode = timed {
            BLAS.gemm(
                transposeA: false, transposeB: true, m: b, n: h, k: d, a: x, b: wEncT, beta: 1,
                c: code)
        }
        let decode = timed {
            BLAS.gemm(
                transposeA: false, transposeB: false, m: b, n: d, k: h, a: code, b: wDec,
                beta: 1, c: logits)
        }
        let dWDecSeconds = timed {
            BLAS.gemm(
                transposeA: true, transposeB: false, m: h, n: d, k: b, a: code, b: dOut, c: dWDec)
        }
        let dhSeconds = timed {
            BLAS.gemm(
                transposeA: false, transposeB: true, m: b, n: h, k: d, a: dOut, b: wDec, c: dz)
        }
        let dWEncSeconds = timed {
            BLAS.gemm(
                transposeA: true, transposeB: false, m: h, n: d, k: b, a: dz, b: x, c: dWEncT)
        }
        return [encode, decode, dWDecSeconds, dhSeconds, dWEncSeconds]
    }
}

/// Fills `count` floats with small values in [-0.05, 0.05), deterministically.
private func fill(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
    var generator = SeededGenerator(seed: 7)
    for i in 0..<count {
        buffer[i] = (generator.nextUnitFloat() - 0.5) * 0.1
    }
}

/// Wall-clock seconds that `body` takes.
func timed(_ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    let started = clock.now
    body()
    return (clock.now - started).seconds
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
