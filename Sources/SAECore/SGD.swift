/// Stochastic gradient descent with torch.optim.SGD's update rule.
///
/// For each parameter `p` with gradient `g`:
///
///     g ← g + weightDecay · p                        (only when weightDecay ≠ 0)
///     b ← g on the first step, else momentum · b + (1 − dampening) · g
///     g ← g + momentum · b (Nesterov) or b           (only when momentum ≠ 0)
///     p ← p − lr · g
package struct SGD: Sendable, Equatable {
    /// `lr`, the step size.
    package var learningRate: Float
    /// Weight of the previous momentum buffer; 0 turns momentum off.
    package var momentum: Float
    /// Fraction of each new gradient left out of the momentum buffer.
    package var dampening: Float
    /// L2 penalty folded into each gradient as `weightDecay · p`.
    package var weightDecay: Float
    /// Whether the step looks ahead along the momentum (Nesterov).
    package var isNesterov: Bool
    /// Updates taken so far.
    package var step: Int
    /// The momentum buffer `b` (empty when momentum is 0).
    package var momentumBuffer: [Float]

    /// An optimiser for `parameterCount` values; the momentum buffer starts empty.
    package init(
        parameterCount: Int,
        learningRate: Float,
        momentum: Float = 0,
        dampening: Float = 0,
        weightDecay: Float = 0,
        isNesterov: Bool = false
    ) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.isNesterov = isNesterov
        self.step = 0
        self.momentumBuffer = [Float](repeating: 0, count: momentum == 0 ? 0 : parameterCount)
    }

    /// Takes one step: updates `parameters` in place from `gradients` (same count).
    ///
    /// `gradients` is not modified. Allocates nothing while the buffer is uniquely held.
    package mutating func update(
        _ parameters: UnsafeMutableBufferPointer<Float>,
        gradients: UnsafeBufferPointer<Float>
    ) {
        let count = parameters.count
        precondition(
            gradients.count == count, "\(gradients.count) gradients for \(count) parameters")
        precondition(
            momentum == 0 || momentumBuffer.count == count,
            "momentum buffer holds \(momentumBuffer.count) values for \(count) parameters")
        let isFirstStep = step == 0
        step += 1
        let (lr, decay, mu, keep) = (learningRate, weightDecay, momentum, 1 - dampening)

        if mu == 0 {
            for i in 0..<count {
                let g = decay == 0 ? gradients[i] : gradients[i] + decay * parameters[i]
                parameters[i] -= lr * g
            }
            return
        }
        let nesterov = isNesterov
        momentumBuffer.withUnsafeMutableBufferPointer { buffer in
            for i in 0..<count {
                let g = decay == 0 ? gradients[i] : gradients[i] + decay * parameters[i]
                buffer[i] = isFirstStep ? g : buffer[i] * mu + keep * g
                let direction = nesterov ? g + mu * buffer[i] : buffer[i]
                parameters[i] -= lr * direction
            }
        }
    }

    /// Array form of ``update(_:gradients:)``.
    package mutating func update(_ parameters: inout [Float], gradients: [Float]) {
        gradients.withUnsafeBufferPointer { gradients in
            parameters.withUnsafeMutableBufferPointer { parameters in
                update(parameters, gradients: gradients)
            }
        }
    }
}
