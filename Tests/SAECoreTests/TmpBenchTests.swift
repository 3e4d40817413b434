import Foundation
import Testing
import SAECore

struct TmpBenchTests {
    @Test func benchFashionMNIST() throws {
        let env = ProcessInfo.processInfo.environment
        guard let path = env["SAE_BENCH"] else { return }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let rows = 60_000
        let data = Dataset(rows: rows, width: 784, storage: .bytes(Array(bytes[16...])))
        let threads = Int(env["SAE_THREADS"] ?? "2")!
        BLAS.threadCount = threads
        Adam.tmpSplit = env["SAE_SPLIT"] != nil
        for batch in [64, 256] {
            let config = AutoencoderConfig(inputSize: 784, hiddenSize: 128)
            let model = Autoencoder.initialized(config: config, seed: 1)
            var options = TrainingOptions(batchSize: batch)
            options.sparsity = SparsityOptions(kind: SparsityKind(rawValue: env["SAE_KIND"] ?? "l1")!)
            let trainer = try Trainer(model: model, options: options, training: data, validation: nil)
            var best = 1e9
            for _ in 0..<4 {
                let r = try trainer.trainEpoch()!
                best = min(best, r.seconds)
            }
            print("threads \(threads) split \(Adam.tmpSplit) batch \(batch): min \(best) s")
        }
    }
}

struct TmpGemmBench {
    @Test func gemmSizes() {
        guard ProcessInfo.processInfo.environment["SAE_GEMM"] != nil else { return }
        for threads in [1, 2] {
            BLAS.threadCount = threads
            for b in [64, 256] {
                let d = 784, h = 128
                let x = [Float](repeating: 0.5, count: b * d)
                let w = [Float](repeating: 0.01, count: d * h)
                var out = [Float](repeating: 0, count: b * h)
                var dw = [Float](repeating: 0, count: d * h)
                let reps = 200
                let clock = ContinuousClock()
                let t0 = clock.now
                for _ in 0..<reps {
                    x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in out.withUnsafeMutableBufferPointer { op in
                        BLAS.gemm(transposeA: false, transposeB: false, m: b, n: h, k: d, a: xp.baseAddress!, b: wp.baseAddress!, c: op.baseAddress!)
                    }}}
                }
                let t1 = clock.now
                for _ in 0..<reps {
                    x.withUnsafeBufferPointer { xp in out.withUnsafeBufferPointer { op in dw.withUnsafeMutableBufferPointer { dp in
                        BLAS.gemm(transposeA: true, transposeB: false, m: d, n: h, k: b, a: xp.baseAddress!, b: op.baseAddress!, c: dp.baseAddress!)
                    }}}
                }
                let t2 = clock.now
                for _ in 0..<reps {
                    x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in out.withUnsafeMutableBufferPointer { op in
                        BLAS.gemm(transposeA: false, transposeB: true, m: b, n: h, k: d, a: xp.baseAddress!, b: wp.baseAddress!, c: op.baseAddress!)
                    }}}
                }
                let t3 = clock.now
                print("threads \(threads) B \(b): nn \((t1 - t0) / reps), tn \((t2 - t1) / reps), nt \((t3 - t2) / reps)")
            }
        }
    }
}
