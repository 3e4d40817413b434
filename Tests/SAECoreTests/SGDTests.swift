import SAECore
import Testing

/// SGD against values worked by hand from torch.optim.SGD's update rule.
struct SGDTests {
    @Test func plainStepSubtractsLearningRateTimesGradient() {
        var sgd = SGD(parameterCount: 2, learningRate: 0.5)
        var parameters: [Float] = [1, -1]
        sgd.update(&parameters, gradients: [0.25, 2])
        #expect(parameters == [0.875, -2])
    }

    @Test func momentumBufferStartsAtTheGradientThenAccumulates() {
        // b1 = g1 = 1; b2 = 0.9·1 + (1 − 0.5)·2 = 1.9; p = 0 − 0.1·1 − 0.1·1.9 = −0.29.
        var sgd = SGD(parameterCount: 1, learningRate: 0.1, momentum: 0.9, dampening: 0.5)
        var parameters: [Float] = [0]
        sgd.update(&parameters, gradients: [1])
        #expect(sgd.momentumBuffer == [1])
        sgd.update(&parameters, gradients: [2])
        #expect(abs(sgd.momentumBuffer[0] - 1.9) < 1e-6)
        #expect(abs(parameters[0] + 0.29) < 1e-6)
    }

    @Test func nesterovLooksAheadAndWeightDecayAddsToTheGradient() {
        // g = 1 + 0.1·2 = 1.2; b = 1.2; step direction g + 0.9·b = 2.28; p = 2 − 0.1·2.28.
        var sgd = SGD(
            parameterCount: 1, learningRate: 0.1, momentum: 0.9, weightDecay: 0.1,
            isNesterov: true)
        var parameters: [Float] = [2]
        sgd.update(&parameters, gradients: [1])
        #expect(abs(parameters[0] - 1.772) < 1e-6)
    }
}
