import Testing

@testable import SAECore
@testable import SAEService

/// A job's memory estimate (`max_training_memory_bytes`, 422 `job_too_large`) must cover what
/// the trainer really allocates for its batch: the workspace's buffers and the gathered batch.
struct TrainingMemoryEstimateTests {
    static let specs = [
        #"{"dataset": "fashion-mnist"}"#,
        #"{"dataset": "fashion-mnist", "sparsity": {"kind": "none"}, "model": {"subtract_decoder_bias": true}}"#,
        #"{"dataset": "fashion-mnist", "sparsity": {"kind": "topk", "k": 16}}"#,
        #"{"dataset": "fashion-mnist", "sparsity": {"kind": "batchtopk", "k": 16}, "model": {"tied_weights": true}}"#,
        #"{"dataset": "fashion-mnist", "sparsity": {"kind": "topk", "k": 8, "aux_k": 64}}"#,
        #"{"dataset": "fashion-mnist", "model": {"activation": "sigmoid"}, "sparsity": {"kind": "kl", "beta": 3, "rho": 0.05}}"#,
        #"{"dataset": "fashion-mnist", "model": {"activation": "identity"}, "batch_size": 7}"#,
    ]

    @Test(arguments: specs)
    func theEstimateCoversTheBatchBuffers(_ text: String) throws {
        let spec = try JobSpecTests.parse(text)
        let inputSize = 784
        let config = spec.modelConfig(inputSize: inputSize)
        let batch = spec.options.batchSize
        let workspace = TrainingWorkspace(
            config: config, objective: Objective(config: config, options: spec.options), capacity: batch)
        let parameters = Double(2 * inputSize * spec.hiddenSize + inputSize + spec.hiddenSize)
        let estimatedBatch = spec.estimatedTrainingBytes(inputWidth: inputSize, rows: 60_000) - 20 * parameters
        // The trainer's own gathered batch comes on top of the workspace.
        let allocated = Double(workspace.allocatedBytes + 4 * batch * inputSize)
        #expect(estimatedBatch >= allocated, "estimate \(estimatedBatch) bytes, allocated \(allocated)")
        // And not wildly above it: within a tenth.
        #expect(estimatedBatch <= 1.1 * allocated, "estimate \(estimatedBatch) bytes, allocated \(allocated)")
    }
}
