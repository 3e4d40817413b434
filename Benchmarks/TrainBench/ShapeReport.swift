import Foundation

extension ShapeResult {
    /// Prints the figures for people, then one `result` line of tab-separated `key=value`
    /// fields for scripts/bench-train.sh.
    func printReport() {
        let perEpoch = secondsPerEpoch
        let timedEpochs =
            epochSeconds.count > 1 ? "median of epochs 2-\(epochSeconds.count)" : "epoch 1 alone"
        line("seconds/epoch: %.3f (\(timedEpochs))", perEpoch)
        line("samples/s: %.0f", Double(rows) / perEpoch)
        print(
            "  peak RSS: \(mebibytes(peakResidentKiB)) (after loading the data: "
                + "\(mebibytes(residentAfterLoadKiB)))")
        line(
            "FLOPs per epoch: 10·N·D·H = 10·%d·%d·%d = %.1f GFLOP (five dense products)",
            rows, inputSize, shape.hiddenSize, flops / 1e9)
        if let k = shape.topK {
            let least = sparseEpochFlops(
                rows: rows, inputSize: inputSize, hiddenSize: shape.hiddenSize, topK: k)
            line("  (a k-sparse step needs only 2·N·D·H + 8·N·D·k = %.1f GFLOP)", least / 1e9)
        }

        var fields: [(String, String)] = [
            ("shape", shape.name), ("epochs", String(epochSeconds.count)),
            ("threads", String(threads)), ("seconds_per_epoch", fixed(perEpoch)),
            ("samples_per_second", fixed(Double(rows) / perEpoch, digits: 0)),
            ("peak_rss_kib", peakResidentKiB.map(String.init) ?? "nan"),
            ("epoch_gflops", fixed(achievedGflops, digits: 1)),
            ("loss", fixed(lastRecord.loss, digits: 5)),
            ("l0", fixed(lastRecord.l0, digits: 1)),
            ("outside_fraction", fixed(outsideFraction)),
        ]
        line(
            "time outside the products (dense and sparse, timed in the epochs): %.1f%% of the "
                + "epoch (target < 20%%)", 100 * outsideFraction)
        if let sgemm, let products {
            fields += printGemmFigures(sgemm: sgemm, products: products)
        }
        print((["result"] + fields.map { "\($0)=\($1)" }).joined(separator: "\t"))
    }

    /// Prints the sgemm share and the time outside the products; returns their result fields.
    private func printGemmFigures(
        sgemm: SgemmRate, products: EpochProductTiming
    ) -> [(String, String)] {
        let rates = sgemm.bySize.map { "\($0.size)³ " + fixed($0.gflops, digits: 1) }
        line(
            "sgemm rate of this machine: %.1f GFLOP/s (best of \(rates.joined(separator: ", ")); "
                + "%d threads)", sgemm.best, threads)
        line(
            "reached: %.1f GFLOP/s = %.1f%% of the sgemm rate",
            achievedGflops, 100 * achievedGflops / sgemm.best)

        let parts = zip(EpochProductTiming.names, products.seconds)
            .map { "\($0) " + fixed($1, digits: 3) }.joined(separator: ", ")
        line(
            "dense products alone (replayed, median call × calls): %.3f s = %.1f GFLOP/s "
                + "(\(parts))",
            products.total, flops / products.total / 1e9)
        var fields = [
            ("sgemm_gflops", fixed(sgemm.best, digits: 1)),
            ("gemm_seconds", fixed(products.total)),
        ]
        // The trainer skips the code's zeros when it has few enough (top-k, or a sparse ReLU
        // code), so the dense replay is a yardstick, not a part of the epoch.
        let ratio = secondsPerEpoch / products.total
        line("epoch / dense products replayed: %.2f (below 1: the sparse products beat them)", ratio)
        fields.append(("dense_ratio", fixed(ratio)))
        return fields
    }
}

/// Prints an indented report line built with `String(format:)`.
private func line(_ format: String, _ arguments: any CVarArg...) {
    print("  " + String(format: format, arguments: arguments))
}

private func fixed(_ value: Double, digits: Int = 4) -> String {
    String(format: "%.\(digits)f", value)
}
