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
    /// `lr`, the step size before bias correction.
    package var learningRate: Float
    /// `β1`, decay of the first moment, in [0, 1).
    package var beta1: Float
    /// `β2`, decay of the second moment, in [0, 1).
    package var beta2: Float
    /// `ε`, added to the denominator after bias correction.
    package var epsilon: Float
    /// L2 penalty folded into each gradient as `weightDecay · p`.
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
        precondition(
            parameters.count == count, "\(parameters.count) parameters, Adam holds \(count)")
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
        // One loop per combination, so each body is branch-free and the compiler vectorises it.
        // Elements are independent, so parts give the serial loop's values. The parts go to
        // both cores from 2^14 parameters (784 -> 128 has 201,616): below that the hand-off
        // costs more than it saves.
        let isDecaying = s.weightDecay != 0
        let isSmallWeight = s.beta1Weight < 0.5
        let run = { (range: Range<Int>) in
            let (p, g, m, v) = (p + range.lowerBound, g + range.lowerBound,
                                m + range.lowerBound, v + range.lowerBound)
            let count = range.count
            switch (isDecaying, isSmallWeight) {
            case (false, true): s.run(p, g, m, v, count, isDecaying: false, isSmallWeight: true)
            case (false, false): s.run(p, g, m, v, count, isDecaying: false, isSmallWeight: false)
            case (true, true): s.run(p, g, m, v, count, isDecaying: true, isSmallWeight: true)
            case (true, false): s.run(p, g, m, v, count, isDecaying: true, isSmallWeight: false)
            }
        }
        guard count >= 1 << 14 else {
            run(0..<count)
            return
        }
        SplitWorker.run(parts: 4) { part in
            run(SplitWorker.range(of: part, in: 4, covering: count, alignment: 16))
        }
    }
}

extension Adam.ElementSettings {
    /// The element loop; `isDecaying` and `isSmallWeight` are constants at each call site.
    ///
    /// torch's `lerp(m, g, w)` switches form at `w = 0.5` to stay exact at both ends.
    @inline(__always)
    func run(
        _ p: UnsafeMutablePointer<Float>,
        _ g: UnsafePointer<Float>,
        _ m: UnsafeMutablePointer<Float>,
        _ v: UnsafeMutablePointer<Float>,
        _ count: Int,
        isDecaying: Bool,
        isSmallWeight: Bool
    ) {
        for i in 0..<count {
            let gradient = isDecaying ? g[i] + weightDecay * p[i] : g[i]
            let first =
                isSmallWeight
                ? m[i] + beta1Weight * (gradient - m[i])
                : gradient - (gradient - m[i]) * (1 - beta1Weight)
            let second = v[i] * beta2 + beta2Weight * gradient * gradient
            // Mapping NaN to 0 proves the root's argument non-negative, which lets LLVM drop
            // libm's errno path and vectorise the square root (4× faster). It changes nothing
            // that matters: a NaN `v` comes from a NaN gradient, which makes `m`, and so `p`, NaN.
            let root = (second >= 0 ? second : 0).squareRoot()
            let denominator = root / correction2Root + epsilon
            m[i] = first
            v[i] = second
            p[i] -= stepSize * (first / denominator)
        }
    }
}
