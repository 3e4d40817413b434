import SAECore

/// One benchmarked configuration: the code width, the batch size and the sparsity penalty.
///
/// The input width is not part of it: it comes from the data (784 for Fashion-MNIST).
struct BenchShape: Sendable {
    /// The name given to `--shape`, such as `784x128-b64` or `784x1024-b256-topk32`.
    var name: String
    /// Latents, `d_sae`.
    var hiddenSize: Int
    /// Rows per optimiser step; the last batch of an epoch is smaller.
    var batchSize: Int
    /// Latents kept per sample for top-k, or nil for the L1 recipe.
    var topK: Int?

    /// The shapes issue 3 asks for, in the order the script runs them.
    static let all: [BenchShape] = [
        BenchShape(name: "784x128-b64", hiddenSize: 128, batchSize: 64),
        BenchShape(name: "784x128-b256", hiddenSize: 128, batchSize: 256),
        BenchShape(name: "784x1024-b256", hiddenSize: 1024, batchSize: 256),
        BenchShape(name: "784x1024-b256-topk8", hiddenSize: 1024, batchSize: 256, topK: 8),
        BenchShape(name: "784x1024-b256-topk32", hiddenSize: 1024, batchSize: 256, topK: 32),
        BenchShape(name: "784x1024-b256-topk128", hiddenSize: 1024, batchSize: 256, topK: 128),
    ]

    /// The shape called `name`, or nil.
    static func named(_ name: String) -> BenchShape? {
        all.first { $0.name == name }
    }

    /// The L1 weight of the recipe: `beta · Σ|h| / B`, as config/jobs/fashion-mnist-l1.json.
    ///
    /// The mean reduction keeps the penalty's pull the same at every batch size; with `sum` and
    /// 1e-5, 784 -> 1024 at batch 256 ends with every latent dead. torch_bench.py uses the same
    /// value; change both together.
    static let l1Beta: Float = 3e-4

    /// The training options of the classic recipe for this shape: MSE, L1 with mean reduction
    /// (or top-k), Adam with torch's defaults at lr 1e-3, shuffled each epoch from `seed`.
    func options(epochs: Int, seed: UInt64) -> TrainingOptions {
        let sparsity =
            topK.map { SparsityOptions(kind: .topk, k: $0) }
            ?? SparsityOptions(kind: .l1, beta: Self.l1Beta, reduction: .mean)
        return TrainingOptions(
            epochs: epochs, batchSize: batchSize, learningRate: 1e-3, seed: seed, shuffle: true,
            sparsity: sparsity, reconstruction: .mse, optimizer: .adam)
    }

    /// A one-line description of the recipe, for the report.
    var recipe: String {
        let penalty = topK.map { "top-k \($0)" } ?? "L1 (beta \(Self.l1Beta), mean)"
        return "relu/relu, MSE, \(penalty), Adam lr 0.001"
    }
}
