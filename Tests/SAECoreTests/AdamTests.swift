import SAECore
import Testing

/// Adam against values worked by hand from torch.optim.Adam's update rule.
///
/// Tolerance: 1e-6 relative; the update runs in `Float`.
struct AdamTests {
    func expectClose(_ got: [Float], _ expected: [Double], _ note: Comment? = nil) {
        for (g, e) in zip(got, expected) {
            #expect(abs(Double(g) - e) <= 1e-6 * max(1, abs(e)), note)
        }
    }

    @Test func firstStepMovesEachParameterByTheLearningRate() {
        // Step 1: m = 0.1·g, v = 0.001·g², lr / (1 − 0.9) = 1 and √v / √0.001 = |g|,
        // so p moves by 0.1·g / (|g| + 1e-8): 0.1 against the gradient's sign, 0 where g = 0.
        var adam = Adam(parameterCount: 3, learningRate: 0.1)
        var parameters: [Float] = [1, -2, 0.5]
        adam.update(&parameters, gradients: [0.1, -0.2, 0])

        expectClose(parameters, [0.9, -1.9, 0.5])
        expectClose(adam.firstMoment, [0.01, -0.02, 0])
        expectClose(adam.secondMoment, [1e-5, 4e-5, 0])
        #expect(adam.step == 1)
    }

    @Test func secondStepAppliesBothBiasCorrections() {
        // Step 2 with g = (0.3, 0.05, −0.4): for the third value m = −0.04, v = 1.6e-4,
        // step size 0.1 / 0.19, √v / √0.001999 = 0.28290, so p = 0.5 + 0.52632·0.04 / 0.28290.
        var adam = Adam(parameterCount: 3, learningRate: 0.1)
        var parameters: [Float] = [1, -2, 0.5]
        adam.update(&parameters, gradients: [0.1, -0.2, 0])
        adam.update(&parameters, gradients: [0.3, 0.05, -0.4])

        expectClose(parameters, [0.8082219022055898, -1.8530531911004466, 0.5744136797264352])
        expectClose(adam.firstMoment, [0.039, -0.013, -0.04])
        expectClose(adam.secondMoment, [9.999e-5, 4.246e-5, 1.6e-4])
    }

    @Test func weightDecayIsAddedToTheGradient() {
        // g' = g + 0.5·p = (1.0, −0.2); the first step moves each value by lr = 0.01.
        var adam = Adam(parameterCount: 2, learningRate: 0.01, weightDecay: 0.5)
        var parameters: [Float] = [2, -1]
        let gradients: [Float] = [0, 0.3]
        adam.update(&parameters, gradients: gradients)

        expectClose(parameters, [1.9900000001, -0.9900000005])
        #expect(gradients == [0, 0.3])
    }

    @Test func longVectorsMatchElementByElementUpdates() {
        // 37 values exercise both the 8-lane body and the scalar tail; each element must get
        // exactly what a one-element optimiser gives it.
        var generator = SeededGenerator(seed: 4)
        let start = (0..<37).map { _ in generator.nextUnitFloat() - 0.5 }
        let gradients = (0..<37).map { _ in generator.nextUnitFloat() - 0.5 }
        var together = start
        var vectorAdam = Adam(parameterCount: 37, weightDecay: 0.1)
        vectorAdam.update(&together, gradients: gradients)
        vectorAdam.update(&together, gradients: gradients)

        for i in 0..<37 {
            var single = [start[i]]
            var scalarAdam = Adam(parameterCount: 1, weightDecay: 0.1)
            scalarAdam.update(&single, gradients: [gradients[i]])
            scalarAdam.update(&single, gradients: [gradients[i]])
            #expect(single[0].bitPattern == together[i].bitPattern, "element \(i)")
        }
    }

    @Test func splitVectorsMatchElementByElementUpdates() {
        // From 2^14 values the step is cut in two halves, one per core; 40,003 values put the
        // cut inside the 8-lane body and leave a scalar tail. Every element must still get
        // exactly what a one-element optimiser gives it.
        let count = 40_003
        var generator = SeededGenerator(seed: 5)
        let start = (0..<count).map { _ in generator.nextUnitFloat() - 0.5 }
        let gradients = (0..<count).map { _ in generator.nextUnitFloat() - 0.5 }
        var together = start
        var vectorAdam = Adam(parameterCount: count)
        for _ in 0..<3 { vectorAdam.update(&together, gradients: gradients) }

        var mismatches: [Int] = []
        for i in 0..<count {
            var single = [start[i]]
            var scalarAdam = Adam(parameterCount: 1)
            for _ in 0..<3 { scalarAdam.update(&single, gradients: [gradients[i]]) }
            if single[0].bitPattern != together[i].bitPattern { mismatches.append(i) }
        }
        #expect(mismatches.isEmpty, "elements differing: \(mismatches.prefix(10))")
    }

    @Test func defaultsAreTorchs() {
        let adam = Adam(parameterCount: 1)
        #expect(adam.learningRate == 1e-3 && adam.beta1 == 0.9 && adam.beta2 == 0.999)
        #expect(adam.epsilon == 1e-8 && adam.weightDecay == 0)
    }
}
