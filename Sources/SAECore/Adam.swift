import Foundation

/// The Adam optimiser with torch.optim.Adam's exact update rule (no AMSGrad, no decoupled decay).
///
/// For each parameter `p` with gradient `g`, at step `t` (1-based):
///
///     g ← g + weightDecay · p                       (only when weightDecay ≠ 0)
///     m ← m + (1 − β1) · (g − m)                    (torch's lerp towards g)
///     v ← β2 · v + (1 − β2) · g · g
///     p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
///
/// The bias corrections are computed in `Double`, as Python does, and the element-wise update in
/// `Float`. The moments are plain arrays so a checkpoint can save and restore them.
package struct Adam: Sendable, Equatable {
    package var learningRate: Float
    package var beta1: Float
    package var beta2: Float
    package var epsilon: Float
    package var weightDecay: Float
    /// Updates taken so far; the next one is step `step + 1`.
    package var step: Int
    /// The running mean of gradients (`m`, torch's `exp_avg`).
    package var firstMoment: [Float]
    /// The running mean of squared gradients (`v`, torch's `exp_avg_sq`).
    package var secondMoment: [Float]

    /// An optimiser for `parameterCount` values with torch's defaults and zeroed moments.
    package init(
        parameterCount: Int,
        learningRate: Float = 1e-3,
        beta1: Float = 0.9,
        beta2: Float = 0.999,
        epsilon: Float = 1e-8,
        weightDecay: Float = 0
    ) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.step = 0
        self.firstMoment = [Float](repeating: 0, count: parameterCount)
        self.secondMoment = [Float](repeating: 0, count: parameterCount)
    }

    /// Takes one step: updates `parameters` in place from `gradients` (same count as the moments).
    ///
    /// `gradients` is not modified. Allocates nothing while the moments are uniquely held.
    package mutating func update(
        _ parameters: UnsafeMutableBufferPointer<Float>,
        gradients: UnsafeBufferPointer<Float>
    ) {
        let count = firstMoment.count
        precondition(parameters.count == count, "\(parameters.count) parameters, Adam holds \(count)")
        precondition(gradients.count == count, "\(gradients.count) gradients, Adam holds \(count)")
        if count == 0 { return }
        step += 1

        let t = Double(step)
        let stepSize = Float(Double(learningRate) / (1 - pow(Double(beta1), t)))
        let correction2Root = Float((1 - pow(Double(beta2), t)).squareRoot())
        let settings = ElementSettings(
            weightDecay: weightDecay, beta1Weight: 1 - beta1, beta2: beta2,
            beta2Weight: 1 - beta2, epsilon: epsilon, stepSize: stepSize,
            correction2Root: correction2Root)
        firstMoment.withUnsafeMutableBufferPointer { m in
            secondMoment.withUnsafeMutableBufferPointer { v in
                // safe: count > 0, so none of the four buffers is empty
                Self.update(
                    p: parameters.baseAddress!, g: gradients.baseAddress!, m: m.baseAddress!,
                    v: v.baseAddress!, count: count, settings: settings)
            }
        }
    }

    /// Array form of ``update(_:gradients:)``, for tests and small models.
    package mutating func update(_ parameters: inout [Float], gradients: [Float]) {
        gradients.withUnsafeBufferPointer { gradients in
            parameters.withUnsafeMutableBufferPointer { parameters in
                update(parameters, gradients: gradients)
            }
        }
    }

    fileprivate struct ElementSettings {
        var weightDecay: Float
        var beta1Weight: Float
        var beta2: Float
        var beta2Weight: Float
        var epsilon: Float
        var stepSize: Float
        var correction2Root: Float
    }

    private static func update(
        p: UnsafeMutablePointer<Float>,
        g: UnsafePointer<Float>,
        m: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>,
        count: Int,
        settings s: ElementSettings
    ) {
        // Eight lanes at a time, written with SIMD types so the loop vectorises whatever the
        // optimiser decides; the scalar tail runs the same operations in the same order, so
        // every element gets the identical IEEE result either way.
        typealias Lanes = SIMD8<Float>
        let width = Lanes.scalarCount
        var i = 0
        while i + width <= count {
            var gradient = UnsafeRawPointer(g + i).loadUnaligned(as: Lanes.self)
            var parameter = UnsafeRawPointer(p + i).loadUnaligned(as: Lanes.self)
            var first = UnsafeRawPointer(m + i).loadUnaligned(as: Lanes.self)
            var second = UnsafeRawPointer(v + i).loadUnaligned(as: Lanes.self)
            if s.weightDecay != 0 { gradient += s.weightDecay * parameter }
            first = s.lerp(first, towards: gradient)
            second = second * s.beta2 + s.beta2Weight * gradient * gradient
            let denominator = second.squareRoot() / s.correction2Root + s.epsilon
            parameter -= s.stepSize * (first / denominator)
            UnsafeMutableRawPointer(p + i).storeBytes(of: parameter, as: Lanes.self)
            UnsafeMutableRawPointer(m + i).storeBytes(of: first, as: Lanes.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: second, as: Lanes.self)
            i += width
        }
        while i < count {
            var gradient = g[i]
            if s.weightDecay != 0 { gradient += s.weightDecay * p[i] }
            m[i] = s.lerp(m[i], towards: gradient)
            v[i] = v[i] * s.beta2 + s.beta2Weight * gradient * gradient
            let denominator = v[i].squareRoot() / s.correction2Root + s.epsilon
            p[i] -= s.stepSize * (m[i] / denominator)
            i += 1
        }
    }
}

extension Adam.ElementSettings {
    /// torch's `lerp(m, g, w)`, which switches form at `w = 0.5` to stay exact at both ends.
    @inline(__always)
    func lerp<V: SIMD>(_ m: V, towards g: V) -> V where V.Scalar == Float {
        beta1Weight < 0.5 ? m + beta1Weight * (g - m) : g - (g - m) * (1 - beta1Weight)
    }

    @inline(__always)
    func lerp(_ m: Float, towards g: Float) -> Float {
        beta1Weight < 0.5 ? m + beta1Weight * (g - m) : g - (g - m) * (1 - beta1Weight)
    }
}
