import SAECore
import Testing

struct TrainingErrorTests {
    @Test func codesAreStableAndMessagesCarryTheValues() {
        let invalid = TrainingError.invalidOption(
            field: "batchSize", message: "must be at least 1, not 0")
        #expect(invalid.code == "invalid_option")
        #expect(invalid.message == "batchSize: must be at least 1, not 0")

        let width = TrainingError.widthMismatch(dataset: "validation", expected: 784, actual: 100)
        #expect(width.code == "width_mismatch")
        #expect(width.message.contains("validation") && width.message.contains("784"))
        #expect(width.message.contains("100"))

        let nonFinite = TrainingError.nonFinite(epoch: 3, step: 1201, what: "loss")
        #expect(nonFinite.code == "non_finite")
        #expect(nonFinite.message.contains("step 1201") && nonFinite.message.contains("epoch 3"))
        #expect("\(nonFinite)" == nonFinite.message)
    }
}
